// SVI with a full-rank Gaussian: on the correlated Gaussian target the family holds the target,
// so the fit must recover its mean and full covariance and the ELBO must reach log Z = 0.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../sampler_checks.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/mcmc/svi.h"
#include "diffuscope/infer/mcmc/targets.h"

namespace {

using dstest::target_reference;
using dstest::targets_file;

ds::SviSettings settings(std::uint64_t seed) {
  ds::SviSettings s;
  s.start = {0.27, 0.84};  // 1.5 sd off in x, 1.3 sd in y
  s.steps = 3000;
  s.samples_per_step = 16;
  s.draws = 4000;
  s.seed = seed;
  return s;
}

TEST(TestSvi, RecoversTheCorrelatedGaussianWithFullRank) {
  const auto target = ds::load_test_target(targets_file(), "correlated_gaussian");
  const nlohmann::json ref = target_reference("correlated_gaussian")["analytic"];
  const std::vector<double> mean = ref["mean"].get<std::vector<double>>();
  const std::vector<double> sd = ref["sd"].get<std::vector<double>>();
  const double rho = ref["corr"].get<double>();
  std::size_t reported = 0;
  const ds::SviResult r =
      ds::fit_svi(*target, settings(1), {}, [&](const ds::SviProgress&) { ++reported; });
  const double fit_sd[2] = {std::sqrt(r.covariance[0]), std::sqrt(r.covariance[3])};
  const double fit_rho = r.covariance[1] / (fit_sd[0] * fit_sd[1]);
  std::printf(
      "  q: mean (%.5f, %.5f) sd (%.5f, %.5f) corr %.4f; target (%.2f, %.2f) (%.3f, "
      "%.3f) %.2f\n",
      r.mean[0], r.mean[1], fit_sd[0], fit_sd[1], fit_rho, mean[0], mean[1], sd[0], sd[1], rho);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(r.mean[i], mean[i], 0.05 * sd[i]) << "mean " << i;
    EXPECT_NEAR(fit_sd[i], sd[i], 0.05 * sd[i]) << "sd " << i;
  }
  EXPECT_NEAR(fit_rho, rho, 0.02);
  EXPECT_EQ(r.covariance[1], r.covariance[2]);
  // The target is normalised and in the family: max ELBO = log Z = 0. Average of the last 500
  // steps (each a 16-draw estimate).
  double late = 0.0;
  for (std::size_t i = r.elbo.size() - 500; i < r.elbo.size(); ++i) late += r.elbo[i];
  late /= 500.0;
  std::printf("  final ELBO %.4f (log Z = 0), first %.1f\n", late, r.elbo.front());
  EXPECT_NEAR(late, 0.0, 0.05);
  EXPECT_LT(r.elbo.front(), late);
  // Draws: one chain of q, with lp; their moments agree with q's (4000 draws: 4 sigma).
  const ds::Chains& c = r.chains;
  EXPECT_EQ(c.sampler, "svi");
  EXPECT_EQ(c.chains, 1u);
  EXPECT_EQ(c.draws, 4000u);
  EXPECT_EQ(c.lp.size(), 4000u);
  for (std::size_t p = 0; p < 2; ++p) {
    const dstest::Moment m = dstest::moment(c, p);
    EXPECT_NEAR(m.mean, r.mean[p], 4.0 * fit_sd[p] / std::sqrt(4000.0));
    EXPECT_NEAR(m.sd, fit_sd[p], 4.0 * fit_sd[p] / std::sqrt(2.0 * 4000.0));
  }
  EXPECT_NEAR(c.lp[5], evaluate_one(*target, {c.value(0, 5, 0), c.value(0, 5, 1)}), 1e-12);
  EXPECT_EQ(r.density_calls, 3001u);  // one batched call per step, one for the draws
  EXPECT_EQ(reported, 3000u / 50u + 1u);
  // Same seed, same fit.
  EXPECT_EQ(ds::fit_svi(*target, settings(1)).mean, r.mean);
}

TEST(TestSvi, BadSettingsAreRejected) {
  const auto target = ds::load_test_target(targets_file(), "box_truncated_gaussian");
  ds::SviSettings s = settings(2);
  s.start = {0.3};
  EXPECT_THROW(ds::fit_svi(*target, s), ds::InvalidArgument);
  s.start = {0.05, 0.7};  // outside the support
  EXPECT_THROW(ds::fit_svi(*target, s), ds::InvalidArgument);
  s.start = {0.2, 0.7};
  s.initial_scale = {0.01, -1.0};
  EXPECT_THROW(ds::fit_svi(*target, s), ds::InvalidArgument);
  s.start = {0.1, 0.7};  // on the edge of the box: no unconstrained coordinate
  EXPECT_THROW(ds::fit_svi(*target, s), ds::InvalidArgument);
}

// A bounded density is fitted in logit coordinates: every draw of q lies inside the box, and
// the truncated Gaussian's moments come out close (q is Gaussian in logit space, the target
// is not, so only approximately).
TEST(TestSvi, BoundedParametersStayInsideTheBox) {
  const auto target = ds::load_test_target(targets_file(), "box_truncated_gaussian");
  const nlohmann::json ref = target_reference("box_truncated_gaussian")["numerical_2d"];
  ds::SviSettings s = settings(3);
  s.start = {0.12, 0.63};
  const ds::SviResult r = ds::fit_svi(*target, s);
  EXPECT_EQ(r.rejected_samples, 0u);
  for (std::size_t k = 0; k < r.chains.draws; ++k) {
    EXPECT_GT(r.chains.values[2 * k], 0.1);
    EXPECT_GT(r.chains.values[2 * k + 1], 0.6);
  }
  for (int i = 0; i < 2; ++i) {
    const double sd = ref["sd"][i].get<double>();
    std::printf("  truncated target, param %d: q mean %.5f sd %.5f; exact %.5f %.5f\n", i,
                r.mean[i], std::sqrt(r.covariance[3 * i]), ref["mean"][i].get<double>(), sd);
    EXPECT_NEAR(r.mean[i], ref["mean"][i].get<double>(), 0.25 * sd);
    EXPECT_NEAR(std::sqrt(r.covariance[3 * i]), sd, 0.25 * sd);
  }
}

// Holes in the density (NaN where x > 0.32) carry no gradient: counted, not fatal.

TEST(TestSvi, NonFiniteDrawsAreCounted) {
  const dstest::NanRegion density(ds::load_test_target(targets_file(), "correlated_gaussian"));
  ds::SviSettings s = settings(4);
  s.steps = 300;
  const ds::SviResult r = ds::fit_svi(density, s);
  EXPECT_GT(r.rejected_samples, 0u);
  EXPECT_TRUE(std::isfinite(r.mean[0]));
}

}  // namespace
