// Sampling fields from a loaded model (the dhmc_tiny checkpoint): shapes, fixed-seed mode, the
// inverse transform.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"

namespace {

const std::string kCheckpoint = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/checkpoint_tiny.pt";

double rms_difference(const float* a, const float* b, std::size_t n) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += double(a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / n);
}

TEST(ModelSampling, LoadsTheCheckpointsScheduleTransformAndNormalisation) {
  const auto model = ds::DiffusionModel2d::load(kCheckpoint);
  EXPECT_EQ(model.schedule.steps(), 1000);
  EXPECT_EQ(model.schedule.name, "custom_linear_beta_schedule");
  EXPECT_EQ(model.transform.kind, ds::FieldTransformKind::Log10MinMax);
  EXPECT_DOUBLE_EQ(model.transform.lo, 9.421);
  EXPECT_EQ(model.parameters.normalise({0.3, 0.8}), (std::vector<float>{0.5f, 0.5f}));
  EXPECT_THROW(ds::require_field_size(model, 30), ds::InvalidArgument);  // factor 4
}

TEST(ModelSampling, FixedSeedModeSharesTheNoiseAcrossParameters) {
  const auto model = ds::DiffusionModel2d::load(kCheckpoint);
  ds::FieldSampleRequest request;
  request.thetas = {0.3, 0.8, 0.3, 0.8, 0.45, 0.65};
  request.per_theta = 2;
  request.n = 16;
  request.seed = 9;
  request.physical = false;
  request.sampler.kind = ds::DiffusionSamplerKind::Ddim;
  request.sampler.steps = 4;
  request.sampler.eta = 0.5;  // stochastic steps: the per-step noise must be shared as well
  request.fixed_seed = true;
  const auto fixed = ds::sample_fields(model, request);
  ASSERT_EQ(fixed.size(), 6u * 16 * 16);
  const std::size_t f = 256;
  // Rows: (theta0, 0), (theta0, 1), (theta1 = theta0, 0), (theta1, 1), (theta2, 0), (theta2, 1).
  EXPECT_EQ(rms_difference(&fixed[0], &fixed[2 * f], f), 0.0);
  EXPECT_EQ(rms_difference(&fixed[f], &fixed[3 * f], f), 0.0);
  EXPECT_GT(rms_difference(&fixed[0], &fixed[f], f), 0.1);
  const double same_noise = rms_difference(&fixed[0], &fixed[4 * f], f);

  request.fixed_seed = false;
  const auto free = ds::sample_fields(model, request);
  EXPECT_EQ(rms_difference(&free[0], &fixed[0], f), 0.0);  // row 0 uses stream 0 either way
  EXPECT_GT(rms_difference(&free[0], &free[2 * f], f), 0.1);
  const double other_noise = rms_difference(&free[0], &free[4 * f], f);
  std::printf("rms difference theta0 vs theta2: same noise %.4f, independent noise %.4f\n",
              same_noise, other_noise);
  EXPECT_LT(same_noise, 0.5 * other_noise);  // differences come from theta alone
}

TEST(ModelSampling, FirstStreamDrawsOneMemberOfAnEnsembleOnItsOwn) {
  // Member i of a batch drawn alone (first_stream = i, one field) equals row i of the batch:
  // an ensemble can fill in progressively and still be the one `sample --n` draws.
  const auto model = ds::DiffusionModel2d::load(kCheckpoint);
  ds::FieldSampleRequest request;
  request.n = 16;
  request.per_theta = 3;
  request.seed = 11;
  request.sampler.steps = 3;
  request.sampler.eta = 1.0;  // per-step noise too
  request.physical = false;   // a random-weight network's fields overflow physical units
  const auto batch = ds::sample_fields(model, request);
  const std::size_t f = 256;
  ASSERT_EQ(batch.size(), 3 * f);
  request.per_theta = 1;
  for (std::uint64_t i = 0; i < 3; ++i) {
    request.first_stream = i;
    const auto one = ds::sample_fields(model, request);
    // The same noise and arithmetic; a batch of one and of three may round differently in the
    // network's matrix products.
    const std::vector<float> zero(f, 0.0f);
    const double scale = rms_difference(&batch[i * f], zero.data(), f);
    EXPECT_LT(rms_difference(one.data(), &batch[i * f], f), 1e-5 * scale) << "member " << i;
  }
  EXPECT_GT(rms_difference(&batch[0], &batch[f], f), 0.1);
}

TEST(ModelSampling, PhysicalFieldsAreTheInverseTransformOfModelFields) {
  const auto model = ds::DiffusionModel2d::load(kCheckpoint);
  ds::FieldSampleRequest request;
  request.n = 16;
  request.sampler.steps = 3;
  request.physical = false;
  const auto raw = ds::sample_fields(model, request);
  request.physical = true;
  const auto physical = ds::sample_fields(model, request);
  ASSERT_EQ(raw.size(), physical.size());
  // (A random-weight network's fields are far outside [-1, 1]; compare the wiring, not values.)
  auto expected = raw;
  model.transform.to_physical(expected);
  EXPECT_EQ(physical, expected);
  EXPECT_NEAR(model.transform.to_physical(0.0) / std::pow(10.0, (9.421 + 15.445) / 2), 1.0, 1e-12);
  request.thetas = {0.3, 0.8, 0.1};
  EXPECT_THROW(ds::sample_fields(model, request), ds::InvalidArgument);
}

}  // namespace
