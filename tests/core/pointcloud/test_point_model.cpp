// The PointCloudModel facade with tiny untrained networks: model files (round trip, detection,
// corrupt weights), sampling in physical units, ELBOs (shapes, batch independence, gradients
// against finite differences) and the ELBO log density.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_model.h"
#include "diffuscope/random.h"
#include "nets/named_tensors.h"
#include "pointcloud/point_model_impl.h"

namespace ds {
namespace {

namespace fs = std::filesystem;

constexpr double kBox = 100.0;

PointNetConfig tiny_gnn() {
  PointNetConfig c;
  c.kind = PointNetKind::Gnn;
  c.n_features = 3;
  c.time_embedding = 4;
  c.theta_embedding = 4;
  c.cond_mlp = {8, 8};
  c.k = 4;
  c.hidden = 8;
  c.mlp_layers = 1;
  c.latent = 4;
  c.message_passing = 1;
  return c;
}

// Uniform points in the box: the transform's mean ~kBox / 2, std ~kBox / sqrt(12).
std::vector<float> uniform_cloud(std::int64_t points, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> cloud(std::size_t(points * 3));
  for (auto& v : cloud) v = float(rng.uniform(0.0, kBox));
  return cloud;
}

PointTransform tiny_transform() {
  return PointTransform::fit(uniform_cloud(200, 1), 3, {"x", "y", "z"}, kBox);
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("ds_point_model_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

ModelCheckpoint checkpoint_of(const PointCloudModel& model) {
  ModelCheckpoint c;
  c.config_json = model.info().config_json;
  c.weights = train::module_state(*model.impl().vdm);
  c.step = 7;
  return c;
}

PointElboSettings small_elbo() {
  PointElboSettings s;
  s.steps = 8;
  s.draws = 3;
  s.seed = 5;
  return s;
}

const std::vector<double> kThetas{0.3, 0.8, 0.2, 0.7, 0.45, 0.9};

TEST(PointCloudModel, RandomWeightsDescribeThemselves) {
  const auto model = PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 3);
  const auto& info = model.info();
  EXPECT_EQ(model.features(), 3);
  EXPECT_EQ(model.device(), Device::Cpu);
  EXPECT_DOUBLE_EQ(info.gamma0, 14.0);
  EXPECT_DOUBLE_EQ(info.gamma1, -8.0);
  std::int64_t count = 0;
  for (const auto& p : model.impl().vdm->parameters()) count += p.numel();
  EXPECT_EQ(info.parameter_count, count);
  // The network's periodic geometry comes from the transform.
  EXPECT_DOUBLE_EQ(info.network.box_size, kBox);
  EXPECT_DOUBLE_EQ(info.network.position_mean[0], info.transform.mean[0]);
  const auto j = nlohmann::json::parse(point_model_info_json(info));
  EXPECT_EQ(j["modality"], "points");
  EXPECT_EQ(j["features"], 3);
  EXPECT_EQ(j["box_size"], kBox);
  EXPECT_EQ(j["parameters"], count);
  EXPECT_EQ(j["network"]["kind"], "gnn");
  const auto config = nlohmann::json::parse(info.config_json);
  EXPECT_EQ(config["modality"], "points");
  EXPECT_EQ(config["parameters"], nlohmann::json({"Omega_m", "sigma_8"}));
  // Bad configurations.
  auto bad = tiny_gnn();
  bad.k = 1;
  EXPECT_THROW(PointCloudModel::with_random_weights(bad, tiny_transform()), InvalidArgument);
  bad = tiny_gnn();
  bad.n_features = 4;
  EXPECT_THROW(PointCloudModel::with_random_weights(bad, tiny_transform()), InvalidArgument);
}

TEST(PointCloudModel, SavedModelLoadsWithTheSameElbo) {
  TempDir dir;
  const auto model = PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 3);
  const std::string path = dir.file("points.h5");
  write_model_checkpoint(path, checkpoint_of(model));
  EXPECT_TRUE(PointCloudModel::is_point_model(path));
  const auto loaded = PointCloudModel::load(path);
  EXPECT_EQ(loaded.info().path, path);
  EXPECT_EQ(loaded.info().step, 7);
  EXPECT_EQ(loaded.info().weights, "weights");
  EXPECT_FALSE(loaded.info().has_ema);
  EXPECT_EQ(loaded.info().parameter_count, model.info().parameter_count);
  EXPECT_EQ(loaded.info().transform.mean, model.info().transform.mean);
  const auto cloud = uniform_cloud(16, 9);
  const auto a = model.elbo(cloud, 16, kThetas, 3, small_elbo());
  const auto b = loaded.elbo(cloud, 16, kThetas, 3, small_elbo());
  EXPECT_EQ(a.per_draw, b.per_draw);
  EXPECT_THROW(PointCloudModel::load(path, Device::Cpu, true), FileError);  // no EMA weights
}

TEST(PointCloudModel, RecognisesOnlyPointModels) {
  TempDir dir;
  // The repository's default 2D model.
  const std::string field_model = (fs::path(DS_ASSETS_DIR) / "models/zeldovich64.h5").string();
  ASSERT_TRUE(fs::exists(field_model));
  EXPECT_FALSE(PointCloudModel::is_point_model(field_model));
  EXPECT_FALSE(PointCloudModel::is_point_model(dir.file("missing.h5")));
  ModelCheckpoint other;
  other.config_json = R"({"format": "diffuscope-model", "modality": "field2d"})";
  other.weights.push_back({"w", {1}, {1.0f}});
  write_model_checkpoint(dir.file("field.h5"), other);
  EXPECT_FALSE(PointCloudModel::is_point_model(dir.file("field.h5")));
  EXPECT_EQ(model_file_modality(dir.file("field.h5")), "field2d");
  EXPECT_EQ(model_file_modality(field_model), "field2d");
  EXPECT_EQ(model_file_modality(dir.file("missing.h5")), "");
  std::ofstream(dir.file("text.h5")) << "not hdf5";
  EXPECT_FALSE(PointCloudModel::is_point_model(dir.file("text.h5")));
  try {
    PointCloudModel::load(field_model);
    FAIL() << "a 2D field model loaded as a point model";
  } catch (const FileError& e) {
    EXPECT_EQ(e.path(), field_model);
    EXPECT_NE(std::string(e.what()).find("point"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PointCloudModel::load(dir.file("missing.h5")), FileError);
  EXPECT_THROW(PointCloudModel::load(dir.file("text.h5")), FileError);
}

// Every way the weights can fail to fit names the file and the weight.
TEST(PointCloudModel, CorruptWeightsNameTheFileAndTheWeight) {
  TempDir dir;
  const auto model = PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 3);
  const auto good = checkpoint_of(model);
  ASSERT_GT(good.weights.size(), 2u);
  auto expect_error = [&](ModelCheckpoint c, const std::string& file, const std::string& needle) {
    const std::string path = dir.file(file);
    write_model_checkpoint(path, c);
    try {
      PointCloudModel::load(path);
      FAIL() << file << " loaded";
    } catch (const FileError& e) {
      EXPECT_EQ(e.path(), path);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto missing = good;
  const std::string dropped = missing.weights[1].name;
  missing.weights.erase(missing.weights.begin() + 1);
  expect_error(missing, "missing.h5", dropped);
  auto misshaped = good;
  misshaped.weights[0].shape.push_back(1);
  expect_error(misshaped, "misshaped.h5", misshaped.weights[0].name);
  auto not_finite = good;
  not_finite.weights[0].values[0] = std::nanf("");
  expect_error(not_finite, "nan.h5", not_finite.weights[0].name);
  auto extra = good;
  extra.weights.push_back({"net.surplus", {2}, {1.0f, 2.0f}});
  expect_error(extra, "extra.h5", "net.surplus");
  auto bad_config = good;
  bad_config.config_json = R"({"modality": "points", "network": {"kind": "mlp"}, "transform": {}})";
  expect_error(bad_config, "config.h5", "kind");
}

TEST(PointCloudModel, SamplesCataloguesInsideTheBox) {
  const auto model = PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 3);
  PointSampleSettings settings;
  settings.steps = 4;
  settings.seed = 2;
  settings.trace = {0, 5};
  int calls = 0;
  const auto x = model.sample({0.3, 0.8}, 2, 20, settings, [&](const PointTrajectoryStep& step) {
    ++calls;
    EXPECT_EQ(step.steps, 4);
    EXPECT_EQ(step.step, calls);
    ASSERT_EQ(step.traced.size(), 2u * 2u * 3u);
    for (float v : step.traced) EXPECT_TRUE(v >= 0.0f && v < float(kBox)) << v;
  });
  EXPECT_EQ(calls, 4);
  ASSERT_EQ(x.size(), 2u * 20u * 3u);
  for (float v : x) {
    ASSERT_TRUE(std::isfinite(v));
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, float(kBox));
  }
  EXPECT_EQ(x, model.sample({0.3, 0.8}, 2, 20, settings));  // seeded
  settings.sampler = PointSamplerKind::Ode;
  const auto ode = model.sample({0.3, 0.8}, 2, 20, settings);
  EXPECT_EQ(ode.size(), x.size());
  EXPECT_NE(ode, x);
  EXPECT_THROW(model.sample({0.05, 0.8}, 1, 20, settings), InvalidArgument);  // outside the prior
  EXPECT_THROW(model.sample({0.3}, 1, 20, settings), InvalidArgument);
  EXPECT_THROW(model.sample({0.3, 0.8}, 0, 20, settings), InvalidArgument);
}

TEST(PointCloudModel, ElboShapesAndBatchIndependence) {
  const auto model = PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 3);
  const auto cloud = uniform_cloud(16, 9);
  const auto r = model.elbo(cloud, 16, kThetas, 3, small_elbo());
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(r.draws, 3);
  ASSERT_EQ(r.per_draw.size(), 9u);
  ASSERT_EQ(r.mean.size(), 3u);
  ASSERT_EQ(r.standard_error.size(), 3u);
  EXPECT_TRUE(r.gradient.empty());
  for (std::size_t g = 0; g < 3; ++g) {
    const double mean = (r.per_draw[3 * g] + r.per_draw[3 * g + 1] + r.per_draw[3 * g + 2]) / 3;
    EXPECT_NEAR(r.mean[g], mean, 1e-9 * std::abs(mean));
    EXPECT_GT(r.standard_error[g], 0.0);
    EXPECT_TRUE(std::isfinite(r.mean[g]));
    // Alone or in a batch (float32 reductions over differently shaped batches aside).
    const std::vector<double> one(kThetas.begin() + 2 * g, kThetas.begin() + 2 * g + 2);
    const auto alone = model.elbo(cloud, 16, one, 1, small_elbo());
    EXPECT_NEAR(alone.mean[0], r.mean[g], 1e-6 * std::abs(r.mean[g]));
  }
  // Same numbers at every point: differences between points are far below the draws' spread.
  EXPECT_NE(r.mean[0], r.mean[1]);
  auto chunked = small_elbo();
  chunked.chunk = 5;
  const auto c = model.elbo(cloud, 16, kThetas, 3, chunked);
  for (std::size_t i = 0; i < 9; ++i)
    EXPECT_NEAR(c.per_draw[i], r.per_draw[i], 1e-6 * std::abs(r.per_draw[i]));

  EXPECT_THROW(model.elbo(cloud, 15, kThetas, 3, small_elbo()), InvalidArgument);
  EXPECT_THROW(model.elbo(cloud, 16, kThetas, 2, small_elbo()), InvalidArgument);
  auto nan_cloud = cloud;
  nan_cloud[4] = std::nanf("");
  EXPECT_THROW(model.elbo(nan_cloud, 16, kThetas, 3, small_elbo()), InvalidArgument);
  auto no_steps = small_elbo();
  no_steps.steps = 0;
  EXPECT_THROW(model.elbo(cloud, 16, kThetas, 3, no_steps), InvalidArgument);
}

TEST(PointCloudModel, ElboGradientMatchesFiniteDifferences) {
  const auto model = PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 4);
  const auto cloud = uniform_cloud(16, 11);
  const auto r = model.elbo(cloud, 16, kThetas, 3, small_elbo(), true);
  ASSERT_EQ(r.gradient.size(), 6u);
  const double h = 1e-2;
  double largest = 0.0;
  for (std::size_t i = 0; i < 6; ++i) {
    auto up = kThetas, down = kThetas;
    up[i] += h;
    down[i] -= h;
    const std::size_t g = i / 2;
    const double fd = (model.elbo(cloud, 16, up, 3, small_elbo()).mean[g] -
                       model.elbo(cloud, 16, down, 3, small_elbo()).mean[g]) /
                      (2 * h);
    EXPECT_NEAR(r.gradient[i], fd, 0.02 * std::abs(fd) + 0.02) << "component " << i;
    std::printf("d ELBO / d theta[%zu]: autograd %.5f, finite difference %.5f\n", i, r.gradient[i],
                fd);
    largest = std::max(largest, std::abs(fd));
  }
  EXPECT_GT(largest, 0.1);  // the check has something to compare
  // The values do not depend on asking for the gradient.
  const auto plain = model.elbo(cloud, 16, kThetas, 3, small_elbo());
  for (std::size_t g = 0; g < 3; ++g)
    EXPECT_NEAR(plain.mean[g], r.mean[g], 1e-9 * std::abs(r.mean[g]));
}

TEST(PointElboLogDensity, AgreesWithTheModelsElbo) {
  auto model = std::make_shared<const PointCloudModel>(
      PointCloudModel::with_random_weights(tiny_gnn(), tiny_transform(), 3));
  const auto cloud = uniform_cloud(16, 9);
  const PointElboLogDensity density(model, cloud, 16, small_elbo());
  EXPECT_EQ(density.dimension(), 2u);
  EXPECT_EQ(density.names(), (std::vector<std::string>{"Omega_m", "sigma_8"}));
  EXPECT_EQ(density.labels(), (std::vector<std::string>{"\\Omega_m", "\\sigma_8"}));
  std::vector<double> values, gradients;
  density.evaluate(kThetas, 3, values, &gradients);
  const auto r = model->elbo(cloud, 16, kThetas, 3, small_elbo(), true);
  ASSERT_EQ(values.size(), 3u);
  ASSERT_EQ(gradients.size(), 6u);
  for (std::size_t g = 0; g < 3; ++g) EXPECT_DOUBLE_EQ(values[g], r.mean[g]);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(gradients[i], r.gradient[i]);
  std::vector<double> gradient;
  const double one = evaluate_one(density, {kThetas[2], kThetas[3]}, &gradient);
  EXPECT_NEAR(one, values[1], 1e-6 * std::abs(values[1]));
  EXPECT_NEAR(gradient[0], gradients[2], 1e-4 * std::abs(gradients[2]) + 1e-4);
  EXPECT_THROW(density.evaluate(kThetas, 2, values, nullptr), InvalidArgument);
  EXPECT_THROW(PointElboLogDensity(model, cloud, 15, small_elbo()), InvalidArgument);
}

}  // namespace
}  // namespace ds
