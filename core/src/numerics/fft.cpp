#include "numerics/fft.h"

#include <map>
#include <memory>
#include <new>

namespace ds::detail {

std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

template <int Rank>
std::size_t RealFft<Rank>::real_size() const {
  std::size_t size = 1;
  for (int d = 0; d < Rank; ++d) size *= std::size_t(n_);
  return size;
}

template <int Rank>
std::size_t RealFft<Rank>::complex_size() const {
  return real_size() / std::size_t(n_) * std::size_t(half());
}

template <int Rank>
RealFft<Rank>::RealFft(int n) : n_(n) {
  real_ = fftw_alloc_real(real_size());
  complex_ = fftw_alloc_complex(complex_size());
  if (!real_ || !complex_) {
    fftw_free(real_);
    fftw_free(complex_);
    throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lock(planner_mutex());
  if constexpr (Rank == 1) {
    forward_ = fftw_plan_dft_r2c_1d(n, real_, complex_, FFTW_ESTIMATE);
    backward_ = fftw_plan_dft_c2r_1d(n, complex_, real_, FFTW_ESTIMATE);
  } else if constexpr (Rank == 2) {
    forward_ = fftw_plan_dft_r2c_2d(n, n, real_, complex_, FFTW_ESTIMATE);
    backward_ = fftw_plan_dft_c2r_2d(n, n, complex_, real_, FFTW_ESTIMATE);
  } else {
    forward_ = fftw_plan_dft_r2c_3d(n, n, n, real_, complex_, FFTW_ESTIMATE);
    backward_ = fftw_plan_dft_c2r_3d(n, n, n, complex_, real_, FFTW_ESTIMATE);
  }
}

template <int Rank>
RealFft<Rank>::~RealFft() {
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftw_destroy_plan(forward_);
    fftw_destroy_plan(backward_);
  }
  fftw_free(real_);
  fftw_free(complex_);
}

template <int Rank>
RealFft<Rank>& RealFft<Rank>::for_this_thread(int n) {
  thread_local std::map<int, std::unique_ptr<RealFft>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<RealFft>(n);
  return *slot;
}

template <int Rank>
void RealFft<Rank>::forward() {
  fftw_execute(forward_);
}

template <int Rank>
void RealFft<Rank>::backward() {
  fftw_execute(backward_);
}

template class RealFft<1>;
template class RealFft<2>;
template class RealFft<3>;

}  // namespace ds::detail
