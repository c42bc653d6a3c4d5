// Core's one FFT layer (private to core): reusable FFTW plans for real transforms of one size in
// 1, 2 or 3 dimensions (the diagnostics' autocovariances, 2D fields, 3D meshes). FFTW's planner is
// not thread-safe, so every plan in core is made and destroyed under one lock; executing a plan
// is thread-safe. Plans use FFTW_ESTIMATE: no timing-dependent algorithm choice, so results are
// bit-identical run to run.
#pragma once

#include <fftw3.h>

#include <complex>
#include <cstddef>
#include <mutex>

namespace ds::detail {

// The one lock around FFTW's planner.
std::mutex& planner_mutex();

// Rank 1: n values; 2: n x n, row-major; 3: n^3 in C order. The complex half-spectrum has
// n^(Rank-1) * (n/2 + 1) entries (the last axis halved).
template <int Rank>
class RealFft {
  static_assert(Rank >= 1 && Rank <= 3, "1D, 2D or 3D");

 public:
  explicit RealFft(int n);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  // A transform owned by the calling thread and kept for its lifetime: plans and buffers are made
  // once per size and thread, then reused.
  static RealFft& for_this_thread(int n);

  int n() const { return n_; }
  int half() const { return n_ / 2 + 1; }  // complex entries along the last axis
  std::size_t real_size() const;           // n^Rank
  std::size_t complex_size() const;        // n^(Rank-1) * (n/2 + 1)

  double* real() { return real_; }
  std::complex<double>* complex() { return reinterpret_cast<std::complex<double>*>(complex_); }

  void forward();   // real -> complex, unnormalised
  void backward();  // complex -> real, unnormalised (scale by 1/n^Rank to invert); destroys complex

 private:
  int n_;
  double* real_ = nullptr;
  fftw_complex* complex_ = nullptr;
  fftw_plan forward_ = nullptr, backward_ = nullptr;
};

using RealFft1d = RealFft<1>;
using RealFft2d = RealFft<2>;
using RealFft3d = RealFft<3>;

extern template class RealFft<1>;
extern template class RealFft<2>;
extern template class RealFft<3>;

}  // namespace ds::detail
