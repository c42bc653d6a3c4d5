// Delayed-acceptance HMC on a surrogate (infer/mcmc/surrogate_hmc.h): the surrogate's fit, the
// exactness of the kept draws (moments of the analytic targets within Monte Carlo error, also with
// a surrogate that is poor on purpose), one exact value per iteration and chain and no gradient,
// determinism, and refusals.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <random>

#include "../sampler_checks.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"
#include "diffuscope/infer/mcmc/surrogate.h"
#include "diffuscope/infer/mcmc/surrogate_hmc.h"
#include "diffuscope/infer/mcmc/targets.h"

namespace {

using dstest::CountingDensity;
using dstest::json_vector;
using dstest::target_reference;
using dstest::targets_file;

std::shared_ptr<const ds::LogDensity> target(const std::string& name) {
  return ds::load_test_target(targets_file(), name);
}

ds::SurrogateHmcSettings settings(std::uint64_t seed, std::size_t warmup = 100,
                                  std::size_t draws = 2000) {
  ds::SurrogateHmcSettings s;
  s.run.chains = 4;
  s.run.warmup = warmup;
  s.run.draws = draws;
  s.run.starts = {{0.3, 0.8}};
  s.run.seed = seed;
  return s;
}

double log_density(const ds::LogDensity& d, double x, double y, double* gradient = nullptr) {
  std::vector<double> values, gradients;
  d.evaluate({x, y}, 1, values, gradient ? &gradients : nullptr);
  if (gradient) {
    gradient[0] = gradients[0];
    gradient[1] = gradients[1];
  }
  return values[0];
}

// Records whether the density was ever asked for a gradient.
class ValueOnlyCheck : public ds::LogDensity {
 public:
  explicit ValueOnlyCheck(const ds::LogDensity& inner) : inner_(inner) {}
  std::size_t dimension() const override { return inner_.dimension(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    if (gradients) gradient_requests += 1;
    inner_.evaluate(thetas, batch, values, gradients);
  }
  std::vector<std::string> names() const override { return inner_.names(); }
  std::vector<std::pair<double, double>> ranges() const override { return inner_.ranges(); }
  mutable std::size_t gradient_requests = 0;

 private:
  const ds::LogDensity& inner_;
};

}  // namespace

// On a Gaussian the fitted quadratic is the Gaussian: its mode and covariance exactly; the
// surrogate equals the density at the evaluated points and stays close between them (its mean
// function has heavier tails, which the residuals correct near the points).
TEST(Surrogate, FindsAGaussiansModeAndCovarianceAndMatchesItNearThePoints) {
  const ds::GaussianTarget gauss({0.3, 0.8}, {4e-4, 5.4e-4, 5.4e-4, 9e-4});
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> thetas, values;
  for (int i = 0; i < 40; ++i) {
    const double x = 0.3 + 0.04 * normal(rng), y = 0.8 + 0.06 * normal(rng);
    thetas.insert(thetas.end(), {x, y});
    values.push_back(log_density(gauss, x, y));
  }
  const auto s = ds::LogDensitySurrogate::fit(2, thetas, values);
  EXPECT_TRUE(s.concave());
  EXPECT_EQ(s.points(), 40u);
  EXPECT_NEAR(s.mode()[0], 0.3, 1e-8);
  EXPECT_NEAR(s.mode()[1], 0.8, 1e-8);
  const std::vector<double> cov = {4e-4, 5.4e-4, 5.4e-4, 9e-4};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(s.covariance()[i], cov[i], 1e-9) << i;
  // The interpolant is the Gaussian (its residuals vanish), anywhere.
  for (int i = 0; i < 50; ++i) {
    const double theta[2] = {0.3 + 0.05 * normal(rng), 0.8 + 0.08 * normal(rng)};
    EXPECT_NEAR(s.interpolant(theta), log_density(gauss, theta[0], theta[1]), 1e-6);
  }
  // The surrogate adds the defensive tail: log 1.2 at the mode, and it decays slower than the
  // Gaussian, so it dominates far out.
  const double mode[2] = {0.3, 0.8};
  EXPECT_NEAR(s.value(mode) - s.interpolant(mode), std::log(1.2), 1e-9);
  const double far[2] = {0.3 + 10 * 0.02, 0.8};
  EXPECT_GT(s.value(far), log_density(gauss, far[0], far[1]) + 10.0);
}

// A banana is not: the Gaussian process carries the residuals, so the surrogate equals the density
// at every evaluated point, and its gradient is the derivative of what it returns.
TEST(Surrogate, InterpolatesANonGaussianDensityAtItsPointsWithConsistentGradients) {
  const ds::BananaTarget banana(0.3, 0.8, 0.02, 0.03, 1.0);
  std::vector<double> thetas, values;
  for (int i = -3; i <= 3; ++i)
    for (int j = -3; j <= 3; ++j) {
      const double x = 0.3 + 0.015 * i, y = 0.8 + 0.03 * j;
      thetas.insert(thetas.end(), {x, y});
      values.push_back(log_density(banana, x, y));
    }
  const auto s = ds::LogDensitySurrogate::fit(2, thetas, values);
  for (std::size_t i = 0; i < values.size(); ++i)
    EXPECT_NEAR(s.interpolant(&thetas[2 * i]), values[i], 1e-4) << i;
  for (const auto& p : std::vector<std::array<double, 2>>{{0.31, 0.79}, {0.285, 0.83}}) {
    double g[2];
    s.value(p.data(), g);
    for (int k = 0; k < 2; ++k) {
      const double h = 1e-6;
      std::array<double, 2> up = p, down = p;
      up[std::size_t(k)] += h;
      down[std::size_t(k)] -= h;
      const double numeric = (s.value(up.data()) - s.value(down.data())) / (2.0 * h);
      EXPECT_NEAR(g[k], numeric, 1e-5 * std::abs(numeric) + 1e-3) << k;
    }
  }
  // Between the points it is close to the density, where the sampler needs it.
  const double between[2] = {0.3075, 0.815};
  EXPECT_NEAR(s.interpolant(between), log_density(banana, between[0], between[1]), 0.2);
}

TEST(Surrogate, RefusesTooFewPointsAndABadLengthScale) {
  const std::vector<double> thetas = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  const std::vector<double> values = {1, 2, 3, 4, std::numeric_limits<double>::quiet_NaN()};
  try {
    ds::LogDensitySurrogate::fit(2, thetas, values);
    FAIL() << "no error";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("needs at least 6 finite evaluations, got 4"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ds::LogDensitySurrogate::fit(2, thetas, {1, 2, 3, 4, 5}, 0.0), ds::InvalidArgument);
}

// The kept draws are exact: the moments of the three analytic targets within Monte Carlo error.
TEST(SurrogateHmc, RecoversTheMomentsOfTheAnalyticTargets) {
  const nlohmann::json gauss = target_reference("correlated_gaussian")["analytic"];
  ds::SurrogateHmcReport report;
  const ds::McmcResult g =
      ds::sample_surrogate_hmc(*target("correlated_gaussian"), settings(1), {}, {}, &report);
  dstest::expect_moments(g.chains, json_vector(gauss["mean"]), json_vector(gauss["sd"]),
                         "surrogate HMC correlated_gaussian");
  // A Gaussian is fitted exactly: stage 2 rejects only what the defensive tail proposes.
  EXPECT_GT(report.stage2_acceptance, 0.75);
  EXPECT_GT(report.stage1_acceptance, 0.9);

  const nlohmann::json banana = target_reference("banana_rosenbrock_like")["analytic"];
  const ds::McmcResult b =
      ds::sample_surrogate_hmc(*target("banana_rosenbrock_like"), settings(2), {}, {}, &report);
  dstest::expect_moments(b.chains, json_vector(banana["mean"]), json_vector(banana["sd"]),
                         "surrogate HMC banana_rosenbrock_like");
  std::printf("  banana: stage 1 %.3f, stage 2 %.3f, %zu exact evaluations, %zu surrogate points\n",
              report.stage1_acceptance, report.stage2_acceptance, report.exact_evaluations,
              report.surrogate_points);

  const nlohmann::json box = target_reference("box_truncated_gaussian")["numerical_2d"];
  ds::SurrogateHmcSettings s = settings(3);
  s.run.starts = {{0.12, 0.63}};
  const ds::McmcResult t = ds::sample_surrogate_hmc(*target("box_truncated_gaussian"), s);
  for (std::size_t k = 0; k < t.chains.chains * t.chains.draws; ++k) {
    EXPECT_GE(t.chains.values[2 * k], 0.1);
    EXPECT_GE(t.chains.values[2 * k + 1], 0.6);
  }
  dstest::expect_moments(t.chains, json_vector(box["mean"]), json_vector(box["sd"]),
                         "surrogate HMC box_truncated_gaussian");
}

// Exactness does not rest on the surrogate: fitted to one design round alone (9 points at +-1 sd,
// no warm-up refits) on the banana, whose curved arms that misses, the moments are still right;
// only the second stage rejects more.
TEST(SurrogateHmc, APoorSurrogateCostsAcceptanceNotExactness) {
  const nlohmann::json banana = target_reference("banana_rosenbrock_like")["analytic"];
  ds::SurrogateHmcSettings s = settings(4, 0, 6000);
  s.design_rounds = 1;
  s.design_half_width = {0.04, 0.035};
  ds::SurrogateHmcReport report;
  const ds::McmcResult b =
      ds::sample_surrogate_hmc(*target("banana_rosenbrock_like"), s, {}, {}, &report);
  dstest::expect_moments(b.chains, json_vector(banana["mean"]), json_vector(banana["sd"]),
                         "surrogate HMC, design-only surrogate");
  std::printf("  design-only surrogate: stage 2 acceptance %.3f over %zu surrogate points\n",
              report.stage2_acceptance, report.surrogate_points);
  EXPECT_EQ(report.surrogate_points, 1u + 8u);  // the start and one design round
  EXPECT_LT(report.stage2_acceptance, 0.999);
}

// Per iteration and chain at most one exact evaluation, value only, all chains in one call; the
// effective sample size per exact evaluation is far beyond what gradient-based HMC gets.
TEST(SurrogateHmc, OneExactValuePerIterationAndChainAndNoGradient) {
  const auto gauss = target("correlated_gaussian");
  const ValueOnlyCheck value_only(*gauss);
  const CountingDensity counted(value_only);
  ds::SurrogateHmcReport report;
  const ds::SurrogateHmcSettings s = settings(5, 100, 1000);
  const ds::McmcResult r = ds::sample_surrogate_hmc(counted, s, {}, {}, &report);
  EXPECT_EQ(value_only.gradient_requests, 0u);
  const std::size_t iterations = s.run.warmup + s.run.draws;
  EXPECT_LE(counted.points.load(),
            s.run.chains + report.design_evaluations + s.run.chains * iterations);
  EXPECT_EQ(counted.points.load(), report.exact_evaluations);
  EXPECT_EQ(r.density_points, report.exact_evaluations);
  EXPECT_LE(counted.max_batch.load(), std::max<std::size_t>(s.run.chains, 8));
  // One call per iteration at most (plus the starts and the design rounds).
  EXPECT_LE(counted.calls.load(), 1 + s.design_rounds + iterations);
  double ess = 1e300;
  for (std::size_t p = 0; p < 2; ++p)
    ess = std::min(ess, ds::ess_bulk(ds::parameter_draws(r.chains, p)));
  const double per_evaluation = ess / double(report.exact_evaluations);
  std::printf("  bulk ESS %.0f from %zu exact evaluations: %.3f per evaluation\n", ess,
              report.exact_evaluations, per_evaluation);
  EXPECT_GT(per_evaluation, 0.3);
}

TEST(SurrogateHmc, IsDeterministicAndTheSameWithAndWithoutLockstep) {
  const auto banana = target("banana_rosenbrock_like");
  const ds::SurrogateHmcSettings s = settings(6, 50, 200);
  const ds::McmcResult a = ds::sample_surrogate_hmc(*banana, s);
  const ds::McmcResult b = ds::sample_surrogate_hmc(*banana, s);
  EXPECT_EQ(a.chains.values, b.chains.values);
  ds::SurrogateHmcSettings sequential = s;
  sequential.run.lockstep = false;
  const ds::McmcResult c = ds::sample_surrogate_hmc(*banana, sequential);
  EXPECT_EQ(a.chains.values, c.chains.values);
  EXPECT_EQ(a.chains.sampler, "surrogate_hmc");
  const auto config = nlohmann::json::parse(a.chains.settings_json);
  EXPECT_EQ(config["sampler"], "surrogate_hmc");
  EXPECT_TRUE(config.contains("stage2_acceptance"));
}

// NaN from the exact density where the surrogate sends a proposal: a divergence, rejected.
TEST(SurrogateHmc, ANanOfTheExactDensityIsARejectedDivergence) {
  const dstest::NanRegion holed(target("correlated_gaussian"), 0.32);
  const ds::McmcResult r = ds::sample_surrogate_hmc(holed, settings(7, 50, 500));
  EXPECT_GT(r.divergences, 0u);
  for (std::size_t k = 0; k < r.chains.chains * r.chains.draws; ++k)
    EXPECT_LE(r.chains.values[2 * k], 0.32);
}

TEST(SurrogateHmc, RefusesBadSettingsAndStarts) {
  const auto gauss = target("correlated_gaussian");
  ds::SurrogateHmcSettings s = settings(8, 10, 10);
  s.min_leapfrog = 10;
  s.max_leapfrog = 5;
  EXPECT_THROW(ds::sample_surrogate_hmc(*gauss, s), ds::InvalidArgument);
  s = settings(8, 10, 10);
  s.step_size = 0.0;
  EXPECT_THROW(ds::sample_surrogate_hmc(*gauss, s), ds::InvalidArgument);
  const auto box = target("box_truncated_gaussian");
  s = settings(8, 10, 10);
  s.run.starts = {{0.05, 0.7}};
  try {
    ds::sample_surrogate_hmc(*box, s);
    FAIL() << "no error";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("lies outside the support"), std::string::npos)
        << e.what();
  }
}
