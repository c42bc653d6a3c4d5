// Linear matter power spectrum at z = 0, P(k) = A k^n_s T^2(k), normalised to sigma_8.
#pragma once

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/cosmology/transfer.h"
#include "diffuscope/registries.h"

namespace ds {

// Fourier transform of the real-space top-hat window, W(x) = 3 (sin x - x cos x) / x^3.
double top_hat_window(double x);

class LinearPowerSpectrum {
 public:
  // Validates the cosmology (Cosmology::validate; the prior box is the caller's business) and
  // fixes the amplitude A so that sigma_r(8 Mpc/h) = cosmology.sigma_8.
  explicit LinearPowerSpectrum(const Cosmology& cosmology,
                               TransferFunction transfer = TransferFunction::Eh98);

  // P(k) in (Mpc/h)^3 for k in h/Mpc; 0 for k <= 0.
  double operator()(double k) const;

  // T(k), dimensionless; k in h/Mpc.
  double transfer(double k) const { return transfer_(k); }

  // RMS of the linear density field in spheres of radius R (Mpc/h):
  //   sigma^2(R) = 1/(2 pi^2) \int dln k k^3 P(k) W^2(kR),
  // by composite 8-point Gauss-Legendre panels in ln k. `refinement` multiplies the number of
  // panels (1 is the default quadrature, within 1e-7 of the converged value for R in
  // [1, 30] Mpc/h over the prior box; tests double it to check this).
  double sigma_r(double radius, int refinement = 1) const;

  const Cosmology& cosmology() const { return cosmology_; }
  TransferFunction transfer_function() const { return transfer_.kind(); }
  double amplitude() const { return amplitude_; }

 private:
  double unnormalised(double k) const;
  double sigma_r_unnormalised(double radius, int refinement) const;

  Cosmology cosmology_;
  TransferFunctionModel transfer_;
  double amplitude_ = 1.0;
};

}  // namespace ds
