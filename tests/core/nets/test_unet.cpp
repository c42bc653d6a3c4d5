// The Diffusion-HMC U-Net (nets/unet.h): the module tree matches the authors' state dict name for
// name, parameter counts, configuration, resolution independence, periodic-shift equivariance,
// and gradients with respect to theta (what HMC differentiates).
#include "nets/unet.h"

#include <gtest/gtest.h>

#include "diffuscope/error.h"
#include "nets/torch_checkpoint.h"

namespace {

using ds::nets::ConditionalUnet;
namespace idx = torch::indexing;

const std::string kFixture = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/checkpoint_tiny.pt";

ds::UnetConfig tiny_config() {
  ds::UnetConfig c;
  c.dim = 16;
  c.dim_mults = {1, 2, 4};
  return c;
}

// The fixture's network with its weights.
ConditionalUnet fixture_network(bool periodic_upsampling = false) {
  const auto ckpt = ds::nets::read_torch_checkpoint(kFixture);
  auto config = ds::UnetConfig::from_json(ckpt.model_kwargs.dump());
  config.periodic_upsampling = periodic_upsampling;
  ConditionalUnet net(config);
  ds::nets::load_state_dict(*net, ckpt.state_dict);
  net->eval();
  return net;
}

struct Inputs {
  torch::Tensor x, t, theta;
};
Inputs random_inputs(int batch, int n) {
  torch::manual_seed(7);
  return {torch::randn({batch, 1, n, n}),
          torch::tensor({0, 19, 500, 999}, torch::kInt64).slice(0, 0, batch),
          torch::rand({batch, 2})};
}

TEST(Unet, ParameterNamesShapesAndOrderAreThoseOfTheCheckpoint) {
  ds::nets::TorchArchive archive(kFixture);
  const auto root = archive.read_pickle_record();
  const auto* state = root->find("model_state_dict");
  ASSERT_NE(state, nullptr);
  ConditionalUnet net(tiny_config());
  const auto params = net->named_parameters(true);
  ASSERT_EQ(params.size(), state->entries.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& name = state->entries[i].first->as_string();
    EXPECT_EQ(params[i].key(), name) << "position " << i;
    EXPECT_EQ(params[i].value().sizes().vec(), state->entries[i].second->as_tensor().shape) << name;
  }
  EXPECT_EQ(net->named_buffers(true).size(), 0u);
}

TEST(Unet, ParameterCounts) {
  EXPECT_EQ(ds::nets::parameter_count(*ConditionalUnet(tiny_config())), 605967);
  // The paper's network (dim 64, (1, 2, 4, 8)): "about 31.3 M parameters".
  const auto paper = ds::nets::parameter_count(*ConditionalUnet(ds::UnetConfig{}));
  std::printf("paper configuration: %lld parameters\n", static_cast<long long>(paper));
  EXPECT_NEAR(double(paper), 31.3e6, 0.05e6);
}

TEST(Unet, ConfigurationReadsModelKwargsAndRefusesWhatItCannotBuild) {
  const auto c = ds::UnetConfig::from_json(
      R"({"dim": 16, "dim_mults": [1, 2, 4], "channels": 1, "init_conv": false,
          "conditional_dim": 2, "use_cond_dim_for_block": true,
          "non_linear_conditional_embedding": true, "circular_convolution": true})");
  EXPECT_EQ(c.dim, 16);
  EXPECT_EQ(c.dim_mults, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(c.downsampling_factor(), 4);
  EXPECT_EQ(c.effective_time_dim(), 64);
  const auto again = ds::UnetConfig::from_json(c.to_json());
  EXPECT_EQ(again.to_json(), c.to_json());
  EXPECT_THROW(ds::UnetConfig::from_json(R"({"dim": 16, "frobnicate": 1})"), ds::InvalidArgument);
  EXPECT_THROW(ds::UnetConfig::from_json(R"({"dim": 16, "pk_embedding": true})"),
               ds::InvalidArgument);
  EXPECT_THROW(ds::UnetConfig::from_json(R"({"dim": 12, "dim_mults": [1, 2]})"),
               ds::InvalidArgument);  // 12 channels in 8 groups
  EXPECT_THROW(ds::UnetConfig::from_json(R"({"dim": "16"})"), ds::InvalidArgument);
}

// Issue 18: a configuration is read from untrusted checkpoints. Absurd sizes are refused before
// a network is built: dim 2^30 with mults [1, 2] overflowed int (dim * m) and, had it not, asked
// for a convolution of 10^19 weights.
TEST(Unet, AbsurdSizesAreRefusedBeforeBuilding) {
  auto error = [](const std::string& json) {
    try {
      ds::UnetConfig::from_json(json);
    } catch (const ds::InvalidArgument& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted " << json;
    return std::string();
  };
  EXPECT_NE(error(R"({"dim": 1073741824, "dim_mults": [1, 2]})").find("is absurdly large"),
            std::string::npos);
  EXPECT_NE(error(R"({"dim": 18446744073709551615})").find("is absurdly large"), std::string::npos);
  EXPECT_NE(error(R"({"dim": -9223372036854775808})").find("is absurdly large"), std::string::npos);
  EXPECT_NE(error(R"({"dim": 4096, "dim_mults": [1, 4]})").find("exceeds 8192 channels"),
            std::string::npos);
  EXPECT_NE(error(R"({"dim": 64, "channels": 60000})").find("must be at most 8192"),
            std::string::npos);
  EXPECT_NO_THROW(ds::UnetConfig::from_json(R"({"dim": 64, "dim_mults": [1, 2, 4, 8]})"));
}

TEST(Unet, VariantsOfTheAuthorsOptionsBuildAndRun) {
  // A linear parameter embedding, blocks conditioned on the embedding, an initial 7x7
  // convolution, zero padding, one level only: shapes in, shapes out.
  ds::UnetConfig c;
  c.dim = 8;
  c.dim_mults = {1, 2};
  c.non_linear_conditional_embedding = false;
  c.use_cond_dim_for_block = false;
  c.init_conv = true;
  c.circular_convolution = false;
  ConditionalUnet net(c);
  const auto names = net->named_parameters(true);
  EXPECT_TRUE(names.contains("conditional_embedding.weight"));
  EXPECT_TRUE(names.contains("init_conv.weight"));
  EXPECT_EQ(names["downs.0.0.cond_mlp.1.weight"].sizes(), torch::IntArrayRef({8, 32}));
  const auto in = random_inputs(2, 8);
  EXPECT_EQ(net->forward(in.x, in.t, in.theta).sizes(), torch::IntArrayRef({2, 1, 8, 8}));
  c.dim_mults = {1};
  EXPECT_EQ(ConditionalUnet(c)->forward(in.x, in.t, in.theta).sizes(),
            torch::IntArrayRef({2, 1, 8, 8}));
}

TEST(Unet, ResolutionAgnosticAndShapeChecked) {
  auto net = ConditionalUnet(tiny_config());
  torch::NoGradGuard no_grad;
  for (int n : {8, 16, 64}) {
    const auto in = random_inputs(3, n);
    EXPECT_EQ(net->forward(in.x, in.t, in.theta).sizes(), torch::IntArrayRef({3, 1, n, n}));
  }
  const auto in = random_inputs(2, 16);
  EXPECT_THROW(net->forward(torch::randn({2, 1, 18, 18}), in.t, in.theta), ds::InvalidArgument);
  EXPECT_THROW(net->forward(in.x, in.t, torch::rand({2, 3})), ds::InvalidArgument);
  EXPECT_THROW(net->forward(in.x, in.t.slice(0, 0, 1), in.theta), ds::InvalidArgument);
}

double max_shift_error(ConditionalUnet& net, const Inputs& in, int shift) {
  torch::NoGradGuard no_grad;
  const auto eps = net->forward(in.x, in.t, in.theta);
  const auto shifted = net->forward(torch::roll(in.x, {shift, shift}, {2, 3}), in.t, in.theta);
  return (shifted - torch::roll(eps, {shift, shift}, {2, 3})).abs().max().item<double>();
}

TEST(Unet, PeriodicUpsamplingMakesTheNetworkCommuteWithShiftsByTheDownsamplingFactor) {
  // Circular convolutions everywhere: shifting x by a multiple of the total downsampling factor
  // (4 for three levels) shifts eps by the same amount. Shifts of 2 are not multiples, so the
  // stride-2 convolutions sample another sub-grid and the output differs at O(1).
  auto net = fixture_network(/*periodic_upsampling=*/true);
  const auto in = random_inputs(4, 32);
  for (int shift : {4, 8, 12, 28}) {
    const double error = max_shift_error(net, in, shift);
    std::printf("periodic upsampling, shift %2d: max |eps(shift x) - shift eps| = %.2g\n", shift,
                error);
    EXPECT_LT(error, 1e-5) << "shift " << shift;
  }
  EXPECT_GT(max_shift_error(net, in, 2), 1e-2);
}

TEST(Unet, TheReferenceNetworkIsNotShiftEquivariantBecauseItsUpsamplingZeroPads) {
  // Documents a property of Diffusion-HMC's architecture that reproducing it requires keeping:
  // ConvTranspose2d(4, 2, 1) drops the wrapped-around neighbour at the border rows and columns,
  // and the attention layers spread that to every pixel.
  auto net = fixture_network(/*periodic_upsampling=*/false);
  const double error = max_shift_error(net, random_inputs(4, 32), 4);
  std::printf("reference upsampling, shift 4: max |eps(shift x) - shift eps| = %.2g\n", error);
  EXPECT_GT(error, 1e-2);
}

TEST(Unet, PeriodicUpsamplingAgreesWithTheReferenceAwayFromTheBorder) {
  // The same transposed-convolution weights: only output rows/columns 0 and 2N-1, which miss a
  // neighbour in the zero-padded version, may differ.
  torch::manual_seed(3);
  auto reference =
      torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(4, 4, 4).stride(2).padding(1));
  auto periodic =
      torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(4, 4, 4).stride(2).padding(3));
  torch::NoGradGuard no_grad;
  periodic->weight.copy_(reference->weight);
  periodic->bias.copy_(reference->bias);
  const auto x = torch::randn({2, 4, 8, 8});
  const auto a = reference->forward(x);
  const auto b = periodic->forward(torch::nn::functional::pad(
      x, torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kCircular)));
  ASSERT_EQ(a.sizes(), b.sizes());
  const auto inner = idx::Slice(1, -1);
  EXPECT_LT(
      (a.index({"...", inner, inner}) - b.index({"...", inner, inner})).abs().max().item<double>(),
      1e-6);
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-2);
}

TEST(Unet, GradientWithRespectToThetaMatchesFiniteDifferences) {
  // HMC differentiates the likelihood through theta only: autograd against a central difference
  // of a scalar projection of eps.
  auto net = fixture_network();
  for (auto& p : net->parameters()) p.set_requires_grad(false);
  const auto in = random_inputs(4, 16);
  torch::manual_seed(11);
  const auto weights = torch::randn({4, 1, 16, 16});
  auto objective = [&](const torch::Tensor& theta) {
    return (net->forward(in.x, in.t, theta) * weights).sum();
  };
  auto theta = in.theta.clone().set_requires_grad(true);
  objective(theta).backward();
  const auto grad = theta.grad();
  const float h = 1e-2f;
  double worst = 0.0, scale = grad.abs().max().item<double>();
  for (int b = 0; b < 4; ++b) {
    for (int k = 0; k < 2; ++k) {
      torch::NoGradGuard no_grad;
      auto plus = in.theta.clone(), minus = in.theta.clone();
      plus[b][k] += h;
      minus[b][k] -= h;
      const double fd = (objective(plus) - objective(minus)).item<double>() / (2 * h);
      worst = std::max(worst, std::abs(fd - grad[b][k].item<double>()));
    }
  }
  std::printf("d/dtheta: max |autograd - finite difference| = %.3g (max |gradient| %.3g)\n", worst,
              scale);
  EXPECT_GT(scale, 1e-3);
  EXPECT_LT(worst, 2e-2 * scale);
}

TEST(Unet, LoadStateDictNamesEveryMismatch) {
  ConditionalUnet net(tiny_config());
  auto state = ds::nets::read_torch_checkpoint(kFixture).state_dict;
  state.erase("final_conv.1.bias");
  state["extra.weight"] = torch::zeros({1});
  state["time_mlp.1.weight"] = torch::zeros({3, 3});
  try {
    ds::nets::load_state_dict(*net, state);
    FAIL() << "mismatched weights accepted";
  } catch (const ds::InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing 'final_conv.1.bias'"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected 'extra.weight'"), std::string::npos) << m;
    EXPECT_NE(m.find("'time_mlp.1.weight' has shape [3, 3], the network expects [64, 16]"),
              std::string::npos)
        << m;
  }
}

}  // namespace
