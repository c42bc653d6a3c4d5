// Reusable FFTW plans for square real 2D transforms (private to core). FFTW's planner is not
// thread-safe, so plans are made under a global lock; executing them is.
#pragma once

#include <fftw3.h>

#include <complex>
#include <memory>
#include <mutex>

namespace ds::detail {

// The one lock around FFTW's planner for every transform in core (2D and 3D).
std::mutex& planner_mutex();

class RealFft2d {
 public:
  explicit RealFft2d(int n);

  // A transform owned by the calling thread and kept for its lifetime: plans and buffers are
  // made once per size and thread, then reused.
  static RealFft2d& for_this_thread(int n);
  ~RealFft2d();
  RealFft2d(const RealFft2d&) = delete;
  RealFft2d& operator=(const RealFft2d&) = delete;

  int n() const { return n_; }
  int half() const { return n_ / 2 + 1; }  // complex columns of the half plane

  // Real buffer, n * n, row-major; complex buffer, n * (n/2 + 1).
  double* real() { return real_; }
  std::complex<double>* complex() { return reinterpret_cast<std::complex<double>*>(complex_); }

  void forward();   // real -> complex, unnormalised
  void backward();  // complex -> real, unnormalised (scale by 1/n^2 to invert); destroys complex

 private:
  int n_;
  double* real_;
  fftw_complex* complex_;
  fftw_plan forward_, backward_;
};

}  // namespace ds::detail
