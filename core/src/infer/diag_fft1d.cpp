#include "infer/diag_fft1d.h"

#include <map>
#include <memory>
#include <mutex>
#include <new>

#include "stats/fft2d.h"

namespace ds::detail {

DiagRealFft1d::DiagRealFft1d(int n) : n_(n) {
  real_ = fftw_alloc_real(std::size_t(n));
  complex_ = fftw_alloc_complex(std::size_t(n / 2 + 1));
  if (!real_ || !complex_) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(planner_mutex());
  // FFTW_ESTIMATE: the plan does not depend on timings, so results are identical run to run.
  forward_ = fftw_plan_dft_r2c_1d(n, real_, complex_, FFTW_ESTIMATE);
  backward_ = fftw_plan_dft_c2r_1d(n, complex_, real_, FFTW_ESTIMATE);
}

DiagRealFft1d::~DiagRealFft1d() {
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftw_destroy_plan(forward_);
    fftw_destroy_plan(backward_);
  }
  fftw_free(real_);
  fftw_free(complex_);
}

DiagRealFft1d& DiagRealFft1d::for_this_thread(int n) {
  thread_local std::map<int, std::unique_ptr<DiagRealFft1d>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<DiagRealFft1d>(n);
  return *slot;
}

void DiagRealFft1d::forward() {
  fftw_execute(forward_);
}
void DiagRealFft1d::backward() {
  fftw_execute(backward_);
}

}  // namespace ds::detail
