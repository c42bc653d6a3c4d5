#include "stats/fft2d.h"

#include <map>
#include <mutex>
#include <new>

namespace ds::detail {

std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

RealFft2d::RealFft2d(int n) : n_(n) {
  real_ = fftw_alloc_real(std::size_t(n) * n);
  complex_ = fftw_alloc_complex(std::size_t(n) * (n / 2 + 1));
  if (!real_ || !complex_) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(planner_mutex());
  // FFTW_ESTIMATE: deterministic plans (no timing-dependent algorithm choice), so results are
  // bit-identical run to run.
  forward_ = fftw_plan_dft_r2c_2d(n, n, real_, complex_, FFTW_ESTIMATE);
  backward_ = fftw_plan_dft_c2r_2d(n, n, complex_, real_, FFTW_ESTIMATE);
}

RealFft2d::~RealFft2d() {
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftw_destroy_plan(forward_);
    fftw_destroy_plan(backward_);
  }
  fftw_free(real_);
  fftw_free(complex_);
}

RealFft2d& RealFft2d::for_this_thread(int n) {
  thread_local std::map<int, std::unique_ptr<RealFft2d>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<RealFft2d>(n);
  return *slot;
}

void RealFft2d::forward() {
  fftw_execute(forward_);
}
void RealFft2d::backward() {
  fftw_execute(backward_);
}

}  // namespace ds::detail
