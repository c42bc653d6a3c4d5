// The report's grid posteriors (core/report/posterior_grid.h) and calibration summary
// (core/report/calibration_summary.h): a narrow correlated Gaussian likelihood is found from a
// coarse scan of the prior and resolved (sd spans >= 1.25 cells) with its moments recovered; the
// marginal CDF inverts the cell-rule percentile; coverage, |z|, ranks and the expected-coverage
// curve of hand-made posteriors.
#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_posterior.h"
#include "diffuscope/infer/mcmc/targets.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/report/calibration_summary.h"
#include "diffuscope/report/posterior_grid.h"

namespace {

TEST(ReportPosteriorGrid, FindsAndResolvesANarrowCorrelatedGaussian) {
  // sd 0.006 (Omega_m) and 0.012 (sigma_8), correlation -0.7: far narrower than the coarse step
  // (0.1), as a diffusion model's posterior is.
  const double s1 = 0.006, s2 = 0.012, rho = -0.7;
  const ds::GaussianTarget target({0.2345, 0.8765},
                                  {s1 * s1, rho * s1 * s2, rho * s1 * s2, s2 * s2});
  ds::PosteriorGridSettings settings;
  const ds::PosteriorGrid grid = ds::refine_posterior_grid(target, settings);
  EXPECT_TRUE(grid.resolved);
  EXPECT_GE(grid.levels, 1);
  EXPECT_LE(grid.evaluations, std::size_t(25 + 2 * 81));
  const ds::FieldCalibration f = ds::check_grid({0, {0.2345, 0.8765}}, grid.scan);
  const double mu[2] = {0.2345, 0.8765}, sd[2] = {s1, s2};
  for (int p = 0; p < 2; ++p) {
    const ds::GridMarginal m = ds::grid_marginal(grid.scan, std::size_t(p));
    const double step = m.axis[1] - m.axis[0];
    std::printf("parameter %d: mean %.5f sd %.5f (true %.5f, %.5f), step %.5f, %zu evaluations\n",
                p, f.parameters[p].mean, f.parameters[p].sd, mu[p], sd[p], step, grid.evaluations);
    EXPECT_GE(f.parameters[p].sd, settings.cells_per_sd * step);  // 68% interval: >= 2.5 cells
    EXPECT_NEAR(f.parameters[p].mean, mu[p], 0.05 * sd[p]);
    EXPECT_NEAR(f.parameters[p].sd, sd[p], 0.05 * sd[p]);
    EXPECT_NEAR(ds::grid_marginal_cdf(m, mu[p]), 0.5, 0.02);
    // The CDF inverts the percentile of grid_posterior.h.
    const double x = ds::grid_marginal_percentile(m.axis, m.weights, 84.0);
    EXPECT_NEAR(ds::grid_marginal_cdf(m, x), 0.84, 1e-9);
  }
}

TEST(ReportPosteriorGrid, PosteriorAtThePriorEdgeStaysInsideTheBox) {
  const ds::GaussianTarget target({0.1, 0.95}, {0.02 * 0.02, 0.0, 0.0, 0.03 * 0.03});
  const ds::PosteriorGrid grid = ds::refine_posterior_grid(target, {});
  EXPECT_TRUE(grid.resolved);
  EXPECT_DOUBLE_EQ(grid.scan.omega_m.front(), 0.1);
  EXPECT_DOUBLE_EQ(grid.scan.sigma_8.back(), 1.0);
}

// A thin ridge along the Omega_m-sigma_8 degeneracy, 0.003 across and 0.03 along near its peak,
// whose log L grows only linearly with the distance far from it (-2 ln L = 2 k (sqrt(1 + q / k)
// - 1) for the Gaussian's quadratic form q, k = 15): the shape of a halo model's ELBO, which is
// quadratic only within a few sd. A 3 x 3 quadratic fitted on the coarse scan's scale then points
// the first window past the peak.
class LinearTailRidge : public ds::LogDensity {
 public:
  LinearTailRidge(double om, double s8) : centre_{om, s8} {
    const double ux = 1.0 / std::sqrt(1.49), uy = -0.7 / std::sqrt(1.49);
    const double along = 1.0 / (0.03 * 0.03), across = 1.0 / (0.003 * 0.003);
    // The precision matrix: along u, across v = (-uy, ux).
    p_[0] = along * ux * ux + across * uy * uy;
    p_[1] = along * ux * uy - across * uy * ux;
    p_[2] = along * uy * uy + across * ux * ux;
  }
  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    values.resize(batch);
    for (std::size_t b = 0; b < batch; ++b) {
      const double dx = thetas[2 * b] - centre_[0], dy = thetas[2 * b + 1] - centre_[1];
      const double q = p_[0] * dx * dx + 2 * p_[1] * dx * dy + p_[2] * dy * dy;
      values[b] = -kTail * (std::sqrt(1.0 + q / kTail) - 1.0);
    }
    if (gradients) gradients->assign(2 * batch, 0.0);
  }

 private:
  static constexpr double kTail = 15.0;
  double centre_[2];
  double p_[3];
};

TEST(ReportPosteriorGrid, ClimbFindsTheMaximumOfAThinRidgeTheCoarseScanMisses) {
  const double truth[2] = {0.3237, 0.8581};
  const LinearTailRidge target(truth[0], truth[1]);
  ds::PosteriorGridSettings settings;
  settings.max_levels = 6;
  const ds::PosteriorGrid plain = ds::refine_posterior_grid(target, settings);
  settings.climb = true;
  const ds::PosteriorGrid climbed = ds::refine_posterior_grid(target, settings);
  const ds::FieldCalibration a = ds::check_grid({0, {truth[0], truth[1]}}, plain.scan);
  const ds::FieldCalibration b = ds::check_grid({0, {truth[0], truth[1]}}, climbed.scan);
  for (int p = 0; p < 2; ++p)
    std::printf(
        "parameter %d: without climb mean %.5f sd %.5f z %.2f (resolved %d, %zu points); "
        "with climb mean %.5f sd %.5f z %.2f (resolved %d, %zu points, %zu climbing)\n",
        p, a.parameters[p].mean, a.parameters[p].sd, a.parameters[p].z, int(plain.resolved),
        plain.evaluations, b.parameters[p].mean, b.parameters[p].sd, b.parameters[p].z,
        int(climbed.resolved), climbed.evaluations, climbed.climb_evaluations);
  EXPECT_TRUE(climbed.resolved);
  EXPECT_GT(climbed.climb_evaluations, 0u);
  for (int p = 0; p < 2; ++p) EXPECT_LT(std::abs(b.parameters[p].z), 0.1);
}

TEST(ReportPosteriorGrid, CancelsBetweenRowsAndRefusesBadSettings) {
  const ds::GaussianTarget target({0.3, 0.8}, {1e-4, 0.0, 0.0, 1e-4});
  ds::CancellationToken token;
  token.request();
  EXPECT_THROW(ds::refine_posterior_grid(target, {}, ds::JobContext({}, token)), ds::Cancelled);
  ds::PosteriorGridSettings bad;
  bad.coarse_points = 2;
  EXPECT_THROW(ds::refine_posterior_grid(target, bad), ds::InvalidArgument);
  ds::PosteriorGridSettings no_climb;
  no_climb.climb = true;
  no_climb.climb_iterations = 0;
  EXPECT_THROW(ds::refine_posterior_grid(target, no_climb), ds::InvalidArgument);
}

TEST(ReportCalibrationSummary, CountsCoverageZRanksAndOverlap) {
  std::vector<ds::ReportParameterPosterior> fields(4);
  const double z[4] = {0.5, -1.5, 2.5, 0.0};
  const double rank[4] = {0.6, 0.05, 0.999, 0.5};
  for (int i = 0; i < 4; ++i) {
    fields[i].truth = 0.3;
    fields[i].sd = 0.01;
    fields[i].mean = 0.3 + z[i] * 0.01;
    fields[i].z = z[i];
    fields[i].rank = rank[i];
    fields[i].inside_inner = std::abs(z[i]) < 1;
    fields[i].inside_outer = std::abs(z[i]) < 2;
  }
  const auto s = ds::summarize_parameter("Omega_m", fields, 4, {0.5, 0.95});
  EXPECT_DOUBLE_EQ(s.inner_coverage, 0.5);
  EXPECT_DOUBLE_EQ(s.outer_coverage, 0.75);
  EXPECT_NEAR(s.inner_nominal_se, std::sqrt(0.68 * 0.32 / 4), 1e-12);
  EXPECT_DOUBLE_EQ(s.mean_abs_z, 4.5 / 4);
  EXPECT_NEAR(s.z_mean, 0.375, 1e-12);
  EXPECT_EQ(s.rank_histogram, (std::vector<std::size_t>{1, 0, 2, 1}));
  // |2u - 1| = 0.2, 0.9, 0.998, 0: inside the central 50% for two, the central 95% for three.
  EXPECT_DOUBLE_EQ(s.expected_coverage.coverage[0], 0.5);
  EXPECT_DOUBLE_EQ(s.expected_coverage.coverage[1], 0.75);
  EXPECT_TRUE(std::isnan(s.width_ratio_mean));
  EXPECT_DOUBLE_EQ(ds::interval_overlap(0, 2, 1, 3), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(ds::interval_overlap(0, 1, 2, 3), 0.0);
  EXPECT_THROW(ds::summarize_parameter("x", {fields[0]}, 4, {}), ds::InvalidArgument);
}

}  // namespace
