// The Euclidean metric of Hamiltonian Monte Carlo: momentum p ~ N(0, M), kinetic energy
// K(p) = 0.5 p^T M^-1 p, velocity dq/dt = M^-1 p. It is specified, stored and adapted through
// the INVERSE mass matrix M^-1 (Stan's convention, and the published Diffusion-HMC one: "inverse
// mass matrix diag(1, 5)"), which warm-up sets to an estimate of the posterior covariance.
#pragma once

#include <cstddef>
#include <vector>

#include "diffuscope/random.h"

namespace ds {

enum class MetricKind { Unit, Diagonal, Dense };

class Metric {
 public:
  Metric() = default;
  static Metric unit(std::size_t dimension);
  // inverse_mass: the D diagonal entries of M^-1, each positive and finite.
  static Metric diagonal(std::vector<double> inverse_mass);
  // inverse_mass: M^-1 as [D, D] row-major, symmetric positive definite.
  static Metric dense(std::vector<double> inverse_mass);
  // From user input: empty -> unit, D values -> diagonal, D*D values -> dense. Throws
  // InvalidArgument naming the problem (wrong count, non-positive, not positive definite).
  static Metric from_inverse_mass(const std::vector<double>& inverse_mass, std::size_t dimension);

  MetricKind kind() const { return kind_; }
  std::size_t dimension() const { return dimension_; }
  // D entries (unit, diagonal) or D*D (dense).
  const std::vector<double>& inverse_mass() const { return inverse_mass_; }
  // The diagonal of M^-1 (D entries) whatever the kind.
  std::vector<double> inverse_mass_diagonal() const;

  // 0.5 p^T M^-1 p for p of D entries.
  double kinetic_energy(const double* p) const;
  // v = M^-1 p (the p-gradient of the kinetic energy).
  void velocity(const double* p, double* v) const;
  // p ~ N(0, M), D standard normals from rng: p = z / sqrt(m^-1) (diagonal) or solve
  // L^T p = z with M^-1 = L L^T (dense), so that Cov(p) = M.
  void sample_momentum(Rng& rng, double* p) const;

 private:
  MetricKind kind_ = MetricKind::Unit;
  std::size_t dimension_ = 0;
  std::vector<double> inverse_mass_;
  std::vector<double> cholesky_;  // lower Cholesky factor of M^-1 (dense only)
};

}  // namespace ds
