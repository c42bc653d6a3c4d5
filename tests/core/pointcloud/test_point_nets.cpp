// Point-cloud score networks (nets/point_network.h) and their configuration: JSON round trip and
// strictness, permutation equivariance of both networks, periodic-translation equivariance of
// the GNN, the transformer's identity at initialisation, batching, gradients with respect to
// theta against finite differences, and the parameter counts of the default architectures.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/nets/point_net_config.h"
#include "nets/point_network.h"

namespace {

using ds::PointNetConfig;
using ds::PointNetKind;

constexpr double kBox = 100.0;

PointNetConfig tiny_config(PointNetKind kind, int features) {
  PointNetConfig c;
  c.kind = kind;
  c.n_features = features;
  c.time_embedding = 8;
  c.theta_embedding = 4;
  c.cond_mlp = {16, 8};
  c.k = 8;
  c.hidden = 16;
  c.mlp_layers = 1;
  c.latent = 8;
  c.message_passing = 2;
  c.d_model = 16;
  c.heads = 2;
  c.layers = 2;
  c.mlp_width = 32;
  c.box_size = kBox;
  c.position_mean = {50, 50, 50};
  c.position_std = {28.9, 28.9, 28.9};
  return c;
}

std::int64_t parameter_count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

struct Inputs {
  torch::Tensor z, gamma, theta;
};

// Positions standardised from a uniform cloud in the box; other features standard normal.
Inputs random_inputs(const PointNetConfig& c, int batch, int n, int seed) {
  torch::manual_seed(seed);
  auto x = torch::rand({batch, n, 3}) * kBox;
  auto z = torch::randn({batch, n, c.n_features});
  z.narrow(2, 0, 3).copy_((x - 50.0) / 28.9);
  return {z, torch::rand({batch}) * 10 - 5, torch::rand({batch, c.n_params}) * 0.5 + 0.3};
}

// The transformer starts as the identity; random output weights make its tests meaningful.
void randomise_output_layer(ds::nets::PointNetwork& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.named_parameters())
    if (p.key().rfind("output.", 0) == 0) p.value().normal_(0, 0.3);
}

TEST(PointNetConfig, JsonRoundTripKeepsEveryField) {
  auto c = tiny_config(PointNetKind::Transformer, 7);
  c.inducing_points = 5;
  c.n_params = 3;
  c.position_mean = {1.5, 2.5, 3.5};
  const auto back = PointNetConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.kind, PointNetKind::Transformer);
  EXPECT_EQ(back.inducing_points, 5);
  EXPECT_EQ(back.cond_mlp, (std::vector<int>{16, 8}));
  EXPECT_DOUBLE_EQ(back.position_mean[2], 3.5);
  EXPECT_EQ(PointNetConfig::from_json("{}").to_json(), PointNetConfig().to_json());
  EXPECT_EQ(c.describe().rfind("PointTransformer(F=7", 0), 0u) << c.describe();
  EXPECT_EQ(PointNetConfig().describe().rfind("PointGnn(F=3, P=2, k=20", 0), 0u);
  EXPECT_STREQ(ds::point_net_kind_name(PointNetKind::Gnn), "gnn");
}

TEST(PointNetConfig, RejectsUnknownKeysAndBadValues) {
  auto expect_error = [](const std::string& json, const std::string& needle) {
    try {
      PointNetConfig::from_json(json);
      ADD_FAILURE() << json << " was accepted";
    } catch (const ds::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // Issue 18: sizes from an untrusted model file are bounded before a network is built.
  expect_error(R"({"hidden": 4294967296})", "is absurdly large (at most 65536)");
  expect_error(R"({"k": -9223372036854775808})", "is absurdly large");
  expect_error(R"({"hiden": 64})", "'hiden'");
  expect_error(R"({"kind": "cnn"})", "'cnn'");
  expect_error(R"({"k": 2.5})", "'k'");
  expect_error(R"({"k": 1})", "k = 1");
  expect_error(R"({"n_features": 2})", "n_features");
  expect_error(R"({"kind": "transformer", "d_model": 30, "heads": 4})", "heads");
  expect_error(R"({"position_std": [1, 0, 1]})", "position_std");
  expect_error(R"({"position_mean": [1, 2]})", "position_mean");
  expect_error("[1, 2]", "object");
  expect_error("{", "not JSON");
  auto bad = PointNetConfig();
  bad.time_embedding = 5;
  EXPECT_THROW(ds::nets::make_point_network(bad), ds::InvalidArgument);
}

TEST(PointNets, DefaultParameterCounts) {
  // GNN (F = 3): cond 24 912, node encoder 55 824, edge encoder 52 112, 4 rounds of 179 905,
  // decoder 52 099. The published count is about 0.66 M; ours has a larger attention MLP
  // ([128] x 4 + [1]) and a node encoder fed by g.
  auto gnn = ds::nets::make_point_network(PointNetConfig());
  const auto n_gnn = parameter_count(*gnn);
  std::printf("default PointGnn (F=3): %lld parameters\n", static_cast<long long>(n_gnn));
  EXPECT_EQ(n_gnn, 904951);
  EXPECT_GT(n_gnn, 400000);
  EXPECT_LT(n_gnn, 1000000);

  PointNetConfig t;
  t.kind = PointNetKind::Transformer;
  auto transformer = ds::nets::make_point_network(t);
  const auto n_transformer = parameter_count(*transformer);
  std::printf("default PointTransformer (F=3, 4 layers): %lld parameters\n",
              static_cast<long long>(n_transformer));
  // 24 912 conditioning + 1 024 input + 4 x 798 208 layers + 512 norm + 771 output.
  EXPECT_EQ(n_transformer, 3220051);
  t.layers = 6;  // the published "about 4.8 M"
  EXPECT_EQ(parameter_count(*ds::nets::make_point_network(t)), 3220051 + 2 * 798208);
}

class BothNetworks : public ::testing::TestWithParam<int> {
 protected:
  // 0: GNN, 1: transformer, 2: transformer with inducing points.
  PointNetConfig config(int features) const {
    auto c = tiny_config(GetParam() == 0 ? PointNetKind::Gnn : PointNetKind::Transformer, features);
    if (GetParam() == 2) c.inducing_points = 6;
    return c;
  }
  std::shared_ptr<ds::nets::PointNetwork> network(const PointNetConfig& c) const {
    torch::manual_seed(1);
    auto net = ds::nets::make_point_network(c);
    randomise_output_layer(*net);
    return net;
  }
};

TEST_P(BothNetworks, IsPermutationEquivariant) {
  const auto c = config(7);
  auto net = network(c);
  const auto in = random_inputs(c, 2, 60, 3);
  const auto permutation = torch::randperm(60);
  const auto out = net->forward(in.z, in.gamma, in.theta);
  const auto permuted = net->forward(in.z.index_select(1, permutation), in.gamma, in.theta);
  EXPECT_EQ(out.sizes(), in.z.sizes());
  EXPECT_TRUE(torch::allclose(permuted, out.index_select(1, permutation), 1e-5, 1e-5))
      << (permuted - out.index_select(1, permutation)).abs().max().item<float>();
  // The output depends on the points: not equivariant by being constant.
  EXPECT_GT((out - in.z).std().item<float>(), 1e-3);
}

TEST_P(BothNetworks, BatchesCloudsIndependently) {
  const auto c = config(3);
  auto net = network(c);
  const auto in = random_inputs(c, 3, 40, 4);
  const auto all = net->forward(in.z, in.gamma, in.theta);
  for (int b = 0; b < 3; ++b) {
    const auto one =
        net->forward(in.z.narrow(0, b, 1), in.gamma.narrow(0, b, 1), in.theta.narrow(0, b, 1));
    EXPECT_TRUE(torch::allclose(one, all.narrow(0, b, 1), 1e-5, 1e-5)) << "cloud " << b;
  }
  // Conditioning matters: another gamma or theta changes the output.
  EXPECT_GT((net->forward(in.z, in.gamma + 1, in.theta) - all).abs().max().item<float>(), 1e-4);
  EXPECT_GT((net->forward(in.z, in.gamma, in.theta + 0.1) - all).abs().max().item<float>(), 1e-5);
}

TEST_P(BothNetworks, RejectsBadShapes) {
  const auto c = config(3);
  auto net = network(c);
  const auto in = random_inputs(c, 2, 20, 5);
  EXPECT_THROW(net->forward(in.z.narrow(2, 0, 2), in.gamma, in.theta), ds::InvalidArgument);
  EXPECT_THROW(net->forward(in.z, in.gamma.narrow(0, 0, 1), in.theta), ds::InvalidArgument);
  EXPECT_THROW(net->forward(in.z, in.gamma, in.theta.narrow(1, 0, 1)), ds::InvalidArgument);
  if (GetParam() == 0) {
    EXPECT_THROW(net->forward(in.z.narrow(1, 0, 5), in.gamma, in.theta), ds::InvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(PointNets, BothNetworks, ::testing::Values(0, 1, 2));

TEST(PointGnn, IsEquivariantUnderPeriodicTranslationsWithRelativePositionsOnly) {
  // Without absolute positions at the node encoder, h = z - eps_hat depends on positions only
  // through minimum-image differences, so shifting and wrapping the positions leaves h unchanged
  // (eps_hat itself moves with z). The default network (absolute_positions, as published) uses the
  // same periodic graph and edge vectors but also sees where each point is: a translation then
  // changes h.
  auto c = tiny_config(PointNetKind::Gnn, 7);
  c.absolute_positions = false;
  torch::manual_seed(2);
  auto net = ds::nets::make_point_network(c);
  const auto in = random_inputs(c, 2, 80, 6);
  const auto h = in.z - net->forward(in.z, in.gamma, in.theta);

  const auto physical = in.z.narrow(2, 0, 3) * 28.9 + 50.0;
  const auto shift = torch::rand({1, 1, 3}) * kBox;
  const auto moved = torch::remainder(physical + shift, kBox);
  auto z_moved = in.z.clone();
  z_moved.narrow(2, 0, 3).copy_((moved - 50.0) / 28.9);
  const auto h_moved = z_moved - net->forward(z_moved, in.gamma, in.theta);
  EXPECT_TRUE(torch::allclose(h_moved, h, 1e-4, 1e-4)) << (h_moved - h).abs().max().item<float>();

  // A non-periodic change of the geometry (a stretch) does change h.
  auto z_stretched = in.z.clone();
  z_stretched.narrow(2, 0, 3).mul_(0.8);
  const auto h_stretched = z_stretched - net->forward(z_stretched, in.gamma, in.theta);
  EXPECT_GT((h_stretched - h).abs().max().item<float>(), 1e-3);

  c.absolute_positions = true;
  torch::manual_seed(2);
  auto absolute = ds::nets::make_point_network(c);
  const auto ha = in.z - absolute->forward(in.z, in.gamma, in.theta);
  const auto ha_moved = z_moved - absolute->forward(z_moved, in.gamma, in.theta);
  EXPECT_GT((ha_moved - ha).abs().max().item<float>(), 1e-3);
}

TEST(PointTransformer, IsTheIdentityAtInitialisation) {
  for (int inducing : {0, 4}) {
    auto c = tiny_config(PointNetKind::Transformer, 7);
    c.inducing_points = inducing;
    auto net = ds::nets::make_point_network(c);
    const auto in = random_inputs(c, 2, 30, 7);
    EXPECT_TRUE(torch::equal(net->forward(in.z, in.gamma, in.theta), in.z));
  }
}

TEST(PointGnn, ThetaGradientMatchesFiniteDifferences) {
  auto c = tiny_config(PointNetKind::Gnn, 3);
  torch::manual_seed(3);
  auto net = ds::nets::make_point_network(c);
  const auto in = random_inputs(c, 1, 30, 8);
  const auto weights = torch::randn(in.z.sizes());
  auto loss = [&](const torch::Tensor& theta) {
    return (net->forward(in.z, in.gamma, theta) * weights).sum();
  };
  auto theta = in.theta.clone().requires_grad_(true);
  const auto grad = torch::autograd::grad({loss(theta)}, {theta})[0];
  const double step = 1e-2;
  for (int p = 0; p < c.n_params; ++p) {
    torch::NoGradGuard no_grad;
    auto plus = in.theta.clone(), minus = in.theta.clone();
    plus[0][p] += step;
    minus[0][p] -= step;
    const double fd = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * step);
    const double g = grad[0][p].item<double>();
    EXPECT_GT(std::abs(g), 1e-3) << "theta " << p;
    EXPECT_NEAR(g, fd, 1e-2 * std::abs(fd) + 1e-3) << "theta " << p;
  }
}

TEST(PointNets, RunOnCudaLikeOnCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (int kind = 0; kind < 2; ++kind) {
    auto c = tiny_config(kind == 0 ? PointNetKind::Gnn : PointNetKind::Transformer, 7);
    c.inducing_points = kind == 0 ? 0 : 4;
    torch::manual_seed(5);
    auto net = ds::nets::make_point_network(c);
    randomise_output_layer(*net);
    const auto in = random_inputs(c, 2, 50, 9);
    const auto cpu = net->forward(in.z, in.gamma, in.theta);
    net->to(torch::kCUDA);
    const auto cuda = net->forward(in.z.cuda(), in.gamma.cuda(), in.theta.cuda());
    EXPECT_TRUE(cuda.is_cuda());
    EXPECT_TRUE(torch::allclose(cuda.cpu(), cpu, 1e-4, 1e-4)) << "kind " << kind;
  }
}

// Reported, not asserted, and too slow for the default run on a shared core (run with
// --gtest_also_run_disabled_tests): one default GNN pass on a 1000-point cloud on the CPU.
TEST(PointGnn, DISABLED_TimesOneDefaultForwardPass) {
  auto net = ds::nets::make_point_network(PointNetConfig());
  torch::manual_seed(4);
  auto z = (torch::rand({1, 1000, 3}) * 1000 - 500) / 288.675;
  torch::NoGradGuard no_grad;
  for (int pass = 0; pass < 2; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    const auto out = net->forward(z, torch::zeros({1}), torch::full({1, 2}, 0.5));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("default PointGnn forward, 1 x 1000 points, CPU, pass %d: %.1f ms\n", pass, ms);
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  }
}

}  // namespace
