// 2D power spectrum of the density contrast averaged over a slab (CAMELS maps are projections
// over a slab of 5 Mpc/h):
//   P_2D(k) = \int dq/(2 pi) sinc^2(q d / 2) P_lin(sqrt(k^2 + q^2)),
// in (Mpc/h)^2 for k in h/Mpc, d the slab thickness in Mpc/h.
#pragma once

#include <vector>

#include "diffuscope/cosmology/linear_power.h"

namespace ds {

class ProjectedPowerSpectrum {
 public:
  static constexpr double kDefaultSlabThickness = 5.0;  // Mpc/h

  // Tabulates P_2D on a log grid covering [k_min, k_max] h/Mpc; evaluation interpolates in
  // log-log and extrapolates as a power law outside.
  ProjectedPowerSpectrum(const LinearPowerSpectrum& linear,
                         double slab_thickness = kDefaultSlabThickness, double k_min = 1e-3,
                         double k_max = 1e2, int points = 400);

  double operator()(double k) const;
  double slab_thickness() const { return thickness_; }

  // Direct quadrature at one k (what the table holds at its nodes).
  static double integrate(const LinearPowerSpectrum& linear, double slab_thickness, double k);

 private:
  double thickness_;
  double log_k_min_, dlog_k_;
  std::vector<double> log_p_;
};

}  // namespace ds
