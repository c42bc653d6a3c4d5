// Linear matter power spectrum at z = 0, normalised to sigma_8.
#pragma once

#include <vector>

#include "diffuscope/cosmology/cosmology.h"

namespace ds {

// Transfer function: Eisenstein & Hu (1998) no-wiggle form (their eqs. 26-31), zero-baryon-
// oscillation shape with baryon suppression. The full form with wiggles arrives with the
// cosmology issue.
double eisenstein_hu_nowiggle_transfer(double k_h_mpc, const Cosmology& cosmology);

// Fourier transform of the real-space top-hat window, W(x) = 3 (sin x - x cos x) / x^3.
double top_hat_window(double x);

class LinearPowerSpectrum {
 public:
  explicit LinearPowerSpectrum(const Cosmology& cosmology);

  // P(k) in (Mpc/h)^3 for k in h/Mpc.
  double operator()(double k) const;

  // RMS of the linear density field in spheres of radius R (Mpc/h).
  double sigma_r(double radius) const;

  const Cosmology& cosmology() const { return cosmology_; }
  double amplitude() const { return amplitude_; }

 private:
  double unnormalised(double k) const;
  double sigma_r_unnormalised(double radius) const;

  Cosmology cosmology_;
  double amplitude_ = 1.0;
};

}  // namespace ds
