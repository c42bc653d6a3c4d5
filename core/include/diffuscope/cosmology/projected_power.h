// 2D power spectrum of the density contrast averaged over a slab (CAMELS maps are projections
// over a slab of 5 Mpc/h):
//   P_2D(k) = \int dq/(2 pi) sinc^2(q d / 2) P_lin(sqrt(k^2 + q^2)),
// in (Mpc/h)^2 for k in h/Mpc, d the slab thickness in Mpc/h.
#pragma once

#include <array>
#include <vector>

#include "diffuscope/cosmology/linear_power.h"

namespace ds {

class ProjectedPowerSpectrum {
 public:
  static constexpr double kDefaultSlabThickness = 5.0;  // Mpc/h

  // Tabulates P_2D on `points` log-spaced nodes covering [k_min, k_max] h/Mpc; evaluation
  // interpolates ln P cubically in ln k and extrapolates as a power law outside.
  //
  // P_2D is linear in P_lin, so the q-quadrature of integrate() is folded once per (thickness,
  // k range, points) into a kernel acting on P_lin sampled on a fine ln k grid (cubic Lagrange
  // interpolation, spacing 0.01: ~1e-6 relative to the direct quadrature). The kernel is cached
  // (thread-safe), so a new cosmology costs ~800 evaluations of P_lin plus a small
  // matrix-vector product instead of ~400 000 evaluations.
  ProjectedPowerSpectrum(const LinearPowerSpectrum& linear,
                         double slab_thickness = kDefaultSlabThickness, double k_min = 1e-3,
                         double k_max = 1e2, int points = 400);

  double operator()(double k) const;
  double slab_thickness() const { return thickness_; }

  // Direct quadrature at one k (the reference the table is tested against).
  static double integrate(const LinearPowerSpectrum& linear, double slab_thickness, double k);

  // The interpolation of ln P at one k as weights on four table nodes. It depends on the table's
  // k grid only, so callers evaluating many cosmologies at the same k (likelihoods) compute it
  // once and then call log_value(stencil) per cosmology.
  struct Stencil {
    int first = 0;
    std::array<double, 4> weights{};
  };
  Stencil stencil(double k) const;
  double log_value(const Stencil& stencil) const;  // ln P_2D((Mpc/h)^2)

  const std::vector<double>& log_values() const { return log_p_; }  // ln P_2D at the nodes

 private:
  double thickness_;
  double log_k_min_, dlog_k_;
  std::vector<double> log_p_;
};

}  // namespace ds
