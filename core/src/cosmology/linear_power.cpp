#include "diffuscope/cosmology/linear_power.h"

#include <cmath>

namespace ds {

double eisenstein_hu_nowiggle_transfer(double k_h_mpc, const Cosmology& c) {
  const double theta = c.t_cmb / 2.7;
  const double om_h2 = c.omega_m * c.h * c.h;
  const double ob_h2 = c.omega_b * c.h * c.h;
  const double f_b = c.omega_b / c.omega_m;
  // Sound horizon fit (EH98 eq. 26), Mpc.
  const double s = 44.5 * std::log(9.83 / om_h2) / std::sqrt(1.0 + 10.0 * std::pow(ob_h2, 0.75));
  // Baryon suppression of the shape parameter (eqs. 30-31).
  const double alpha =
      1.0 - 0.328 * std::log(431.0 * om_h2) * f_b + 0.38 * std::log(22.3 * om_h2) * f_b * f_b;
  const double k_mpc = k_h_mpc * c.h;
  const double ks = 0.43 * k_mpc * s;
  const double gamma_eff = c.omega_m * c.h * (alpha + (1.0 - alpha) / (1.0 + ks * ks * ks * ks));
  const double q = k_h_mpc * theta * theta / gamma_eff;  // eq. 28
  const double l0 = std::log(2.0 * M_E + 1.8 * q);
  const double c0 = 14.2 + 731.0 / (1.0 + 62.5 * q);
  return l0 / (l0 + c0 * q * q);
}

double top_hat_window(double x) {
  if (std::abs(x) < 1e-3) {
    const double x2 = x * x;
    return 1.0 - x2 / 10.0 + x2 * x2 / 280.0;
  }
  return 3.0 * (std::sin(x) - x * std::cos(x)) / (x * x * x);
}

LinearPowerSpectrum::LinearPowerSpectrum(const Cosmology& cosmology) : cosmology_(cosmology) {
  cosmology_.validate();
  const double s8 = sigma_r_unnormalised(8.0);
  amplitude_ = cosmology_.sigma_8 * cosmology_.sigma_8 / (s8 * s8);
}

double LinearPowerSpectrum::unnormalised(double k) const {
  const double t = eisenstein_hu_nowiggle_transfer(k, cosmology_);
  return std::pow(k, cosmology_.n_s) * t * t;
}

double LinearPowerSpectrum::operator()(double k) const {
  return k > 0.0 ? amplitude_ * unnormalised(k) : 0.0;
}

double LinearPowerSpectrum::sigma_r_unnormalised(double radius) const {
  // sigma^2(R) = 1/(2 pi^2) \int k^3 P(k) W^2(kR) dln k, composite Simpson in ln k. The window
  // cuts the integrand off beyond kR ~ 100 and k^(3+n_s) kills it below k ~ 1e-5, so 8192
  // intervals over this range give ~1e-9 relative accuracy.
  const double ln_lo = std::log(1e-6), ln_hi = std::log(2e3 / radius);
  const int intervals = 8192;
  const double h = (ln_hi - ln_lo) / intervals;
  double sum = 0.0;
  for (int i = 0; i <= intervals; ++i) {
    const double k = std::exp(ln_lo + i * h);
    const double w = top_hat_window(k * radius);
    const double f = k * k * k * unnormalised(k) * w * w;
    const double weight = (i == 0 || i == intervals) ? 1.0 : (i % 2 ? 4.0 : 2.0);
    sum += weight * f;
  }
  return std::sqrt(sum * h / 3.0 / (2.0 * M_PI * M_PI));
}

double LinearPowerSpectrum::sigma_r(double radius) const {
  return std::sqrt(amplitude_) * sigma_r_unnormalised(radius);
}

}  // namespace ds
