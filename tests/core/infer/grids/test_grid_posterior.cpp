// The posterior of a likelihood grid (core/infer/grids/grid_posterior.h): on a fine grid of a
// Gaussian likelihood the mean, sd and central intervals are those of the Gaussian (68%: +-0.994
// sd, 95%:
// +-1.96 sd) to a fraction of a grid step; the cell-rule percentile on hand-made weights.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_posterior.h"

namespace {

TEST(TestGridPosterior, PercentileSpreadsEachWeightOverItsCell) {
  const std::vector<double> axis = {0.0, 1.0, 2.0, 3.0};
  // Uniform weights: the cells cover [-0.5, 3.5]; the median is 1.5, the 25th percentile 0.5.
  EXPECT_DOUBLE_EQ(ds::grid_marginal_percentile(axis, {1, 1, 1, 1}, 50.0), 1.5);
  EXPECT_DOUBLE_EQ(ds::grid_marginal_percentile(axis, {1, 1, 1, 1}, 25.0), 0.5);
  // Clipped to the first and last grid point.
  EXPECT_DOUBLE_EQ(ds::grid_marginal_percentile(axis, {1, 1, 1, 1}, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(ds::grid_marginal_percentile(axis, {1, 1, 1, 1}, 99.0), 3.0);
  // All weight on one point: every central percentile lies within its cell.
  EXPECT_DOUBLE_EQ(ds::grid_marginal_percentile(axis, {0, 0, 2, 0}, 50.0), 2.0);
  EXPECT_THROW(ds::grid_marginal_percentile(axis, {0, 0, 0, 0}, 50.0), ds::InvalidArgument);
  EXPECT_THROW(ds::grid_marginal_percentile(axis, {1, 1}, 50.0), ds::InvalidArgument);
}

TEST(TestGridPosterior, GaussianLikelihoodGivesGaussianMomentsAndIntervals) {
  // log L = -0.5 ((om - 0.3) / 0.02)^2 - 0.5 ((s8 - 0.8) / 0.03)^2 on 401 x 401 points spanning
  // +-0.15 (7.5 and 5 sd: the truncated mass is negligible); one point not finite (weight 0).
  ds::GridScan scan;
  const std::size_t n = 401;
  for (std::size_t j = 0; j < n; ++j) {
    scan.omega_m.push_back(0.15 + 0.3 * double(j) / double(n - 1));
    scan.sigma_8.push_back(0.65 + 0.3 * double(j) / double(n - 1));
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double a = (scan.omega_m[j] - 0.3) / 0.02, b = (scan.sigma_8[i] - 0.8) / 0.03;
      scan.log_like.push_back(-0.5 * (a * a + b * b) + 1234.5);
    }
  scan.log_like[0] = -std::numeric_limits<double>::infinity();
  const ds::FieldCalibration f = ds::check_grid({7, {0.31, 0.9}}, scan);
  ASSERT_EQ(f.parameters.size(), 2u);
  EXPECT_EQ(f.index, 7u);
  const double step = 0.3 / double(n - 1);
  const double mu[2] = {0.3, 0.8}, sd[2] = {0.02, 0.03};
  for (std::size_t p = 0; p < 2; ++p) {
    const ds::ParameterCheck& c = f.parameters[p];
    SCOPED_TRACE("parameter " + std::to_string(p));
    EXPECT_NEAR(c.mean, mu[p], 1e-6);
    EXPECT_NEAR(c.sd, sd[p], 1e-4 * sd[p] + step * step / sd[p]);
    EXPECT_NEAR(c.inner_lo, mu[p] - 0.994458 * sd[p], 0.5 * step);
    EXPECT_NEAR(c.inner_hi, mu[p] + 0.994458 * sd[p], 0.5 * step);
    EXPECT_NEAR(c.outer_lo, mu[p] - 1.959964 * sd[p], 0.5 * step);
    EXPECT_NEAR(c.outer_hi, mu[p] + 1.959964 * sd[p], 0.5 * step);
    EXPECT_TRUE(std::isnan(c.r_hat));
  }
  // Truths: Omega_m 0.5 sd off (inside both), sigma_8 3.3 sd off (inside neither).
  EXPECT_NEAR(f.parameters[0].z, (0.3 - 0.31) / 0.02, 1e-3);
  EXPECT_TRUE(f.parameters[0].inside_inner);
  EXPECT_FALSE(f.parameters[1].inside_outer);
  // No truth: NaN z, never inside.
  const ds::FieldCalibration none = ds::check_grid({0, {}}, scan);
  EXPECT_TRUE(std::isnan(none.parameters[0].z));
  EXPECT_FALSE(none.parameters[0].inside_outer);
}

}  // namespace
