// Noise schedules: published values, the reference checkpoint's betas, the float32 arithmetic of
// the reference code, and the statistics of q(x_t | x_0).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/schedule.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace {

TEST(Schedule, CustomLinearNoiseLevelsMatchTheReferenceDocument) {
  // shared/reference/diffusion-hmc.md: sqrt(1 - alphabar) is 0.010 at t=0, 0.062 at t=19,
  // 0.242 at t=100, 0.852 at t=500 (three decimals).
  const auto s = ds::make_schedule(ds::ScheduleKind::CustomLinear);
  ASSERT_EQ(s.steps(), 1000);
  EXPECT_DOUBLE_EQ(s.betas.front(), 1e-4);
  EXPECT_NEAR(s.betas.back(), 0.03, 1e-15);
  const struct {
    int t;
    double expected;
  } table[] = {{0, 0.010}, {19, 0.062}, {100, 0.242}, {500, 0.852}};
  for (const auto& row : table)
    EXPECT_NEAR(s.sqrt_one_minus_alphabar[row.t], row.expected, 0.0005)
        << "t = " << row.t << ": sqrt(1 - alphabar) = " << s.sqrt_one_minus_alphabar[row.t];
}

TEST(Schedule, CustomLinearBetasEqualTheCheckpointsToFloat32Precision) {
  const auto expected = ds::read_npy(std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/betas.npy");
  const auto betas = ds::schedule_betas(ds::ScheduleKind::CustomLinear, 1000);
  ASSERT_EQ(expected.size(), betas.size());
  double worst = 0.0;
  for (std::size_t t = 0; t < betas.size(); ++t)
    worst = std::max(worst, std::abs(betas[t] - expected.data[t]) / expected.data[t]);
  std::printf("custom-linear vs betas.npy: max relative difference %.3g\n", worst);
  EXPECT_LT(worst, 3e-7);  // a few float32 ulps: torch builds the schedule in float32
}

TEST(Schedule, DerivedQuantitiesSatisfyTheirDefinitions) {
  for (auto kind :
       {ds::ScheduleKind::CustomLinear, ds::ScheduleKind::Linear, ds::ScheduleKind::Cosine}) {
    const auto s = ds::make_schedule(kind);
    SCOPED_TRACE(s.name);
    EXPECT_DOUBLE_EQ(s.posterior_mean_coef1[0], 1.0);  // p(x_0 | x_1) has mean x0_hat
    EXPECT_DOUBLE_EQ(s.posterior_mean_coef2[0], 0.0);
    EXPECT_DOUBLE_EQ(s.posterior_variance[0], 0.0);
    EXPECT_DOUBLE_EQ(s.posterior_log_variance_clipped[0], std::log(s.posterior_variance[1]));
    for (int t = 1; t < s.steps(); ++t) {
      EXPECT_NEAR(s.alphabar[t], s.alphabar[t - 1] * s.alphas[t], 1e-15);
      EXPECT_LE(s.alphabar[t], s.alphabar[t - 1]);
      // The posterior of two Gaussians: 1/beta_tilde = alpha/beta + 1/(1 - alphabar_prev).
      const double precision = s.alphas[t] / s.betas[t] + 1.0 / (1.0 - s.alphabar_prev[t]);
      EXPECT_NEAR(s.posterior_variance[t] * precision, 1.0, 1e-11) << "t = " << t;
      EXPECT_NEAR(s.sqrt_one_minus_alphabar[t] * s.sqrt_one_minus_alphabar[t] + s.alphabar[t], 1.0,
                  1e-14);
    }
  }
}

TEST(Schedule, LinearAndCosineFollowTheirPapers) {
  const auto linear = ds::make_schedule(ds::ScheduleKind::Linear);
  EXPECT_DOUBLE_EQ(linear.betas.front(), 1e-4);
  EXPECT_DOUBLE_EQ(linear.betas.back(), 0.02);
  EXPECT_NEAR(linear.betas[500] - linear.betas[499], (0.02 - 1e-4) / 999, 1e-15);
  const auto cosine = ds::make_schedule(ds::ScheduleKind::Cosine);
  const double s = 0.008, f0 = std::pow(std::cos(s / (1 + s) * M_PI / 2), 2);
  for (int t : {0, 10, 250, 500, 900}) {
    const double f = std::pow(std::cos(((t + 1) / 1000.0 + s) / (1 + s) * M_PI / 2), 2);
    EXPECT_NEAR(cosine.alphabar[t], f / f0, 1e-12) << "t = " << t;
  }
  EXPECT_DOUBLE_EQ(cosine.betas.back(), 0.999);  // the clip
  EXPECT_EQ(ds::schedule_kind_from_checkpoint_name("custom_linear_beta_schedule"),
            ds::ScheduleKind::CustomLinear);
  EXPECT_EQ(ds::schedule_kind_from_checkpoint_name("cosine"), ds::ScheduleKind::Cosine);
  EXPECT_THROW(ds::schedule_kind_from_checkpoint_name("sigmoid"), ds::InvalidArgument);
}

TEST(Schedule, Float32TorchArithmeticMatchesLibTorchBitForBit) {
  // The reference Diffusion class, one tensor operation per line, on the checkpoint's betas.
  const auto betas_npy = ds::read_npy(std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/betas.npy");
  const auto s =
      ds::NoiseSchedule::from_betas(betas_npy.data, ds::ScheduleArithmetic::Float32Torch);
  std::vector<float> b(betas_npy.data.begin(), betas_npy.data.end());
  const auto betas = torch::from_blob(b.data(), {1000}, torch::kFloat32).clone();
  const auto alphas = 1. - betas;
  const auto alphabar = torch::cumprod(alphas, 0);
  const auto alphabar_prev = torch::constant_pad_nd(alphabar.slice(0, 0, 999), {1, 0}, 1.0);
  const auto check = [](const torch::Tensor& expected, const std::vector<double>& got,
                        const char* name) {
    for (int t = 0; t < 1000; ++t)
      ASSERT_EQ(static_cast<float>(got[t]), expected[t].item<float>()) << name << " at t = " << t;
  };
  check(alphabar, s.alphabar, "alphabar");
  check(torch::sqrt(alphabar), s.sqrt_alphabar, "sqrt_alphabar");
  check(torch::sqrt(1. - alphabar), s.sqrt_one_minus_alphabar, "sqrt_one_minus_alphabar");
  check(torch::sqrt(1. / alphabar), s.sqrt_recip_alphabar, "sqrt_recip_alphabar");
  check(torch::sqrt(1. / alphabar - 1), s.sqrt_recipm1_alphabar, "sqrt_recipm1_alphabar");
  check(betas * (1. - alphabar_prev) / (1. - alphabar), s.posterior_variance, "posterior_variance");
  check(betas * torch::sqrt(alphabar_prev) / (1. - alphabar), s.posterior_mean_coef1, "coef1");
  check(torch::sqrt(alphas) * (1. - alphabar_prev) / (1. - alphabar), s.posterior_mean_coef2,
        "coef2");
  // The float32 artefact this mode exists for: 1 - alphabar_0 is not beta_0.
  EXPECT_NEAR(s.sqrt_one_minus_alphabar[0] * s.sqrt_one_minus_alphabar[0] / s.betas[0], 1.000166,
              2e-6);
}

TEST(Schedule, ForwardSamplesHaveTheClosedFormMeanAndVariance) {
  // q(x_t | x_0) = N(sqrt(alphabar_t) x_0, 1 - alphabar_t): z-scores of the sample mean and of
  // the sample variance (chi^2 with N - 1 dof, normal approximation) over N = 40000 pixels.
  const auto s = ds::make_schedule(ds::ScheduleKind::CustomLinear);
  const std::vector<double> x0(40000, 0.7);
  ds::Rng rng(5);
  for (int t : {0, 19, 100, 500, 999}) {
    const auto x = s.forward_sample(x0, t, rng);
    double mean = 0.0;
    for (double v : x) mean += v;
    mean /= x.size();
    double var = 0.0;
    for (double v : x) var += (v - mean) * (v - mean);
    var /= x.size() - 1;
    const double n = x.size(), v0 = 1.0 - s.alphabar[t];
    const double z_mean = (mean - s.sqrt_alphabar[t] * 0.7) / std::sqrt(v0 / n);
    const double z_var = (var / v0 - 1.0) / std::sqrt(2.0 / (n - 1));
    std::printf("t = %d: z(mean) = %.2f, z(var) = %.2f\n", t, z_mean, z_var);
    EXPECT_LT(std::abs(z_mean), 4.0) << "t = " << t;
    EXPECT_LT(std::abs(z_var), 4.0) << "t = " << t;
  }
  EXPECT_THROW(s.forward_sample(x0, 1000, rng), ds::InvalidArgument);
}

TEST(Schedule, BadBetasAreRefusedWithTheirIndex) {
  EXPECT_THROW(ds::NoiseSchedule::from_betas({}), ds::InvalidArgument);
  try {
    ds::NoiseSchedule::from_betas({0.1, 1.0});
    FAIL() << "beta = 1 accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("beta[1]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ds::schedule_betas(ds::ScheduleKind::CustomLinear, 999), ds::InvalidArgument);
}

}  // namespace
