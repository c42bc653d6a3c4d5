#include "diffuscope/cosmology/linear_power.h"

#include <array>
#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "numerics/quadrature.h"

namespace ds {

double top_hat_window(double x) {
  if (std::abs(x) < 1e-3) {
    const double x2 = x * x;
    return 1.0 - x2 / 10.0 + x2 * x2 / 280.0;
  }
  return 3.0 * (std::sin(x) - x * std::cos(x)) / (x * x * x);
}

LinearPowerSpectrum::LinearPowerSpectrum(const Cosmology& cosmology, TransferFunction transfer)
    : cosmology_(cosmology), transfer_(cosmology, transfer) {
  const double s8 = sigma_r_unnormalised(8.0, 1);
  amplitude_ = cosmology_.sigma_8 * cosmology_.sigma_8 / (s8 * s8);
}

double LinearPowerSpectrum::unnormalised(double k) const {
  const double t = transfer_(k);
  return std::pow(k, cosmology_.n_s) * t * t;
}

double LinearPowerSpectrum::operator()(double k) const {
  return k > 0.0 ? amplitude_ * unnormalised(k) : 0.0;
}

double LinearPowerSpectrum::sigma_r_unnormalised(double radius, int refinement) const {
  if (!(radius > 0.0) || !std::isfinite(radius))
    throw InvalidArgument("sigma(R): radius " + std::to_string(radius) + " must be positive");
  if (refinement < 1) throw InvalidArgument("sigma(R): refinement must be at least 1");
  // The integrand in ln k rises as k^(3+n_s) below the turnover (1e-14 of its peak at k = 1e-5
  // h/Mpc) and falls as (kR)^-4 beyond kR ~ 1 (1e-12 of the total past kR = 500). Panels of 0.1
  // in ln k resolve the BAO wiggles (period ~0.6 in ln k at k = 0.1 h/Mpc) and the oscillations
  // of W^2 (period pi / (kR) in ln k) wherever they carry weight.
  const double ln_lo = std::log(1e-5), ln_hi = std::log(500.0 / radius);
  const int panels = refinement * int(std::ceil((ln_hi - ln_lo) / 0.1));
  const double integral = detail::gauss_legendre_panels(ln_lo, ln_hi, panels, [&](double ln_k) {
    const double k = std::exp(ln_k);
    const double w = top_hat_window(k * radius);
    return k * k * k * unnormalised(k) * w * w;
  });
  return std::sqrt(integral / (2.0 * M_PI * M_PI));
}

double LinearPowerSpectrum::sigma_r(double radius, int refinement) const {
  return std::sqrt(amplitude_) * sigma_r_unnormalised(radius, refinement);
}

}  // namespace ds
