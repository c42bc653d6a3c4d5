// Issue 18: the shipped default models give valid physical output at the corners of the prior.
// A density field is never negative or non-finite (DDIM-50 without clipping once gave negative
// pixels at (0.2, 0.7)); a halo catalogue has finite features and positions inside its box.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/pointcloud/point_model.h"

namespace {

namespace fs = std::filesystem;

std::string default_model(const char* name) {
  return (fs::path(DS_ASSETS_DIR) / "models" / name).string();
}

// The four corners of the prior box and the point the issue reported.
const std::vector<std::vector<double>> kCorners = {
    {0.1, 0.6}, {0.1, 1.0}, {0.5, 0.6}, {0.5, 1.0}, {0.2, 0.7}};

TEST(DefaultModelOutputs, FieldsAreFiniteAndNonNegativeAtThePriorCorners) {
  const auto model = ds::DiffusionModel2d::load(default_model("zeldovich64.h5"));
  ds::FieldSampleRequest request;
  request.n = 64;
  request.per_theta = 3;
  request.seed = 2;
  request.sampler.kind = ds::DiffusionSamplerKind::Ddim;
  request.sampler.steps = 50;  // the CLI's default, no clipping
  request.thetas.clear();
  for (const auto& c : kCorners) request.thetas.insert(request.thetas.end(), c.begin(), c.end());
  const std::vector<float> fields = ds::sample_fields(model, request);
  ASSERT_EQ(fields.size(), kCorners.size() * 3 * 64 * 64);
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    ASSERT_TRUE(std::isfinite(fields[i])) << "pixel " << i;
    ASSERT_GE(fields[i], 0.0f) << "pixel " << i << " of field " << i / (64 * 64);
    zeros += fields[i] == 0.0f ? 1 : 0;
  }
  // Emptier-than-empty model values become empty pixels (the inverse transform clamps at 0).
  std::printf("  %zu of %zu pixels are empty (0)\n", zeros, fields.size());
  // The same clamp in model space -> physical: below the image of 0 is 0, above is positive.
  const ds::FieldTransform& t = model.transform;
  const double empty = t.to_model(0.0);
  EXPECT_EQ(t.to_physical(empty - 0.05), 0.0);
  EXPECT_GT(t.to_physical(empty + 0.05), 0.0);
  EXPECT_NEAR(t.to_physical(t.to_model(3.0e12)), 3.0e12, 3.0e12 * 1e-9);
}

TEST(DefaultModelOutputs, HaloCataloguesAreFiniteAndInsideTheBoxAtThePriorCorners) {
  const auto model = ds::PointCloudModel::load(default_model("halos1000.h5"));
  const int points = model.training_points() > 0 ? model.training_points() : 1000;
  const double box = model.info().transform.box_size;
  const std::size_t f = std::size_t(model.features());
  ds::PointSampleSettings settings;
  settings.seed = 3;
  for (const auto& corner : kCorners) {
    const std::vector<float> cloud = model.sample(corner, 1, points, settings);
    ASSERT_EQ(cloud.size(), std::size_t(points) * f);
    for (std::size_t i = 0; i < cloud.size(); ++i) {
      ASSERT_TRUE(std::isfinite(cloud[i]))
          << "value " << i << " at (" << corner[0] << ", " << corner[1] << ")";
      if (i % f < 3) {
        ASSERT_GE(cloud[i], 0.0f);
        ASSERT_LT(cloud[i], float(box));
      }
    }
  }
}

// The shipped halo model's network, pinned: a 5-step ODE cloud and its ELBO (S = 10, K = 2) at
// (0.3, 0.8) against values recorded before the GNN's first layers were factorised into
// per-node and per-edge parts (2026-12-07): the same function, so equal to float rounding.
TEST(DefaultModelOutputs, HaloModelReproducesItsRecordedValues) {
  const auto model = ds::PointCloudModel::load(default_model("halos1000.h5"));
  ds::PointSampleSettings settings;
  settings.sampler = ds::PointSamplerKind::Ode;
  settings.steps = 5;
  settings.seed = 11;
  const std::vector<float> cloud = model.sample({0.3, 0.8}, 1, 1000, settings);
  ASSERT_EQ(cloud.size(), 7000u);
  double sum[7] = {};
  for (std::size_t i = 0; i < cloud.size(); ++i) sum[i % 7] += cloud[i];
  ds::PointElboSettings elbo;
  elbo.steps = 10;
  elbo.draws = 2;
  elbo.seed = 5;
  const ds::PointElboResult r = model.elbo(cloud, 1000, {0.3, 0.8, 0.25, 0.85}, 2, elbo);
  // Recorded with the concatenating GNN on 2 threads: sums of 1000 values, float32 rounding.
  const double recorded[7] = {492260.542, 503060.224, 505163.969, -11966.9823,
                              19657.146,  1936.23582, 14913.237};
  const double scale[7] = {5e5, 5e5, 5e5, 3e5, 3e5, 3e5, 1.5e4};  // sum of |value| (rough)
  for (int f = 0; f < 7; ++f) EXPECT_NEAR(sum[f], recorded[f], 1e-5 * scale[f]) << "feature " << f;
  EXPECT_NEAR(cloud[0], 532.578308, 1e-3);
  EXPECT_NEAR(cloud[1], 965.75885, 1e-3);
  EXPECT_NEAR(cloud[2], 759.744263, 1e-3);
  EXPECT_NEAR(r.mean[0], -12327.0617, 0.02);
  EXPECT_NEAR(r.mean[1], -12322.0139, 0.02);
}

}  // namespace
