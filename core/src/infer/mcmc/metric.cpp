#include "diffuscope/infer/mcmc/metric.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "infer/mcmc/linear_algebra.h"

namespace ds {

Metric Metric::unit(std::size_t dimension) {
  Metric m;
  m.kind_ = MetricKind::Unit;
  m.dimension_ = dimension;
  m.inverse_mass_.assign(dimension, 1.0);
  return m;
}

Metric Metric::diagonal(std::vector<double> inverse_mass) {
  for (std::size_t i = 0; i < inverse_mass.size(); ++i)
    if (!(inverse_mass[i] > 0.0) || !std::isfinite(inverse_mass[i]))
      throw InvalidArgument("inverse mass entry " + std::to_string(i) + " is " +
                            std::to_string(inverse_mass[i]) + ": it must be positive and finite");
  Metric m;
  m.kind_ = MetricKind::Diagonal;
  m.dimension_ = inverse_mass.size();
  m.inverse_mass_ = std::move(inverse_mass);
  return m;
}

Metric Metric::dense(std::vector<double> inverse_mass) {
  const std::size_t d = std::size_t(std::llround(std::sqrt(double(inverse_mass.size()))));
  if (d * d != inverse_mass.size() || d == 0)
    throw InvalidArgument("dense inverse mass has " + std::to_string(inverse_mass.size()) +
                          " entries, not D*D");
  Metric m;
  m.kind_ = MetricKind::Dense;
  m.dimension_ = d;
  m.cholesky_ = detail::cholesky(inverse_mass, d, "the dense inverse mass matrix");
  m.inverse_mass_ = std::move(inverse_mass);
  return m;
}

Metric Metric::from_inverse_mass(const std::vector<double>& inverse_mass, std::size_t dimension) {
  if (inverse_mass.empty()) return unit(dimension);
  if (inverse_mass.size() == dimension) return diagonal(inverse_mass);
  if (inverse_mass.size() == dimension * dimension) return dense(inverse_mass);
  throw InvalidArgument("inverse mass has " + std::to_string(inverse_mass.size()) +
                        " values: give " + std::to_string(dimension) + " (diagonal) or " +
                        std::to_string(dimension * dimension) + " (dense) for " +
                        std::to_string(dimension) + " parameters");
}

std::vector<double> Metric::inverse_mass_diagonal() const {
  if (kind_ != MetricKind::Dense) return inverse_mass_;
  std::vector<double> out(dimension_);
  for (std::size_t i = 0; i < dimension_; ++i) out[i] = inverse_mass_[i * dimension_ + i];
  return out;
}

void Metric::velocity(const double* p, double* v) const {
  const std::size_t d = dimension_;
  if (kind_ != MetricKind::Dense) {
    for (std::size_t i = 0; i < d; ++i) v[i] = inverse_mass_[i] * p[i];
    return;
  }
  for (std::size_t i = 0; i < d; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += inverse_mass_[i * d + j] * p[j];
    v[i] = s;
  }
}

double Metric::kinetic_energy(const double* p) const {
  const std::size_t d = dimension_;
  double k = 0.0;
  if (kind_ != MetricKind::Dense) {
    for (std::size_t i = 0; i < d; ++i) k += inverse_mass_[i] * p[i] * p[i];
    return 0.5 * k;
  }
  for (std::size_t i = 0; i < d; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += inverse_mass_[i * d + j] * p[j];
    k += p[i] * s;
  }
  return 0.5 * k;
}

void Metric::sample_momentum(Rng& rng, double* p) const {
  const std::size_t d = dimension_;
  for (std::size_t i = 0; i < d; ++i) p[i] = rng.normal();
  if (kind_ != MetricKind::Dense) {
    for (std::size_t i = 0; i < d; ++i) p[i] /= std::sqrt(inverse_mass_[i]);
    return;
  }
  // Cov(L^-T z) = L^-T L^-1 = (L L^T)^-1 = M.
  detail::solve_lower_transposed(cholesky_, d, p);
}

}  // namespace ds
