// The trainer (issue 5): configs, a tiny model overfitting a tiny dataset, checkpoint round trip,
// export, exact resumption after an interruption, and the errors of bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "../test_helpers.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/train/trainer.h"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ds_train_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Positive smooth periodic fields whose amplitude follows the two parameters.
std::shared_ptr<ds::Dataset> tiny_dataset(int count, int n, std::uint64_t seed = 1) {
  auto d = std::make_shared<ds::Dataset>();
  d->kind = ds::SampleKind::Fields;
  d->shape = {std::size_t(count), std::size_t(n), std::size_t(n)};
  d->param_names = {"Omega_m", "sigma_8"};
  d->box_size = 25.0;
  ds::Rng rng(seed);
  for (int m = 0; m < count; ++m) {
    const double om = rng.uniform(0.1, 0.5), s8 = rng.uniform(0.6, 1.0);
    const double phase = rng.uniform(0.0, 2.0 * M_PI);
    d->params.insert(d->params.end(), {om, s8});
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const double x = 2.0 * M_PI * i / n, y = 2.0 * M_PI * j / n;
        const double v = om * std::sin(x + phase) + s8 * std::cos(2.0 * y) * 0.5;
        d->samples.push_back(float(std::pow(10.0, 1.0 + 0.5 * v)));
      }
  }
  return d;
}

ds::TrainConfig tiny_config() {
  auto c = ds::TrainConfig::from_json(R"({"model": {"dim": 8, "dim_mults": [1, 2]},
      "lr": 1e-3, "batch_size": 8, "steps": 40, "loss": "mse", "augment": true,
      "validate_every": 0, "checkpoint_every": 1000, "log_every": 10, "ema_decay": 0.9})");
  return c;
}

std::vector<float> eps_of(const ds::ScoreNet2d& net, int n) {
  std::vector<float> x(2 * n * n);
  ds::Rng rng(3);
  for (auto& v : x) v = float(rng.normal());
  return net.predict_noise(x, {10, 700}, {0.2f, 0.7f, 0.9f, 0.1f}, 2, n);
}

TEST(TrainConfig, ParsesValidatesAndSchedulesTheLearningRate) {
  const auto c = ds::TrainConfig::from_json("{}");
  EXPECT_EQ(c.model.dim, 16);
  EXPECT_TRUE(c.model.periodic_upsampling);
  EXPECT_EQ(ds::TrainConfig::from_json(c.to_json()).to_json(), c.to_json());
  try {
    ds::TrainConfig::from_json(R"({"learning_rate": 1})", "C.json");
    FAIL() << "an unknown key must be refused";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("C.json: unknown key \"learning_rate\""),
              std::string::npos);
  }
  EXPECT_THROW(ds::TrainConfig::from_json(R"({"lr": -1})"), ds::InvalidArgument);
  EXPECT_THROW(ds::TrainConfig::from_json(R"({"loss": "l3"})"), ds::InvalidArgument);
  EXPECT_THROW(ds::TrainConfig::from_json(R"({"model": {"dim": 12}})"), ds::InvalidArgument);

  auto w = ds::TrainConfig::from_json(
      R"({"lr": 1e-3, "warmup": 10, "lr_schedule": "milestones", "milestones": [100, 200],
          "gamma": 0.1})");
  EXPECT_DOUBLE_EQ(w.learning_rate(0), 1e-4);
  EXPECT_DOUBLE_EQ(w.learning_rate(9), 1e-3);
  EXPECT_DOUBLE_EQ(w.learning_rate(150), 1e-4);
  EXPECT_NEAR(w.learning_rate(250), 1e-5, 1e-18);
  auto cos = ds::TrainConfig::from_json(
      R"({"lr": 1e-3, "min_lr": 1e-5, "lr_schedule": "cosine", "steps": 1000})");
  EXPECT_DOUBLE_EQ(cos.learning_rate(0), 1e-3);
  EXPECT_NEAR(cos.learning_rate(500), 0.5 * (1e-3 + 1e-5), 1e-15);
  EXPECT_NEAR(cos.learning_rate(1000), 1e-5, 1e-15);
}

// fuzz_json_config (10-minute run): a key of the wrong type was named in the error through a
// pointer to a temporary string (stack-use-after-scope under ASan); the message names it.
TEST(TrainConfig, FuzzRegressionAWrongTypeNamesItsKey) {
  std::ifstream in(dstest::fuzz_regression("train_config_wrong_type.json"));
  const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(input.empty());
  const std::string text = input.substr(1);  // the fuzz target's first byte picks the parser
  ASSERT_EQ(text.rfind("{\"steps\": null}", 0), 0u);
  try {
    ds::TrainConfig::from_json(text, "c.json");
    FAIL() << "accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("c.json: \"steps\" must be an integer"), std::string::npos)
        << e.what();
  }
}

// fuzz_json_config (10-minute run): "steps": 7.8e32 was converted to an integer by a plain cast,
// undefined behaviour (UBSan); integer settings take integers and integral numbers in range.
TEST(TrainConfig, FuzzRegressionIntegerSettingsOutOfRangeAreRefused) {
  const auto error_of = [](const std::string& text) {
    try {
      ds::TrainConfig::from_json(text, "c.json");
    } catch (const ds::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::ifstream in(dstest::fuzz_regression("train_config_huge_float_steps.json"));
  const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(input.size(), 1u);
  EXPECT_NE(error_of(input.substr(1)).find("must be an integer"), std::string::npos)
      << error_of(input.substr(1));
  EXPECT_NE(error_of(R"({"steps": 2.5})").find("\"steps\" must be an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"milestones": [10, 1e40]})").find("\"milestones\" must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"seed": -1})").find("\"seed\" must be an integer"), std::string::npos);
  EXPECT_EQ(ds::TrainConfig::from_json(R"({"steps": 1e5})").steps, 100000);
  EXPECT_EQ(ds::TrainConfig::from_json(R"({"milestones": [10, 20]})").milestones,
            (std::vector<std::int64_t>{10, 20}));
}

TEST(Trainer, TinyModelOverfitsATinyDataset) {
  TempDir dir;
  ds::TrainRequest request;
  request.data = tiny_dataset(4, 16);
  request.config = tiny_config();
  request.config.steps = 250;
  request.config.augment = false;
  request.config.validation_fraction = 0.0;
  request.config.log_every = 25;
  request.out_path = dir.file("tiny.h5");
  const auto summary = ds::train_field_model(request);
  ASSERT_EQ(summary.loss.size(), 250u);
  // Mean MSE of the first and last 25 steps: the noise predictor learns four fields.
  std::printf("tiny model: mean loss %.4f (first 25 steps) -> %.4f (last 25)\n", summary.first_loss,
              summary.last_loss);
  EXPECT_GT(summary.first_loss, 4.0 * summary.last_loss)
      << summary.first_loss << " -> " << summary.last_loss;
}

TEST(Trainer, CheckpointRoundTripAndExport) {
  TempDir dir;
  ds::TrainRequest request;
  request.data = tiny_dataset(6, 16);
  request.data_path = "tiny-in-memory";
  request.config = tiny_config();
  request.config.steps = 12;
  request.config.validate_every = 12;
  request.config.validation_fraction = 0.34;  // 2 of 6 held out
  request.config.validation_fields = 2;
  request.config.validation_samples = 3;
  request.config.validation_sampler_steps = 4;
  request.out_path = dir.file("m.h5");
  const auto summary = ds::train_field_model(request);
  ASSERT_EQ(summary.validations.size(), 1u);
  EXPECT_EQ(summary.validations[0].step, 12);
  EXPECT_TRUE(std::isfinite(summary.validations[0].reduced_chi2));
  EXPECT_GT(summary.validations[0].reduced_chi2, 0.0);

  const auto file = ds::read_model_checkpoint(request.out_path, ds::CheckpointParts::Everything);
  EXPECT_EQ(file.step, 12);
  EXPECT_EQ(file.loss.size(), 12u);
  EXPECT_EQ(file.betas.size(), 1000u);
  EXPECT_EQ(file.validation.size(), 3u);
  EXPECT_EQ(file.weights.size(), file.ema.size());
  EXPECT_EQ(file.exp_avg.size(), file.ema.size());

  const auto model = ds::DiffusionModel2d::load(request.out_path);
  EXPECT_EQ(model.net.info().format, ds::ScoreNetFormat::Diffuscope);
  EXPECT_EQ(model.net.info().iteration, 12);
  EXPECT_EQ(model.transform.kind, ds::FieldTransformKind::Log10MinMax);
  EXPECT_EQ(model.schedule.arithmetic, ds::ScheduleArithmetic::Double);
  EXPECT_EQ(model.parameters.normalise({0.3, 0.8}), (std::vector<float>{0.5f, 0.5f}));
  const auto raw = eps_of(model.net, 16);
  const auto ema = eps_of(ds::ScoreNet2d::load(request.out_path, ds::Device::Cpu, true), 16);
  EXPECT_NE(raw, ema);

  ds::export_model_file(request.out_path, dir.file("export.h5"), true);
  const auto exported =
      ds::read_model_checkpoint(dir.file("export.h5"), ds::CheckpointParts::Everything);
  EXPECT_TRUE(exported.ema.empty());
  EXPECT_TRUE(exported.exp_avg.empty());
  EXPECT_EQ(eps_of(ds::ScoreNet2d::load(dir.file("export.h5")), 16), ema);
  EXPECT_THROW(ds::ScoreNet2d::load(dir.file("export.h5"), ds::Device::Cpu, true), ds::FileError);
}

TEST(Trainer, ResumingAfterAnInterruptionReproducesAnUninterruptedRun) {
  TempDir dir;
  const auto data = tiny_dataset(6, 16);
  ds::TrainRequest straight;
  straight.data = data;
  straight.config = tiny_config();
  straight.out_path = dir.file("straight.h5");
  ds::train_field_model(straight);

  ds::TrainRequest interrupted = straight;
  interrupted.out_path = dir.file("interrupted.h5");
  ds::CancellationToken token;
  const ds::JobContext job(
      [token](const ds::Progress& p) {
        if (p.done == 17) token.request();
      },
      token);
  EXPECT_THROW(ds::train_field_model(interrupted, job), ds::Cancelled);
  EXPECT_EQ(ds::read_model_checkpoint(interrupted.out_path).step, 17);
  interrupted.resume = true;
  const auto resumed = ds::train_field_model(interrupted);
  EXPECT_EQ(resumed.start_step, 17);
  EXPECT_EQ(resumed.end_step, 40);

  const auto a = ds::read_model_checkpoint(straight.out_path, ds::CheckpointParts::Everything);
  const auto b = ds::read_model_checkpoint(interrupted.out_path, ds::CheckpointParts::Everything);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (std::size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_EQ(a.weights[i].name, b.weights[i].name);
    EXPECT_EQ(a.weights[i].values, b.weights[i].values) << a.weights[i].name;
    EXPECT_EQ(a.ema[i].values, b.ema[i].values) << a.ema[i].name;
    EXPECT_EQ(a.exp_avg_sq[i].values, b.exp_avg_sq[i].values) << a.exp_avg_sq[i].name;
  }
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.optimizer_step, b.optimizer_step);
}

TEST(Trainer, InitialisesALargerResolutionModelFromASmallerOne) {
  // The 64 -> 256 curriculum in miniature: a model trained on 16x16 fields starts the training
  // of the same architecture on 32x32 fields. With a vanishing learning rate the new model's
  // weights are the old model's after one step.
  TempDir dir;
  ds::TrainRequest small;
  small.data = tiny_dataset(4, 16);
  small.config = tiny_config();
  small.config.steps = 3;
  small.out_path = dir.file("small.h5");
  ds::train_field_model(small);

  ds::TrainRequest large;
  large.data = tiny_dataset(4, 32);
  large.config = tiny_config();
  large.config.steps = 1;
  large.config.lr = 1e-12;
  large.config.init_from = small.out_path;
  large.out_path = dir.file("large.h5");
  std::vector<std::string> log;
  ds::train_field_model(large, {}, [&](const std::string& line) { log.push_back(line); });
  const auto a = ds::read_model_checkpoint(small.out_path);
  const auto b = ds::read_model_checkpoint(large.out_path);
  ASSERT_EQ(a.ema.size(), b.weights.size());
  for (std::size_t i = 0; i < a.ema.size(); ++i)
    for (std::size_t j = 0; j < a.ema[i].values.size(); ++j)
      ASSERT_NEAR(a.ema[i].values[j], b.weights[i].values[j], 1e-6) << a.ema[i].name;
  EXPECT_NE(log.front().find("initialised"), std::string::npos) << log.front();

  large.config.init_from = dir.file("absent.h5");
  EXPECT_THROW(ds::train_field_model(large), ds::FileError);
}

TEST(Trainer, RefusesBadInputWithClearErrors) {
  TempDir dir;
  ds::TrainRequest request;
  request.data = tiny_dataset(4, 17);  // not a multiple of 2
  request.config = tiny_config();
  request.out_path = dir.file("m.h5");
  EXPECT_THROW(ds::train_field_model(request), ds::InvalidArgument);

  request.data = tiny_dataset(4, 16);
  request.resume = true;  // nothing to resume
  EXPECT_THROW(ds::train_field_model(request), ds::FileError);
  EXPECT_FALSE(fs::exists(request.out_path));

  request.resume = false;
  request.config.steps = 2;
  ds::train_field_model(request);
  request.resume = true;
  request.data = tiny_dataset(4, 16, 99);  // other data
  try {
    ds::train_field_model(request);
    FAIL() << "resuming on other data must fail";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("fingerprint"), std::string::npos) << e.what();
  }
  request.data_path = dir.file("missing.h5");
  request.data = nullptr;
  EXPECT_THROW(ds::train_field_model(request), ds::FileError);
  EXPECT_THROW(ds::read_model_checkpoint(dir.file("nothing.h5")), ds::FileError);
}

}  // namespace
