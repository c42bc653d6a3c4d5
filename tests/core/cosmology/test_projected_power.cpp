#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/error.h"

TEST(ProjectedPower, ApproachesPlinOverThicknessOnSmallScales) {
  // For k >> 1/d the slab window integrates to 2 pi / d over a range where P_lin is ~constant:
  // P_2D(k) -> P_lin(k) / d, with a deficit that falls like 1/(k d) (the window's 1/q^2 tail
  // reaches where P_lin has dropped).
  const ds::LinearPowerSpectrum linear{ds::Cosmology{}};
  const double d = 5.0;
  double previous_gap = 1.0;
  for (double k : {4.0, 16.0, 64.0}) {
    const double gap = 1.0 - ds::ProjectedPowerSpectrum::integrate(linear, d, k) * d / linear(k);
    EXPECT_GT(gap, 0.0) << "k " << k;
    EXPECT_LT(gap, 0.5 * previous_gap) << "k " << k;
    previous_gap = gap;
  }
  EXPECT_LT(previous_gap, 0.01);
}

TEST(ProjectedPower, ThinSlabLimitOnLargeScalesIsTheLineOfSightIntegral) {
  // For a very thin slab the window is ~1 wherever P_lin(sqrt(k^2+q^2)) matters: compare with a
  // direct integral of P_lin along the line of sight.
  for (auto transfer : {ds::TransferFunction::Eh98, ds::TransferFunction::Eh98NoWiggle}) {
    const ds::LinearPowerSpectrum linear(ds::Cosmology{}, transfer);
    const double k = 0.5, d = 1e-3;
    double direct = 0.0;
    const double dq = 1e-3;
    for (double q = 0.5 * dq; q < 200.0; q += dq) direct += linear(std::sqrt(k * k + q * q)) * dq;
    direct /= M_PI;
    EXPECT_NEAR(ds::ProjectedPowerSpectrum::integrate(linear, d, k) / direct, 1.0, 2e-3);
  }
}

TEST(ProjectedPower, TableMatchesDirectQuadrature) {
  // The kernel route (P_lin sampled on a grid, cubic interpolation) reproduces the direct
  // quadrature at the nodes to ~1e-6, and the cubic interpolation in ln k between nodes to 2e-4
  // (the BAO wiggles survive the projection for k > 1/d).
  for (auto transfer : {ds::TransferFunction::Eh98, ds::TransferFunction::Eh98NoWiggle}) {
    const ds::LinearPowerSpectrum linear(ds::Cosmology{}, transfer);
    const double k_min = 0.1, k_max = 100.0;
    const int points = 192;
    const ds::ProjectedPowerSpectrum table(linear, 5.0, k_min, k_max, points);
    const double dlog = std::log(k_max / k_min) / (points - 1);
    for (int i : {0, 17, 60, 120, 191}) {
      const double k = k_min * std::exp(i * dlog);
      EXPECT_NEAR(table(k) / ds::ProjectedPowerSpectrum::integrate(linear, 5.0, k), 1.0, 1e-5)
          << "node " << i << " k " << k;
    }
    for (double k : {0.13, 0.31, 0.7, 3.3, 41.0})
      EXPECT_NEAR(table(k) / ds::ProjectedPowerSpectrum::integrate(linear, 5.0, k), 1.0, 2e-4)
          << "k " << k;
  }
}

TEST(ProjectedPower, StencilsReproduceTheTableAndExtrapolateAsPowerLaws) {
  const ds::LinearPowerSpectrum linear{ds::Cosmology{}};
  const ds::ProjectedPowerSpectrum table(linear, 5.0, 0.2, 50.0, 100);
  for (double k : {0.2, 0.55, 7.0, 50.0})
    EXPECT_DOUBLE_EQ(std::exp(table.log_value(table.stencil(k))), table(k));
  // Beyond the ends: straight lines in log-log through the two end nodes.
  const double slope_lo = std::log(table(0.2 * std::exp(0.05)) / table(0.2)) / 0.05;
  EXPECT_NEAR(std::log(table(0.1) / table(0.2)) / std::log(0.5), slope_lo, 0.05);
  const double slope_hi = (std::log(table(100.0)) - std::log(table(50.0))) / std::log(2.0);
  EXPECT_LT(slope_hi, -1.0);  // P_2D falls steeply on small scales
}

TEST(ProjectedPower, CachedKernelGivesIdenticalTablesAcrossCosmologies) {
  // The same k grid reuses the cached kernel; the result must not depend on what was built
  // before (a fresh grid for comparison).
  ds::Cosmology a, b;
  b.omega_m = 0.45;
  const ds::LinearPowerSpectrum la(a), lb(b);
  const ds::ProjectedPowerSpectrum first(la, 5.0, 0.3, 80.0, 160);
  const ds::ProjectedPowerSpectrum other(lb, 5.0, 0.3, 80.0, 160);
  const ds::ProjectedPowerSpectrum again(la, 5.0, 0.3, 80.0, 160);
  EXPECT_EQ(first.log_values(), again.log_values());
  EXPECT_NE(first.log_values(), other.log_values());
}

TEST(ProjectedPower, RejectsBadTables) {
  const ds::LinearPowerSpectrum linear{ds::Cosmology{}};
  EXPECT_THROW(ds::ProjectedPowerSpectrum(linear, 0.0), ds::InvalidArgument);
  EXPECT_THROW(ds::ProjectedPowerSpectrum(linear, 5.0, 1.0, 0.5), ds::InvalidArgument);
  EXPECT_THROW(ds::ProjectedPowerSpectrum(linear, 5.0, 0.1, 1.0, 3), ds::InvalidArgument);
}
