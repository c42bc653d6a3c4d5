// Observation noise for the noise-robustness check (diffusion/observed_field.h): N(0, sigma) on
// log10 of the field is sigma * 2 / (hi - lo) in log10-minmax model space, sigma / scale for an
// affine transform; seeded and reproducible.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/error.h"

namespace {

// Mean and standard deviation of the added noise.
std::pair<double, double> moments(const std::vector<float>& noisy, double base) {
  double sum = 0.0, squares = 0.0;
  for (float v : noisy) sum += v - base;
  const double mean = sum / double(noisy.size());
  for (float v : noisy) squares += (v - base - mean) * (v - base - mean);
  return {mean, std::sqrt(squares / double(noisy.size() - 1))};
}

TEST(ObservationNoise, IsSigmaOnLog10OfTheFieldInModelSpace) {
  const auto transform = ds::FieldTransform::diffusion_hmc();  // lo 9.421, hi 15.445
  const std::size_t count = 128 * 128;
  // A physical field of 1e12 everywhere; its model-space value is base.
  const double base = transform.to_model(1e12);
  std::vector<float> values(count, float(base));
  ds::add_observation_noise(values, transform, 0.05, 7);
  const auto [mean, sd] = moments(values, base);
  const double expected = 0.05 * 2.0 / (15.445 - 9.421);
  std::printf("model-space noise: mean %.3g, sd %.6g (expected %.6g)\n", mean, sd, expected);
  // sd of a sample of 16384 normals: relative standard error 1/sqrt(2 * 16384) = 0.55%.
  EXPECT_NEAR(sd, expected, 0.03 * expected);
  EXPECT_NEAR(mean, 0.0, 4.0 * expected / 128.0);
  // In physical units: log10 of the noisy field has sd 0.05.
  std::vector<float> physical = values;
  transform.to_physical(physical);
  std::vector<float> logs(count);
  for (std::size_t i = 0; i < count; ++i) logs[i] = float(std::log10(double(physical[i])));
  EXPECT_NEAR(moments(logs, 12.0).second, 0.05, 0.0015);

  // Same seed, same noise; another seed, other noise; sigma 0 changes nothing.
  std::vector<float> again(count, float(base)), other(count, float(base)), none(count, 0.5f);
  ds::add_observation_noise(again, transform, 0.05, 7);
  ds::add_observation_noise(other, transform, 0.05, 8);
  ds::add_observation_noise(none, transform, 0.0, 7);
  EXPECT_EQ(again, values);
  EXPECT_NE(other, values);
  EXPECT_EQ(none, std::vector<float>(count, 0.5f));
  EXPECT_THROW(ds::add_observation_noise(none, transform, -0.01, 7), ds::InvalidArgument);
}

TEST(ObservationNoise, AffineTransformsTakeSigmaInPhysicalUnits) {
  const auto transform = ds::FieldTransform::affine(0.0, 4.0);
  std::vector<float> values(128 * 128, 0.0f);
  ds::add_observation_noise(values, transform, 2.0, 3);
  EXPECT_NEAR(moments(values, 0.0).second, 0.5, 0.015);
}

}  // namespace
