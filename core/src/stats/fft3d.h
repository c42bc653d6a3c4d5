// Reusable FFTW plans for cubic real 3D transforms (private to core), the 3D sibling of
// fft2d.h. Plans are made under the planner lock of fft2d.cpp; executing them is thread-safe.
#pragma once

#include <fftw3.h>

#include <complex>
#include <cstddef>

namespace ds::detail {

class RealFft3d {
 public:
  explicit RealFft3d(int n);

  // A transform owned by the calling thread and kept for its lifetime (one per size).
  static RealFft3d& for_this_thread(int n);
  ~RealFft3d();
  RealFft3d(const RealFft3d&) = delete;
  RealFft3d& operator=(const RealFft3d&) = delete;

  int n() const { return n_; }
  int half() const { return n_ / 2 + 1; }  // complex entries along the last axis

  // Real buffer n^3 in C order; complex buffer n * n * (n/2 + 1).
  double* real() { return real_; }
  std::complex<double>* complex() { return reinterpret_cast<std::complex<double>*>(complex_); }
  std::size_t real_size() const { return std::size_t(n_) * n_ * n_; }

  void forward();   // real -> complex, unnormalised
  void backward();  // complex -> real, unnormalised (scale by 1/n^3 to invert); destroys complex

 private:
  int n_;
  double* real_;
  fftw_complex* complex_;
  fftw_plan forward_, backward_;
};

}  // namespace ds::detail
