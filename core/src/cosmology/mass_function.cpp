#include "diffuscope/cosmology/mass_function.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffuscope/error.h"

namespace ds {

namespace {

constexpr double kLog10MassMin = 10.0, kLog10MassMax = 16.5, kLog10Step = 0.02;

// Derivative of the top-hat window W(x) = 3 (sin x - x cos x)/x^3: W' = 3 sin x / x^2 - 3 W / x,
// with its series below x = 1e-2 where the two terms cancel.
double top_hat_window_derivative(double x, double w, double sin_x) {
  if (x < 1e-2) return -x / 5.0 + x * x * x / 70.0;
  return 3.0 * sin_x / (x * x) - 3.0 * w / x;
}

// Integral over [x0, x0 + h] of a function known at both ends, interpolated as an exponential
// (exact for the exponential tails of mass functions).
double exponential_segment(double y0, double y1, double h) {
  if (y0 <= 0.0 || y1 <= 0.0) return 0.5 * h * (y0 + y1);
  const double r = std::log(y1 / y0);
  return std::abs(r) < 1e-8 ? h * y0 : h * (y1 - y0) / r;
}

}  // namespace

double mean_matter_density(const Cosmology& cosmology) {
  return kCriticalDensity * cosmology.omega_m;
}

double lagrangian_radius(double mass, const Cosmology& cosmology) {
  return std::cbrt(3.0 * mass / (4.0 * M_PI * mean_matter_density(cosmology)));
}

double tinker08_multiplicity(double sigma) {
  const double A = 0.186, a = 1.47, b = 2.57, c = 1.19;
  return A * (std::pow(sigma / b, -a) + 1.0) * std::exp(-c / (sigma * sigma));
}

double sheth_tormen_multiplicity(double sigma) {
  const double A = 0.3222, a = 0.707, p = 0.3;
  const double nu = kCollapseThreshold / sigma, a_nu2 = a * nu * nu;
  return A * std::sqrt(2.0 * a / M_PI) * (1.0 + std::pow(a_nu2, -p)) * nu * std::exp(-0.5 * a_nu2);
}

double tinker10_bias(double sigma) {
  const double y = std::log10(200.0), damping = std::exp(-std::pow(4.0 / y, 4.0));
  const double A = 1.0 + 0.24 * y * damping, a = 0.44 * y - 0.88;
  const double B = 0.183, b = 1.5;
  const double C = 0.019 + 0.107 * y + 0.19 * damping, c = 2.4;
  const double nu = kCollapseThreshold / sigma, dc = kCollapseThreshold;
  const double nu_a = std::pow(nu, a);
  return 1.0 - A * nu_a / (nu_a + std::pow(dc, a)) + B * std::pow(nu, b) + C * std::pow(nu, c);
}

double sheth_tormen_bias(double sigma) {
  const double a = 0.707, p = 0.3, dc = kCollapseThreshold;
  const double a_nu2 = a * (dc / sigma) * (dc / sigma);
  return 1.0 + (a_nu2 - 1.0) / dc + 2.0 * p / (dc * (1.0 + std::pow(a_nu2, p)));
}

HaloMassFunction::HaloMassFunction(const LinearPowerSpectrum& linear, MassFunctionModel model)
    : cosmology_(linear.cosmology()), model_(model) {
  const int points = int(std::lround((kLog10MassMax - kLog10MassMin) / kLog10Step)) + 1;
  ln_m_min_ = kLog10MassMin * M_LN10;
  dln_m_ = kLog10Step * M_LN10;
  const double rho_m = mean_matter_density(cosmology_);

  // sigma^2(R) = 1/(2 pi^2) \int k^3 P W^2(kR) dln k and its R derivative on one ln k grid shared
  // by every mass: P is evaluated once. Composite Simpson; the grid spans the range that
  // LinearPowerSpectrum::sigma_r integrates for the smallest radius (tested to agree).
  const double r_min = lagrangian_radius(std::exp(ln_m_min_), cosmology_);
  const double ln_lo = std::log(1e-6), ln_hi = std::log(2e3 / r_min);
  const int intervals = 8192;
  const double h = (ln_hi - ln_lo) / intervals;
  std::vector<double> k(intervals + 1), weighted_power(intervals + 1);
  for (int j = 0; j <= intervals; ++j) {
    k[j] = std::exp(ln_lo + j * h);
    const double weight = (j == 0 || j == intervals) ? 1.0 : (j % 2 ? 4.0 : 2.0);
    weighted_power[j] = weight * k[j] * k[j] * k[j] * linear(k[j]) * h / 3.0 / (2.0 * M_PI * M_PI);
  }

  ln_sigma_.resize(points);
  dlnsigma_.resize(points);
  ln_dndlnm_.resize(points);
  std::vector<double> dndlnm(points), bias_density(points);
  for (int i = 0; i < points; ++i) {
    const double mass = std::exp(ln_m_min_ + i * dln_m_);
    const double radius = lagrangian_radius(mass, cosmology_);
    double variance = 0.0, dvariance_dlnr = 0.0;
    for (int j = 0; j <= intervals; ++j) {
      const double x = k[j] * radius, sin_x = std::sin(x);
      const double w = top_hat_window(x);
      variance += weighted_power[j] * w * w;
      dvariance_dlnr += weighted_power[j] * 2.0 * w * top_hat_window_derivative(x, w, sin_x) * x;
    }
    const double sigma = std::sqrt(variance);
    ln_sigma_[i] = std::log(sigma);
    dlnsigma_[i] = dvariance_dlnr / (2.0 * variance) / 3.0;  // dln R / dln M = 1/3
    const double f = model_ == MassFunctionModel::Tinker08 ? tinker08_multiplicity(sigma)
                                                           : sheth_tormen_multiplicity(sigma);
    dndlnm[i] = f * rho_m / mass * std::abs(dlnsigma_[i]);
    ln_dndlnm_[i] = std::log(dndlnm[i]);
    bias_density[i] =
        dndlnm[i] *
        (model_ == MassFunctionModel::Tinker08 ? tinker10_bias(sigma) : sheth_tormen_bias(sigma));
  }

  // Cumulative n(>M) and the bias-weighted cumulative from the top. Beyond 10^16.5 Msun/h the
  // exponential cut-off leaves nothing (n < 1e-100); the last node gets half a step's worth.
  ln_above_.resize(points);
  ln_bias_above_.resize(points);
  double above = 0.5 * dln_m_ * dndlnm[points - 1];
  double bias_above = 0.5 * dln_m_ * bias_density[points - 1];
  for (int i = points - 1; i >= 0; --i) {
    if (i < points - 1) {
      above += exponential_segment(dndlnm[i], dndlnm[i + 1], dln_m_);
      bias_above += exponential_segment(bias_density[i], bias_density[i + 1], dln_m_);
    }
    ln_above_[i] = std::log(above);
    ln_bias_above_[i] = std::log(bias_above);
  }
}

double HaloMassFunction::mass_min() const {
  return std::exp(ln_m_min_);
}
double HaloMassFunction::mass_max() const {
  return std::exp(ln_m_min_ + (ln_sigma_.size() - 1) * dln_m_);
}

double HaloMassFunction::interpolate(const std::vector<double>& table, double mass) const {
  const double x = (std::log(mass) - ln_m_min_) / dln_m_;
  const int last = int(table.size()) - 1;
  if (!(mass > 0.0) || x < -1e-9 || x > last + 1e-9)
    throw InvalidArgument("halo mass " + std::to_string(mass) +
                          " Msun/h is outside the mass function table [1e10, 10^16.5]");
  const int i = std::clamp(int(std::floor(x)), 0, last - 1);
  const double t = x - i;
  return table[i] + t * (table[i + 1] - table[i]);
}

double HaloMassFunction::sigma(double mass) const {
  return std::exp(interpolate(ln_sigma_, mass));
}
double HaloMassFunction::dlnsigma_dlnm(double mass) const {
  return interpolate(dlnsigma_, mass);
}
double HaloMassFunction::dn_dlnm(double mass) const {
  return std::exp(interpolate(ln_dndlnm_, mass));
}
double HaloMassFunction::number_above(double mass) const {
  return std::exp(interpolate(ln_above_, mass));
}
double HaloMassFunction::bias(double mass) const {
  const double s = sigma(mass);
  return model_ == MassFunctionModel::Tinker08 ? tinker10_bias(s) : sheth_tormen_bias(s);
}
double HaloMassFunction::mean_bias_above(double mass) const {
  return std::exp(interpolate(ln_bias_above_, mass) - interpolate(ln_above_, mass));
}

double HaloMassFunction::mass_above_density(double density) const {
  const double target = std::log(density);
  if (!(density > 0.0) || target > ln_above_.front() || target < ln_above_.back())
    throw InvalidArgument("halo number density " + std::to_string(density) +
                          " (h/Mpc)^3 is outside the mass function's range (" +
                          std::to_string(std::exp(ln_above_.back())) + " to " +
                          std::to_string(std::exp(ln_above_.front())) + ")");
  // ln n(>M) decreases along the table: find the segment, interpolate linearly in ln M.
  const auto it = std::lower_bound(ln_above_.begin(), ln_above_.end(), target,
                                   [](double a, double b) { return a > b; });
  const int i = std::max(1, int(it - ln_above_.begin()));
  const double t = (ln_above_[i - 1] - target) / (ln_above_[i - 1] - ln_above_[i]);
  return std::exp(ln_m_min_ + (i - 1 + t) * dln_m_);
}

}  // namespace ds
