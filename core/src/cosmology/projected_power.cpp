#include "diffuscope/cosmology/projected_power.h"

#include <cmath>

#include "diffuscope/error.h"

namespace ds {

namespace {

double sinc(double x) {
  return std::abs(x) < 1e-6 ? 1.0 - x * x / 6.0 : std::sin(x) / x;
}

// Composite Simpson over [a, b] with an even number of intervals.
template <class F>
double simpson(F f, double a, double b, int intervals) {
  const double h = (b - a) / intervals;
  double sum = f(a) + f(b);
  for (int i = 1; i < intervals; ++i) sum += (i % 2 ? 4.0 : 2.0) * f(a + i * h);
  return sum * h / 3.0;
}

}  // namespace

double ProjectedPowerSpectrum::integrate(const LinearPowerSpectrum& linear, double d, double k) {
  auto integrand = [&](double q) {
    const double w = sinc(0.5 * q * d);
    return w * w * linear(std::sqrt(k * k + q * q));
  };
  // Below the first zero of the window the integrand only varies on the scale of k and of the
  // turnover of P_lin: integrate in ln q. Above it, the window oscillates with period 2 pi/d in q:
  // integrate linearly with 32 points per period up to where the window envelope (2/(qd))^2 and
  // the falling P_lin make the rest negligible.
  const double q_min = 1e-6, q_split = 2.0 * M_PI / d, q_max = 400.0 / d;
  const double low = simpson(
      [&](double u) {
        const double q = std::exp(u);
        return q * integrand(q);
      },
      std::log(q_min), std::log(q_split), 512);
  const int high_intervals = 2 * int(std::ceil((q_max - q_split) / (q_split / 32.0) / 2.0));
  const double high = simpson(integrand, q_split, q_max, high_intervals);
  // The range [0, q_min) contributes q_min * integrand(0) at most.
  return (low + high + q_min * integrand(0.0)) / M_PI;
}

ProjectedPowerSpectrum::ProjectedPowerSpectrum(const LinearPowerSpectrum& linear,
                                               double slab_thickness, double k_min, double k_max,
                                               int points)
    : thickness_(slab_thickness) {
  if (!(slab_thickness > 0.0) || !(k_min > 0.0) || !(k_max > k_min) || points < 2)
    throw InvalidArgument(
        "projected power spectrum: need slab thickness > 0 and 0 < k_min < k_max");
  log_k_min_ = std::log(k_min);
  dlog_k_ = (std::log(k_max) - log_k_min_) / (points - 1);
  log_p_.resize(points);
  for (int i = 0; i < points; ++i)
    log_p_[i] = std::log(integrate(linear, slab_thickness, std::exp(log_k_min_ + i * dlog_k_)));
}

double ProjectedPowerSpectrum::operator()(double k) const {
  if (!(k > 0.0)) return 0.0;
  const double x = (std::log(k) - log_k_min_) / dlog_k_;
  const int last = int(log_p_.size()) - 1;
  // Power-law extrapolation from the two end nodes outside the table.
  const int i = std::min(std::max(int(std::floor(x)), 0), last - 1);
  const double t = x - i;
  return std::exp(log_p_[i] + t * (log_p_[i + 1] - log_p_[i]));
}

}  // namespace ds
