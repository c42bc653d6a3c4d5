// Golden test: the truncated VLB terms and their gradient for the dhmc_tiny checkpoint, field,
// parameters and noise, as the authors' Diffusion class and HMC code path computed them
// (shared/testdata/dhmc_tiny/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/vlb.h"
#include "diffuscope/runtime.h"

namespace {

const std::string kDir = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/";

std::vector<float> as_float(const ds::NpyArray& a) {
  return {a.data.begin(), a.data.end()};
}

double max_relative_error(const std::vector<double>& got, const std::vector<double>& expected,
                          std::size_t* worst) {
  double m = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double e = std::abs(got[i] - expected[i]) / std::max(std::abs(expected[i]), 1e-30);
    if (e > m) m = e, *worst = i;
  }
  return m;
}

TEST(VlbGolden, ReproducesTheAuthorsTermsAndGradient) {
  const auto model = ds::DiffusionModel2d::load(kDir + "checkpoint_tiny.pt");
  EXPECT_EQ(model.schedule.arithmetic, ds::ScheduleArithmetic::Float32Torch);
  const auto x0 = ds::read_npy(kDir + "vlb_x0.npy");
  const auto theta = ds::read_npy(kDir + "vlb_theta.npy");
  const auto noise = ds::read_npy(kDir + "vlb_noise.npy");
  const auto terms = ds::read_npy(kDir + "vlb_terms_expected.npy");
  const auto grad = ds::read_npy(kDir + "vlb_grad_expected.npy");
  ASSERT_EQ(noise.shape, (std::vector<std::size_t>{20, 1, 32, 32}));
  ASSERT_EQ(terms.shape, (std::vector<std::size_t>{20}));

  ds::VlbSettings settings;
  settings.t_max = 20;
  settings.noise = ds::VlbNoiseMode::Common;
  for (std::size_t chunk : {std::size_t(0), std::size_t(7)}) {  // one batch, and 3 chunks
    settings.max_batch = chunk;
    ds::TruncatedVlb vlb(model, as_float(x0), 32, settings);
    vlb.set_common_noise(as_float(noise));
    const auto result = vlb.evaluate(theta.data, true);
    ASSERT_EQ(result.terms.size(), 20u);
    std::size_t worst = 0;
    const double term_error = max_relative_error(result.terms, terms.data, &worst);
    std::printf(
        "chunk %zu: max relative error of the 20 terms %.3g (worst t = %zu: %.8g vs %.8g)\n", chunk,
        term_error, worst, result.terms[worst], terms.data[worst]);
    EXPECT_LT(term_error, 1e-4) << "t = " << worst << ": got " << result.terms[worst]
                                << ", expected " << terms.data[worst];
    std::size_t worst_grad = 0;
    const double grad_error = max_relative_error(result.gradient, grad.data, &worst_grad);
    std::printf("chunk %zu: gradient (%.8g, %.8g) vs (%.8g, %.8g), max relative error %.3g\n",
                chunk, result.gradient[0], result.gradient[1], grad.data[0], grad.data[1],
                grad_error);
    EXPECT_LT(grad_error, 1e-4) << "component " << worst_grad;
    double total = 0.0;
    for (double v : terms.data) total += v;
    EXPECT_NEAR(result.log_likelihood[0], -total, 1e-4 * std::abs(total));
  }
}

TEST(VlbGolden, DoubleScheduleArithmeticWouldMissTheFirstTerm) {
  // Why Diffusion-HMC checkpoints get ScheduleArithmetic::Float32Torch: in float32, 1 - alphabar
  // at the first steps is off by ~1e-4 relative (1.00017e-4 instead of beta_0 = 1e-4 at t = 0),
  // and the first terms, whose variances are that small, inherit it.
  auto model = ds::DiffusionModel2d::load(kDir + "checkpoint_tiny.pt");
  model.schedule = ds::NoiseSchedule::from_betas(model.schedule.betas);
  ds::VlbSettings settings;
  settings.noise = ds::VlbNoiseMode::Common;
  ds::TruncatedVlb vlb(model, as_float(ds::read_npy(kDir + "vlb_x0.npy")), 32, settings);
  vlb.set_common_noise(as_float(ds::read_npy(kDir + "vlb_noise.npy")));
  const auto result = vlb.evaluate(ds::read_npy(kDir + "vlb_theta.npy").data, false);
  const auto terms = ds::read_npy(kDir + "vlb_terms_expected.npy");
  std::size_t worst = 0;
  const double error = max_relative_error(result.terms, terms.data, &worst);
  std::printf("double arithmetic: max relative error %.3g at t = %zu\n", error, worst);
  EXPECT_GT(error, 1e-4);
}

}  // namespace
