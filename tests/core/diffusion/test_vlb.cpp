// The truncated VLB on the dhmc_tiny checkpoint: batching over parameter points and chunking
// change nothing, the autograd gradient matches finite differences, noise modes behave as
// documented, L_T has its closed form.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/vlb.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/mcmc/hmc.h"
#include "diffuscope/runtime.h"

namespace {

const std::string kDir = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/";

struct Fixture {
  ds::DiffusionModel2d model = ds::DiffusionModel2d::load(kDir + "checkpoint_tiny.pt");
  std::vector<float> x0;
  Fixture() {
    const auto a = ds::read_npy(kDir + "vlb_x0.npy");
    x0.assign(a.data.begin(), a.data.end());
  }
};

ds::VlbSettings common_settings(int t_max, int draws) {
  ds::VlbSettings s;
  s.t_max = t_max;
  s.noise = ds::VlbNoiseMode::Common;
  s.draws = draws;
  s.seed = 4;
  return s;
}

TEST(TruncatedVlb, BatchedPointsEqualSeparateEvaluations) {
  Fixture f;
  ds::TruncatedVlb vlb(f.model, f.x0, 32, common_settings(6, 2));
  const std::vector<double> thetas{0.3, 0.8, 0.25, 0.85, 0.41, 0.66};
  auto settings = common_settings(6, 2);
  settings.max_batch = 5;  // 24 rows in 5 chunks, cutting through points and draws
  ds::TruncatedVlb chunked(f.model, f.x0, 32, settings);
  const auto batched = vlb.evaluate(thetas, true);
  const auto cut = chunked.evaluate(thetas, true);
  ASSERT_EQ(batched.points, 3u);
  ASSERT_EQ(batched.terms.size(), 18u);
  for (std::size_t b = 0; b < 3; ++b) {
    const auto single = vlb.evaluate({thetas[2 * b], thetas[2 * b + 1]}, true);
    for (std::size_t t = 0; t < 6; ++t) {
      EXPECT_NEAR(single.terms[t], batched.terms[b * 6 + t], 1e-5 * std::abs(single.terms[t]));
      EXPECT_NEAR(cut.terms[b * 6 + t], batched.terms[b * 6 + t], 1e-5 * std::abs(single.terms[t]));
    }
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_NEAR(single.gradient[k], batched.gradient[b * 2 + k],
                  1e-4 * std::abs(single.gradient[k]) + 1e-6);
      EXPECT_NEAR(cut.gradient[b * 2 + k], batched.gradient[b * 2 + k],
                  1e-4 * std::abs(single.gradient[k]) + 1e-6);
    }
  }
}

TEST(TruncatedVlb, GradientMatchesFiniteDifferencesInRawParameters) {
  // Common noise makes log L a smooth function of theta; central differences with h = 1e-3 in
  // raw units (the float32 network limits the accuracy to ~1e-2 relative).
  Fixture f;
  ds::TruncatedVlb vlb(f.model, f.x0, 32, common_settings(20, 1));
  const std::vector<double> theta{0.3, 0.8};
  const auto at = vlb.evaluate(theta, true);
  const double h = 1e-3;
  for (int k = 0; k < 2; ++k) {
    auto plus = theta, minus = theta;
    plus[k] += h;
    minus[k] -= h;
    const double fd = (vlb.evaluate(plus, false).log_likelihood[0] -
                       vlb.evaluate(minus, false).log_likelihood[0]) /
                      (2 * h);
    std::printf("d log L / d theta_%d: autograd %.6g, central difference %.6g\n", k, at.gradient[k],
                fd);
    EXPECT_NEAR(at.gradient[k], fd, 1e-2 * std::abs(fd) + 1e-3);
  }
}

TEST(TruncatedVlb, CommonDrawsAverageAndFreshNoiseChanges) {
  Fixture f;
  const int tm = 4;
  ds::TruncatedVlb two(f.model, f.x0, 32, common_settings(tm, 2));
  ds::TruncatedVlb again(f.model, f.x0, 32, common_settings(tm, 2));
  const std::vector<double> theta{0.3, 0.8};
  const auto a = two.evaluate(theta, false);
  EXPECT_EQ(a.terms, two.evaluate(theta, false).terms);    // deterministic
  EXPECT_EQ(a.terms, again.evaluate(theta, false).terms);  // same seed, same draws

  // The average over K given draws equals the mean of single-draw evaluations.
  std::vector<float> noise(2 * tm * 32 * 32);
  ds::Rng rng(77);
  for (auto& v : noise) v = float(rng.normal());
  two.set_common_noise(noise);
  const auto both = two.evaluate(theta, false);
  std::vector<double> mean(tm, 0.0);
  for (int k = 0; k < 2; ++k) {
    ds::TruncatedVlb one(f.model, f.x0, 32, common_settings(tm, 1));
    one.set_common_noise(
        std::vector<float>(noise.begin() + k * tm * 1024, noise.begin() + (k + 1) * tm * 1024));
    const auto r = one.evaluate(theta, false);
    for (int t = 0; t < tm; ++t) mean[t] += 0.5 * r.terms[t];
  }
  for (int t = 0; t < tm; ++t) EXPECT_NEAR(both.terms[t], mean[t], 1e-9 * std::abs(mean[t]));

  ds::VlbSettings fresh_settings;
  fresh_settings.t_max = tm;
  fresh_settings.seed = 4;
  ds::TruncatedVlb fresh(f.model, f.x0, 32, fresh_settings);
  ds::TruncatedVlb fresh_again(f.model, f.x0, 32, fresh_settings);
  const auto first = fresh.evaluate(theta, false);
  const auto second = fresh.evaluate(theta, false);
  EXPECT_NE(first.terms, second.terms);                              // new noise per call
  EXPECT_EQ(first.terms, fresh_again.evaluate(theta, false).terms);  // reproducible for a seed
}

TEST(TruncatedVlb, PriorTermHasItsClosedForm) {
  Fixture f;
  auto settings = common_settings(2, 1);
  settings.include_prior_term = true;
  ds::TruncatedVlb vlb(f.model, f.x0, 32, settings);
  const auto r = vlb.evaluate({0.3, 0.8}, false);
  ASSERT_EQ(r.terms_per_point, 3u);
  const double ab = f.model.schedule.alphabar.back();
  double expected = 0.0;
  for (float v : f.x0) expected += 0.5 * (-1 - std::log(1 - ab) + (1 - ab) + ab * v * v);
  EXPECT_NEAR(r.terms[2], expected, 1e-9 * std::abs(expected));
  EXPECT_NEAR(r.log_likelihood[0], -(r.terms[0] + r.terms[1] + r.terms[2]), 1e-9);
}

TEST(TruncatedVlb, RefusesBadInputs) {
  Fixture f;
  EXPECT_THROW(ds::TruncatedVlb(f.model, f.x0, 32, common_settings(0, 1)), ds::InvalidArgument);
  EXPECT_THROW(ds::TruncatedVlb(f.model, f.x0, 32, common_settings(1001, 1)), ds::InvalidArgument);
  EXPECT_THROW(ds::TruncatedVlb(f.model, f.x0, 16, common_settings(2, 1)), ds::InvalidArgument);
  auto bad = f.x0;
  bad[5] = NAN;
  EXPECT_THROW(ds::TruncatedVlb(f.model, bad, 32, common_settings(2, 1)), ds::InvalidArgument);
  ds::TruncatedVlb vlb(f.model, f.x0, 32, common_settings(2, 1));
  EXPECT_THROW(vlb.evaluate({0.3}, false), ds::InvalidArgument);
  EXPECT_THROW(vlb.set_common_noise(std::vector<float>(100, 0.0f)), ds::InvalidArgument);
}

TEST(VlbPosterior, IsTheVlbTimesTheFlatPriorAndDrivesHmc) {
  Fixture f;
  const auto settings = common_settings(3, 1);
  const auto posterior = ds::vlb_posterior(f.model, f.x0, 32, settings);
  ds::TruncatedVlb vlb(f.model, f.x0, 32, settings);
  const auto direct = vlb.evaluate({0.3, 0.8, 0.2, 0.7}, true);
  std::vector<double> values, gradients;
  posterior->evaluate({0.3, 0.8, 0.55, 0.8, 0.2, 0.7}, 3, values, &gradients);
  const double log_volume = std::log(0.4 * 0.4);
  EXPECT_NEAR(values[0], direct.log_likelihood[0] - log_volume, 1e-6 * std::abs(values[0]));
  EXPECT_EQ(values[1], -INFINITY);  // Omega_m = 0.55 is outside the prior box
  EXPECT_NEAR(values[2], direct.log_likelihood[1] - log_volume, 1e-6 * std::abs(values[2]));
  EXPECT_NEAR(gradients[0], direct.gradient[0], 1e-4 * std::abs(direct.gradient[0]));
  EXPECT_NEAR(gradients[5], direct.gradient[3], 1e-4 * std::abs(direct.gradient[3]));
  EXPECT_EQ(posterior->names(), (std::vector<std::string>{"Omega_m", "sigma_8"}));

  // The published HMC configuration runs on it (two chains batched into one network call).
  ds::HmcSettings hmc;
  hmc.run.chains = 2;
  hmc.run.warmup = 2;
  hmc.run.draws = 4;
  hmc.run.starts = {{0.3, 0.8}};
  hmc.leapfrog_steps = 3;
  const auto result = ds::sample_hmc(*posterior, hmc);
  EXPECT_EQ(result.chains.draws, 4u);
  EXPECT_EQ(result.divergences, 0u);
  for (double v : result.chains.values) EXPECT_TRUE(std::isfinite(v));
  EXPECT_LE(result.density_points, 2 * result.density_calls);
}

}  // namespace

// The network precision (runtime.h): bf16 changes the VLB's terms (the network runs in bfloat16)
// but only by a little relative to their size, gives gradients still, and fp32 afterwards is
// bit for bit what it was; the setting's names are parsed and bad ones named.
TEST(TruncatedVlb, Bf16PrecisionIsAnOptionThatChangesTheValuesAndIsUndone) {
  Fixture f;
  ds::TruncatedVlb vlb(f.model, f.x0, 32, common_settings(4, 1));
  const std::vector<double> theta{0.3, 0.8};
  const auto before = vlb.evaluate(theta, true);
  ASSERT_EQ(ds::network_precision(), ds::Precision::Fp32);
  ds::set_network_precision(ds::Precision::Bf16);
  const auto reduced = vlb.evaluate(theta, true);
  ds::set_network_precision(ds::Precision::Fp32);
  const auto after = vlb.evaluate(theta, true);
  EXPECT_EQ(after.terms, before.terms);
  EXPECT_EQ(after.gradient, before.gradient);
  double changed = 0.0;
  for (std::size_t t = 0; t < before.terms.size(); ++t) {
    changed = std::max(changed, std::abs(reduced.terms[t] - before.terms[t]));
    EXPECT_NEAR(reduced.terms[t], before.terms[t], 0.05 * std::abs(before.terms[t]) + 1.0) << t;
  }
  EXPECT_GT(changed, 0.0) << "bf16 left every term unchanged: the network did not run in bf16";
  ASSERT_EQ(reduced.gradient.size(), 2u);
  for (double g : reduced.gradient) EXPECT_TRUE(std::isfinite(g));

  EXPECT_EQ(ds::parse_precision("bf16"), ds::Precision::Bf16);
  EXPECT_STREQ(ds::precision_name(ds::Precision::Fp32), "fp32");
  try {
    ds::parse_precision("fp16");
    ADD_FAILURE() << "fp16 accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'fp16'"), std::string::npos) << e.what();
  }
}
