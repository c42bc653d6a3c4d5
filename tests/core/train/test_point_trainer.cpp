// The point-cloud trainer (train/point_trainer.h): the "points" training config, the
// augmentation's geometry (48 signed axis permutations, periodic translations), a tiny GNN whose
// per-point VDM loss falls and whose ELBO of its clouds rises, exact resumption after an
// interruption, a checkpoint the PointCloudModel facade loads and samples, and the errors of bad
// input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_model.h"
#include "diffuscope/random.h"
#include "diffuscope/train/point_trainer.h"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ds_point_train_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

constexpr double kBox = 1000.0;

// Clustered clouds whose cluster size follows Omega_m and whose velocity dispersion follows
// sigma_8: halos in 4 clusters of radius 30 + 200 (Omega_m - 0.1) Mpc/h, wrapped into the box.
std::shared_ptr<ds::Dataset> clustered_clouds(int count, int n, int features,
                                              std::uint64_t seed = 1) {
  auto d = std::make_shared<ds::Dataset>();
  d->kind = ds::SampleKind::Points;
  d->shape = {std::size_t(count), std::size_t(n), std::size_t(features)};
  d->param_names = {"Omega_m", "sigma_8"};
  d->feature_names = features == 7
                         ? std::vector<std::string>{"x", "y", "z", "vx", "vy", "vz", "log10_mass"}
                         : std::vector<std::string>{"x", "y", "z"};
  d->box_size = kBox;
  d->source = "test";
  ds::Rng rng(seed);
  for (int m = 0; m < count; ++m) {
    const double om = rng.uniform(0.1, 0.5), s8 = rng.uniform(0.6, 1.0);
    d->params.insert(d->params.end(), {om, s8});
    double centres[4][3];
    for (auto& c : centres)
      for (double& x : c) x = rng.uniform(0.0, kBox);
    const double radius = 30.0 + 200.0 * (om - 0.1);
    for (int i = 0; i < n; ++i) {
      const auto& c = centres[i % 4];
      for (int a = 0; a < 3; ++a) {
        double x = c[a] + radius * rng.normal();
        x -= kBox * std::floor(x / kBox);
        d->samples.push_back(float(x >= kBox ? 0.0 : x));
      }
      if (features == 7) {
        for (int a = 0; a < 3; ++a) d->samples.push_back(float(300.0 * s8 * rng.normal()));
        d->samples.push_back(float(14.5 - 0.3 * std::log(rng.uniform(0.01, 1.0))));
      }
    }
  }
  return d;
}

// A GNN of a few thousand weights: fast enough for hundreds of steps in a test.
ds::TrainConfig tiny_config(int steps) {
  auto c = ds::TrainConfig::from_json(R"({"modality": "points",
      "network": {"k": 6, "hidden": 24, "mlp_layers": 1, "latent": 8, "message_passing": 2,
                  "time_embedding": 8, "theta_embedding": 4, "cond_mlp": [16, 8]},
      "lr": 3e-3, "warmup": 10, "batch_size": 4, "validate_every": 0, "checkpoint_every": 1000,
      "log_every": 10, "ema_decay": 0.9, "validation_fraction": 0})");
  c.steps = steps;
  return c;
}

double periodic_distance(const float* a, const float* b) {
  double s = 0.0;
  for (int d = 0; d < 3; ++d) {
    double delta = std::fabs(double(a[d]) - double(b[d]));
    delta = std::min(delta, kBox - delta);
    s += delta * delta;
  }
  return std::sqrt(s);
}

TEST(PointTrainConfig, PointsModalityTakesThePublishedDefaults) {
  const auto c = ds::TrainConfig::from_json(R"({"modality": "points"})");
  EXPECT_EQ(c.modality, ds::TrainModality::Points);
  EXPECT_EQ(c.optimizer, ds::TrainOptimizer::AdamW);
  EXPECT_DOUBLE_EQ(c.lr, 3e-4);
  EXPECT_DOUBLE_EQ(c.weight_decay, 1e-4);
  EXPECT_EQ(c.lr_schedule, ds::LrSchedule::Cosine);
  EXPECT_EQ(c.warmup, 5000);
  EXPECT_DOUBLE_EQ(c.grad_clip_value, 0.5);
  EXPECT_DOUBLE_EQ(c.grad_clip, 0.0);
  EXPECT_EQ(c.network.kind, ds::PointNetKind::Gnn);
  EXPECT_EQ(c.network.k, 20);
  EXPECT_EQ(ds::TrainConfig::from_json(c.to_json()).to_json(), c.to_json());
  // The warm-up ramps to lr, then the cosine decays to min_lr at the last step.
  auto w = ds::TrainConfig::from_json(
      R"({"modality": "points", "warmup": 100, "steps": 1100, "lr": 1e-3})");
  EXPECT_DOUBLE_EQ(w.learning_rate(0), 1e-5);
  EXPECT_DOUBLE_EQ(w.learning_rate(99), 1e-3);
  EXPECT_NEAR(w.learning_rate(600), 5e-4, 1e-15);
  EXPECT_NEAR(w.learning_rate(1100), 0.0, 1e-18);

  const auto t = tiny_config(5);
  EXPECT_EQ(t.network.hidden, 24);
  EXPECT_EQ(t.network.k, 6);
  EXPECT_EQ(t.network.heads, ds::PointNetConfig().heads);  // untouched keys keep the defaults
  // 2D fields keep their defaults and their JSON round trip.
  const auto f = ds::TrainConfig::from_json("{}");
  EXPECT_EQ(f.modality, ds::TrainModality::Fields);
  EXPECT_DOUBLE_EQ(f.grad_clip_value, 0.0);
  EXPECT_EQ(ds::TrainConfig::from_json(f.to_json()).to_json(), f.to_json());

  auto refused = [](const std::string& json, const std::string& expected) {
    try {
      ds::TrainConfig::from_json(json, "C.json");
      ADD_FAILURE() << json << " was accepted";
    } catch (const ds::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  refused(R"({"network": {"k": 4}})", "C.json: \"network\" is a point-cloud setting");
  refused(R"({"modality": "points", "model": {"dim": 8}})", "\"model\" is a 2D field setting");
  refused(R"({"modality": "clouds"})", "\"modality\" is 'clouds'");
  refused(R"({"modality": "points", "network": {"k": 1}})", "\"network\"");
  refused(R"({"modality": "points", "network": {"widths": 3}})", "\"network\"");
  refused(R"({"modality": "points", "grad_clip_value": -1})", "grad_clip_value");
}

TEST(PointAugmentation, SignedAxisPermutationsAreTheCubeGroup) {
  std::set<std::string> seen;
  for (int i = 0; i < 48; ++i) {
    const auto s = ds::SignedAxisPermutation::from_index(i);
    std::set<int> axes(s.axes.begin(), s.axes.end());
    EXPECT_EQ(axes.size(), 3u) << "element " << i << " is no permutation";
    std::string key;
    for (int d = 0; d < 3; ++d) key += char('0' + s.axes[d]) + std::string(s.flip[d] ? "-" : "+");
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 48u);
  const auto identity = ds::SignedAxisPermutation::from_index(0);
  EXPECT_EQ(identity.axes, (std::array<int, 3>{0, 1, 2}));
  EXPECT_THROW(ds::SignedAxisPermutation::from_index(48), ds::InvalidArgument);
}

TEST(PointAugmentation, KeepsCloudsInTheBoxAndPreservesPeriodicDistances) {
  const int n = 40;
  const auto data = clustered_clouds(3, n, 7, 5);
  for (std::uint64_t draw = 0; draw < 6; ++draw) {
    std::vector<float> clouds = data->samples;
    ds::Rng rng(42, draw);
    const auto a = ds::PointAugmentation::draw(rng, 3, kBox);
    ds::augment_point_clouds(clouds, n, 7, kBox, a);
    double worst = 0.0;
    for (int c = 0; c < 3; ++c) {
      const float* before = data->samples.data() + std::size_t(c) * n * 7;
      const float* after = clouds.data() + std::size_t(c) * n * 7;
      for (int i = 0; i < n; ++i) {
        for (int d = 0; d < 3; ++d) {
          ASSERT_GE(after[i * 7 + d], 0.0f);
          ASSERT_LT(after[i * 7 + d], float(kBox));
        }
        // Velocities: the same signed permutation; masses untouched.
        for (int d = 0; d < 3; ++d) {
          const float v = before[i * 7 + 3 + a.symmetry.axes[d]];
          EXPECT_EQ(after[i * 7 + 3 + d], a.symmetry.flip[d] ? -v : v);
        }
        EXPECT_EQ(after[i * 7 + 6], before[i * 7 + 6]);
        for (int j = 0; j < i; ++j)
          worst = std::max(worst, std::fabs(periodic_distance(after + i * 7, after + j * 7) -
                                            periodic_distance(before + i * 7, before + j * 7)));
      }
    }
    // float32 positions of up to 1000 Mpc/h: a few ulps (6e-5 each).
    EXPECT_LT(worst, 1e-3) << "draw " << draw;
  }
  // The draw is reproducible from the generator.
  ds::Rng r1(9, 3), r2(9, 3);
  const auto a1 = ds::PointAugmentation::draw(r1, 2, kBox);
  const auto a2 = ds::PointAugmentation::draw(r2, 2, kBox);
  EXPECT_EQ(a1.shifts, a2.shifts);
  EXPECT_EQ(a1.symmetry.axes, a2.symmetry.axes);
}

// Mean per-point loss of the first and the last 20 of `steps` steps of a tiny network.
ds::TrainSummary train_tiny(const std::string& network, int features, int steps,
                            std::vector<std::string>* lines = nullptr) {
  TempDir dir;
  ds::TrainRequest request;
  request.data = clustered_clouds(8, 32, features);
  request.config = tiny_config(steps);
  request.config.network =
      ds::TrainConfig::from_json(R"({"modality": "points", "network": )" + network + "}").network;
  request.config.log_every = 20;
  request.out_path = dir.file("tiny.h5");
  return ds::train_point_model(request, {}, [&](const std::string& l) {
    if (lines) lines->push_back(l);
  });
}

TEST(PointTrainer, TinyTransformerLossFalls) {
  std::vector<std::string> lines;
  const auto summary = train_tiny(R"({"kind": "transformer", "d_model": 32, "heads": 2,
      "layers": 2, "mlp_width": 64, "cond_mlp": [16, 8], "time_embedding": 8,
      "theta_embedding": 4})",
                                  3, 200, &lines);
  ASSERT_EQ(summary.loss.size(), 200u);
  EXPECT_EQ(summary.end_step, 200);
  EXPECT_GT(summary.parameter_count, 10000);
  for (double l : summary.loss) ASSERT_TRUE(std::isfinite(l));
  std::printf("tiny point transformer: loss per point %.4f (first 20 steps) -> %.4f (last 20)\n",
              summary.first_loss, summary.last_loss);
  // An untrained eps_hat = z is worse than predicting zero (~16 nats per point here); the
  // Gaussian optimum E[eps | z] is ~4.4: the trained network must get most of the way there.
  EXPECT_LT(summary.last_loss, 0.6 * summary.first_loss)
      << summary.first_loss << " -> " << summary.last_loss;
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("32 points x 3 features"), std::string::npos) << lines.front();
}

// The published GNN (absolute positions at the node encoder) on the same tiny set: its loss must
// fall too (without absolute positions it stays above that of eps_hat = 0; see PointNetConfig).
TEST(PointTrainer, TinyGnnLossFalls) {
  const auto summary = train_tiny(R"({"k": 6, "hidden": 24, "mlp_layers": 1, "latent": 8,
      "message_passing": 2, "time_embedding": 8, "theta_embedding": 4, "cond_mlp": [16, 8]})",
                                  7, 200);
  std::printf("tiny point GNN: loss per point %.4f (first 20 steps) -> %.4f (last 20)\n",
              summary.first_loss, summary.last_loss);
  EXPECT_LT(summary.last_loss, 0.6 * summary.first_loss)
      << summary.first_loss << " -> " << summary.last_loss;
}

// The likelihood view of the same training: the ELBO (nats, S = 20 steps, K = 4 common noise
// draws) of training clouds at their own cosmology rises from the 1-step model to the 200-step
// one, by far more than its Monte Carlo error.
TEST(PointTrainer, TinyGnnElboOfItsCloudsRisesWithTraining) {
  TempDir dir;
  const auto data = clustered_clouds(8, 32, 3);
  auto train_to = [&](int steps) {
    ds::TrainRequest request;
    request.data = data;
    request.config = tiny_config(steps);
    request.out_path = dir.file("tiny" + std::to_string(steps) + ".h5");
    ds::train_point_model(request);
    return ds::PointCloudModel::load(request.out_path, ds::Device::Cpu, false);
  };
  const auto early = train_to(1), late = train_to(200);
  ds::PointElboSettings settings;
  settings.steps = 20;
  settings.draws = 4;
  settings.seed = 5;
  for (int m = 0; m < 4; ++m) {
    const std::vector<float> cloud(data->sample(m), data->sample(m) + 32 * 3);
    const std::vector<double> theta{data->params[2 * m], data->params[2 * m + 1]};
    const auto before = early.elbo(cloud, 32, theta, 1, settings);
    const auto after = late.elbo(cloud, 32, theta, 1, settings);
    std::printf("cloud %d: ELBO %.2f +- %.2f (step 1) -> %.2f +- %.2f (step 200) nats\n", m,
                before.mean[0], before.standard_error[0], after.mean[0], after.standard_error[0]);
    ASSERT_TRUE(std::isfinite(before.mean[0]) && std::isfinite(after.mean[0]));
    const double error = std::hypot(before.standard_error[0], after.standard_error[0]);
    EXPECT_GT(after.mean[0] - before.mean[0],
              std::max(5.0 * error, 0.2 * std::fabs(before.mean[0])))
        << "cloud " << m;
  }
}

// A resume with other settings follows them (the lr schedule included) and says so.
TEST(PointTrainer, ResumeSaysWhichSettingsChanged) {
  TempDir dir;
  ds::TrainRequest request;
  request.data = clustered_clouds(4, 16, 3);
  request.config = tiny_config(3);
  request.out_path = dir.file("m.h5");
  ds::train_point_model(request);
  std::vector<std::string> lines;
  request.resume = true;
  request.config = tiny_config(5);
  request.config.lr = 1e-3;
  const auto summary =
      ds::train_point_model(request, {}, [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(summary.start_step, 3);
  EXPECT_EQ(summary.end_step, 5);
  std::string said;
  for (const auto& l : lines)
    if (l.find("resume: settings differ") != std::string::npos) said = l;
  EXPECT_NE(said.find("steps 3 -> 5"), std::string::npos) << said;
  EXPECT_NE(said.find("lr 0.003 -> 0.001"), std::string::npos) << said;
  EXPECT_EQ(said.find("batch_size"), std::string::npos) << said;

  // The same settings again: nothing to say.
  lines.clear();
  request.config.steps = 6;
  ds::train_point_model(request, {}, [&](const std::string& l) { lines.push_back(l); });
  for (const auto& l : lines) {
    if (l.find("resume: settings differ") != std::string::npos) {
      EXPECT_EQ(l.find("lr "), std::string::npos) << l;
    }
  }
}

TEST(PointTrainer, InterruptedAndResumedRunIsBitIdentical) {
  TempDir dir;
  const auto data = clustered_clouds(7, 24, 7, 3);
  auto config = tiny_config(10);
  config.validation_fraction = 0.3;  // 2 of 7 held out
  config.validation_fields = 2;
  config.validate_every = 4;

  ds::TrainRequest whole;
  whole.data = data;
  whole.data_path = "clouds-in-memory";
  whole.config = config;
  whole.out_path = dir.file("whole.h5");
  const auto uninterrupted = ds::train_point_model(whole);
  ASSERT_EQ(uninterrupted.validations.size(), 3u);  // steps 4, 8 and the end
  EXPECT_EQ(uninterrupted.validations[0].step, 4);
  EXPECT_TRUE(std::isfinite(uninterrupted.validations[0].reduced_chi2));

  ds::TrainRequest parts = whole;
  parts.out_path = dir.file("parts.h5");
  ds::CancellationToken token;
  const ds::JobContext cancel_at_6(
      [token](const ds::Progress& p) {
        if (p.done == 6) token.request();
      },
      token);
  EXPECT_THROW(ds::train_point_model(parts, cancel_at_6), ds::Cancelled);
  const auto interrupted =
      ds::read_model_checkpoint(parts.out_path, ds::CheckpointParts::Everything);
  EXPECT_EQ(interrupted.step, 6);
  parts.resume = true;
  const auto resumed = ds::train_point_model(parts);
  EXPECT_EQ(resumed.start_step, 6);
  EXPECT_EQ(resumed.end_step, 10);

  const auto a = ds::read_model_checkpoint(whole.out_path, ds::CheckpointParts::Everything);
  const auto b = ds::read_model_checkpoint(parts.out_path, ds::CheckpointParts::Everything);
  EXPECT_EQ(a.step, 10);
  EXPECT_EQ(a.optimizer_step, b.optimizer_step);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.validation, b.validation);
  auto same = [](const std::vector<ds::NamedArray>& x, const std::vector<ds::NamedArray>& y,
                 const char* what) {
    ASSERT_EQ(x.size(), y.size()) << what;
    ASSERT_FALSE(x.empty()) << what;
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].name, y[i].name) << what;
      EXPECT_EQ(x[i].values, y[i].values) << what << " " << x[i].name << " differs";
    }
  };
  same(a.weights, b.weights, "weights");
  same(a.ema, b.ema, "EMA");
  same(a.exp_avg, b.exp_avg, "Adam first moment");
  same(a.exp_avg_sq, b.exp_avg_sq, "Adam second moment");
  bool has_schedule = false;
  for (const auto& w : a.weights) has_schedule = has_schedule || w.name == "gamma.b";
  EXPECT_TRUE(has_schedule) << "the learned schedule is a weight";
}

TEST(PointTrainer, CheckpointLoadsSamplesAndGivesAnElbo) {
  TempDir dir;
  ds::TrainRequest request;
  request.data = clustered_clouds(5, 24, 7, 4);
  request.data_path = "clouds-in-memory";
  request.config = tiny_config(6);
  request.out_path = dir.file("m.h5");
  ds::train_point_model(request);
  ASSERT_TRUE(ds::PointCloudModel::is_point_model(request.out_path));

  const auto model = ds::PointCloudModel::load(request.out_path, ds::Device::Cpu, true);
  EXPECT_EQ(model.features(), 7);
  EXPECT_EQ(model.info().step, 6);
  EXPECT_TRUE(model.info().has_ema);
  EXPECT_DOUBLE_EQ(model.info().transform.box_size, kBox);
  EXPECT_EQ(model.info().transform.feature_names.back(), "log10_mass");
  ds::PointSampleSettings settings;
  settings.steps = 4;
  settings.seed = 2;
  const auto clouds = model.sample({0.3, 0.8}, 2, 16, settings);
  ASSERT_EQ(clouds.size(), 2u * 16u * 7u);
  for (std::size_t i = 0; i < clouds.size(); ++i) {
    ASSERT_TRUE(std::isfinite(clouds[i]));
    if (i % 7 < 3) {
      EXPECT_GE(clouds[i], 0.0f);
      EXPECT_LT(clouds[i], float(kBox));
    }
  }
  ds::PointElboSettings elbo;
  elbo.steps = 4;
  elbo.draws = 2;
  const std::vector<float> cloud(request.data->sample(0), request.data->sample(0) + 24 * 7);
  const auto r = model.elbo(cloud, 24, {0.3, 0.8}, 1, elbo);
  ASSERT_EQ(r.mean.size(), 1u);
  EXPECT_TRUE(std::isfinite(r.mean[0]));
  EXPECT_GE(r.standard_error[0], 0.0);
}

TEST(PointTrainer, RefusesBadInput) {
  TempDir dir;
  auto expect_error = [](const ds::TrainRequest& request, const std::string& expected) {
    try {
      ds::train_point_model(request);
      ADD_FAILURE() << "accepted; expected an error with '" << expected << "'";
    } catch (const ds::Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  // A dataset of 2D fields for a point config.
  auto fields = std::make_shared<ds::Dataset>();
  fields->kind = ds::SampleKind::Fields;
  fields->shape = {2, 4, 4};
  fields->samples.assign(32, 1.0f);
  fields->params = {0.3, 0.8, 0.2, 0.7};
  fields->param_names = {"Omega_m", "sigma_8"};
  fields->box_size = 25.0;
  ds::TrainRequest request;
  request.data = fields;
  request.data_path = "fields.h5";
  request.config = tiny_config(2);
  request.out_path = dir.file("m.h5");
  expect_error(request, "fields.h5: holds 2D fields");

  // A 2D config for point clouds.
  request.data = clustered_clouds(4, 24, 3);
  request.data_path = "clouds.h5";
  request.config = ds::TrainConfig();
  expect_error(request, "\"modality\": \"points\"");

  // Missing data.
  request.data = nullptr;
  request.data_path = dir.file("missing.h5");
  request.config = tiny_config(2);
  expect_error(request, "missing.h5");

  // Fewer points than neighbours.
  request.data = clustered_clouds(4, 5, 3);
  request.data_path = "few.h5";
  expect_error(request, "fewer than the GNN's k = 6");

  // Resume with clouds of other features, from a missing file, and of other data.
  request.data = clustered_clouds(4, 24, 3);
  request.data_path = "clouds3.h5";
  ds::train_point_model(request);
  ds::TrainRequest resume = request;
  resume.resume = true;
  resume.data = clustered_clouds(4, 24, 7);
  resume.data_path = "clouds7.h5";
  expect_error(resume, "was trained on clouds of 3 features but clouds7.h5 has 7");
  resume.data = clustered_clouds(4, 24, 3, 99);
  expect_error(resume, "dataset fingerprint differs");
  resume.out_path = dir.file("absent.h5");
  expect_error(resume, "absent.h5");
  EXPECT_FALSE(fs::exists(resume.out_path));
}

}  // namespace
