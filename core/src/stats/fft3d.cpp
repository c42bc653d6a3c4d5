#include "stats/fft3d.h"

#include <map>
#include <memory>
#include <mutex>
#include <new>

#include "stats/fft2d.h"

namespace ds::detail {

RealFft3d::RealFft3d(int n) : n_(n) {
  real_ = fftw_alloc_real(std::size_t(n) * n * n);
  complex_ = fftw_alloc_complex(std::size_t(n) * n * (n / 2 + 1));
  if (!real_ || !complex_) {
    fftw_free(real_);
    fftw_free(complex_);
    throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lock(planner_mutex());
  // FFTW_ESTIMATE: deterministic plans, so results are bit-identical run to run.
  forward_ = fftw_plan_dft_r2c_3d(n, n, n, real_, complex_, FFTW_ESTIMATE);
  backward_ = fftw_plan_dft_c2r_3d(n, n, n, complex_, real_, FFTW_ESTIMATE);
}

RealFft3d::~RealFft3d() {
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftw_destroy_plan(forward_);
    fftw_destroy_plan(backward_);
  }
  fftw_free(real_);
  fftw_free(complex_);
}

RealFft3d& RealFft3d::for_this_thread(int n) {
  thread_local std::map<int, std::unique_ptr<RealFft3d>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<RealFft3d>(n);
  return *slot;
}

void RealFft3d::forward() {
  fftw_execute(forward_);
}
void RealFft3d::backward() {
  fftw_execute(backward_);
}

}  // namespace ds::detail
