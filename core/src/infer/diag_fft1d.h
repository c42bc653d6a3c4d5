// Reusable FFTW plans for 1D real transforms of one length (private to core/infer): the
// autocovariances of the diagnostics. Planning goes through the one planner lock of core
// (stats/fft2d.h); executing a plan is thread-safe.
#pragma once

#include <fftw3.h>

#include <complex>

namespace ds::detail {

class DiagRealFft1d {
 public:
  explicit DiagRealFft1d(int n);
  ~DiagRealFft1d();
  DiagRealFft1d(const DiagRealFft1d&) = delete;
  DiagRealFft1d& operator=(const DiagRealFft1d&) = delete;

  // One transform per length and thread, made on first use and kept for the thread's lifetime.
  static DiagRealFft1d& for_this_thread(int n);

  int n() const { return n_; }
  double* real() { return real_; }   // n values
  std::complex<double>* complex() {  // n / 2 + 1 values
    return reinterpret_cast<std::complex<double>*>(complex_);
  }
  void forward();   // real -> complex, unnormalised
  void backward();  // complex -> real, unnormalised (divide by n to invert); destroys complex

 private:
  int n_;
  double* real_;
  fftw_complex* complex_;
  fftw_plan forward_, backward_;
};

}  // namespace ds::detail
