// The torch-free facade (diffuscope/nets/score_net.h): format detection, metadata, TorchScript
// modules written from C++, EMA weights, and input validation.
#include "diffuscope/nets/score_net.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "diffuscope/error.h"
#include "nets/score_network.h"
#include "nets/torch_checkpoint.h"
#include "torch_save_writer.h"

namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/";
const std::string kFixture = kDir + "checkpoint_tiny.pt";

class ScoreNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ds_scorenet_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A scripted module eps = scale * x + theta_0 + t / 1000, defined and saved from C++.
  void write_torchscript(const std::string& file, const std::string& forward_source,
                         const std::string& metadata) {
    torch::jit::Module m("DiffuscopeTestNet");
    m.register_parameter("scale", torch::tensor({0.5f}), false);
    m.define(forward_source);
    torch::jit::ExtraFilesMap extra;
    if (!metadata.empty()) extra["diffuscope.json"] = metadata;
    m.save(file, extra);
  }

  fs::path dir_;
};

const char* kAffineForward = R"(
def forward(self, x, t, theta):
    return x * self.scale + theta[:, 0].view(-1, 1, 1, 1) + t.float().view(-1, 1, 1, 1) / 1000.0
)";

TEST_F(ScoreNetTest, CheckpointInfo) {
  const auto net = ds::ScoreNet2d::load(kFixture);
  const auto& info = net.info();
  EXPECT_EQ(info.format, ds::ScoreNetFormat::PytorchCheckpoint);
  EXPECT_EQ(info.path, kFixture);
  EXPECT_EQ(net.parameter_count(), 605967);
  EXPECT_EQ(info.model_type, "explicitconditional");
  EXPECT_NE(info.architecture.find("dim=16, dim_mults=(1, 2, 4)"), std::string::npos)
      << info.architecture;
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.conditional_dim, 2);
  EXPECT_EQ(info.downsampling_factor, 4);
  EXPECT_EQ(info.weights, "model_state_dict");
  EXPECT_FALSE(info.has_ema);
  EXPECT_EQ(info.schedule, "custom_linear_beta_schedule");
  EXPECT_EQ(info.betas.size(), 1000u);
  EXPECT_EQ(info.epoch, 0);
  EXPECT_NE(net.config().find("\"dim\":16"), std::string::npos);
  EXPECT_EQ(net.device(), ds::Device::Cpu);
  EXPECT_NE(net.network(), nullptr);
}

TEST_F(ScoreNetTest, EmaWeightsAreChosenWhenAsked) {
  // A checkpoint written here from the fixture's weights, whose model_ema_state_dict differs only
  // in final_conv.1.bias (+1): the EMA network's output is the plain one plus exactly 1.
  using namespace ds::testing;
  const auto fixture = ds::nets::read_torch_checkpoint(kFixture);
  TorchSavePickler pickler;
  auto root = pv_dict();
  pv_set(root, "model_type", pv_str("explicitconditional"));
  auto kwargs = pv_dict();
  pv_set(kwargs, "dim", pv_int(16));
  pv_set(kwargs, "dim_mults", pv_seq(ds::PickleKind::Tuple, {pv_int(1), pv_int(2), pv_int(4)}));
  pv_set(kwargs, "channels", pv_int(1));
  pv_set(kwargs, "init_conv", pv_bool(false));
  pv_set(kwargs, "conditional_dim", pv_int(2));
  pv_set(root, "model_kwargs", kwargs);
  auto weights = pv_dict(), ema = pv_dict();
  for (const auto& [name, tensor] : fixture.state_dict) {
    pv_set(weights, name, pickler.tensor(tensor));
    pv_set(ema, name, pickler.tensor(name == "final_conv.1.bias" ? tensor + 1 : tensor));
  }
  pv_set(root, "model_state_dict", weights);
  pv_set(root, "model_ema_state_dict", ema);
  write_torch_save(path("ema.pt"), pickler, *root);

  const auto plain = ds::ScoreNet2d::load(path("ema.pt"));
  const auto averaged = ds::ScoreNet2d::load(path("ema.pt"), ds::Device::Cpu, /*ema=*/true);
  EXPECT_TRUE(plain.info().has_ema);
  EXPECT_EQ(plain.info().weights, "model_state_dict");
  EXPECT_EQ(averaged.info().weights, "model_ema_state_dict");
  EXPECT_TRUE(plain.info().schedule.empty());  // absent entries stay empty
  EXPECT_TRUE(plain.info().betas.empty());
  const std::vector<float> x(2 * 16 * 16, 0.3f), theta{0.1f, 0.9f, 0.6f, 0.4f};
  const auto a = plain.predict_noise(x, {10, 900}, theta, 2, 16);
  const auto b = averaged.predict_noise(x, {10, 900}, theta, 2, 16);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(b[i] - a[i], 1.0f, 1e-5) << i;
}

TEST_F(ScoreNetTest, TorchScriptRoundTrip) {
  write_torchscript(path("affine.ts"), kAffineForward,
                    R"({"conditional_dim": 2, "channels": 1, "schedule": "linear",
                        "betas": [0.0001, 0.02]})");
  const auto net = ds::ScoreNet2d::load(path("affine.ts"));
  const auto& info = net.info();
  EXPECT_EQ(info.format, ds::ScoreNetFormat::TorchScript);
  EXPECT_EQ(net.parameter_count(), 1);
  EXPECT_EQ(info.conditional_dim, 2);
  EXPECT_EQ(info.schedule, "linear");
  EXPECT_EQ(info.betas, (std::vector<double>{0.0001, 0.02}));
  EXPECT_NE(info.architecture.find("DiffuscopeTestNet"), std::string::npos) << info.architecture;

  const int batch = 2, n = 4;
  std::vector<float> x(batch * n * n);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.25f * float(i);
  const std::vector<std::int64_t> t{0, 1};
  const std::vector<float> theta{0.3f, 0.9f, 0.7f, 0.1f};
  const auto eps = net.predict_noise(x, t, theta, batch, n);
  ASSERT_EQ(eps.size(), x.size());
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < n * n; ++i) {
      const std::size_t k = std::size_t(b) * n * n + i;
      EXPECT_FLOAT_EQ(eps[k], 0.5f * x[k] + theta[2 * b] + float(t[b]) / 1000.0f) << k;
    }
  // Steps beyond the schedule that came with the module are refused.
  EXPECT_THROW(net.predict_noise(x, {0, 2}, theta, batch, n), ds::InvalidArgument);
}

TEST_F(ScoreNetTest, TorchScriptWithoutMetadataAndWithAWrongSignature) {
  write_torchscript(path("bare.ts"), kAffineForward, "");
  const auto bare = ds::ScoreNet2d::load_torchscript(path("bare.ts"));
  EXPECT_EQ(bare.info().conditional_dim, 0);  // unknown: any P is passed through
  EXPECT_EQ(bare.predict_noise(std::vector<float>(4, 1.f), {5}, {0.5f, 0.5f, 0.5f}, 1, 2).size(),
            4u);

  write_torchscript(path("one_arg.ts"), "def forward(self, x):\n    return x\n", "");
  try {
    ds::ScoreNet2d::load(path("one_arg.ts"));
    FAIL() << "a forward(x) module was accepted";
  } catch (const ds::FileError& e) {
    EXPECT_EQ(e.path(), path("one_arg.ts"));
    EXPECT_NE(std::string(e.what()).find("expected forward(x_t, t, theta)"), std::string::npos)
        << e.what();
  }
}

TEST_F(ScoreNetTest, EachLoaderRefusesTheOtherFormat) {
  write_torchscript(path("affine.ts"), kAffineForward, "");
  EXPECT_THROW(ds::ScoreNet2d::load_torchscript(kFixture), ds::FileError);
  try {
    ds::ScoreNet2d::load_torchscript(kFixture);
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a TorchScript module"), std::string::npos);
  }
  try {
    ds::ScoreNet2d::load_pytorch_checkpoint(path("affine.ts"));
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("is a TorchScript module"), std::string::npos);
  }
  EXPECT_THROW(ds::ScoreNet2d::load(path("affine.ts"), ds::Device::Cpu, /*ema=*/true),
               ds::InvalidArgument);
}

TEST_F(ScoreNetTest, PredictNoiseValidatesItsInputs) {
  const auto net = ds::ScoreNet2d::load(kFixture);
  const int batch = 2, n = 8;
  const std::vector<float> x(batch * n * n, 0.1f), theta{0.5f, 0.5f, 0.2f, 0.8f};
  const std::vector<std::int64_t> t{3, 999};
  EXPECT_EQ(net.predict_noise(x, t, theta, batch, n).size(), x.size());
  EXPECT_THROW(net.predict_noise(x, t, theta, batch, 4), ds::InvalidArgument);    // x size
  EXPECT_THROW(net.predict_noise(x, {3}, theta, batch, n), ds::InvalidArgument);  // t size
  EXPECT_THROW(net.predict_noise(x, t, {0.5f, 0.5f, 0.2f}, batch, n), ds::InvalidArgument);
  EXPECT_THROW(net.predict_noise(x, {3, 1000}, theta, batch, n), ds::InvalidArgument);
  EXPECT_THROW(net.predict_noise(x, {-1, 3}, theta, batch, n), ds::InvalidArgument);
  EXPECT_THROW(net.predict_noise(std::vector<float>(2 * 6 * 6), t, theta, batch, 6),
               ds::InvalidArgument);  // 6 is not a multiple of 4
  auto bad = x;
  bad[5] = std::nanf("");
  EXPECT_THROW(net.predict_noise(bad, t, theta, batch, n), ds::InvalidArgument);
}

TEST_F(ScoreNetTest, CpuAndCudaAgreeOrCudaIsRefusedCleanly) {
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(ds::ScoreNet2d::load(kFixture, ds::Device::Cuda), ds::Unavailable);
    GTEST_SKIP() << "no CUDA device: CPU/CUDA agreement not checked";
  }
  // cuDNN may use TF32 convolutions: agreement within a normalised error, not bit for bit.
  const auto cpu = ds::ScoreNet2d::load(kFixture);
  const auto gpu = ds::ScoreNet2d::load(kFixture, ds::Device::Cuda);
  torch::manual_seed(5);
  const auto x_t = torch::randn({4, 1, 32, 32});
  const auto theta_t = torch::rand({4, 2});
  const std::vector<float> x(x_t.data_ptr<float>(), x_t.data_ptr<float>() + x_t.numel());
  const std::vector<float> theta(theta_t.data_ptr<float>(), theta_t.data_ptr<float>() + 8);
  const std::vector<std::int64_t> t{0, 19, 500, 999};
  const auto a = cpu.predict_noise(x, t, theta, 4, 32);
  const auto b = gpu.predict_noise(x, t, theta, 4, 32);
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += double(a[i] - b[i]) * (a[i] - b[i]);
    norm += double(a[i]) * a[i];
  }
  std::printf("CPU vs CUDA: rms difference / rms output = %.3g\n", std::sqrt(diff / norm));
  EXPECT_LT(std::sqrt(diff / norm), 5e-3);
}

}  // namespace
