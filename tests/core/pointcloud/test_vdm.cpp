// The variational diffusion model against the one case with exact answers: data whose elements
// are i.i.d. N(mu, s^2) with mu = theta_0. Its optimal denoiser is the conditional mean
//   eps_hat(z, t) = E[eps | z_t] = Cov(eps, z) / Var(z) (z - alpha mu)
//                 = sigma (z - alpha mu) / (alpha^2 s^2 + sigma^2),
// the exact expectation of every ELBO term is known in closed form, and log p(x) = log N(x; mu,
// s^2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/jobs/job.h"
#include "pointcloud/vdm.h"

namespace ds::pointcloud {
namespace {

constexpr double kGamma0 = 14.0, kGamma1 = -8.0;

double sigmoid(double g) {
  return 1.0 / (1.0 + std::exp(-g));
}

// The optimal denoiser for elements ~ N(theta_0, s^2), written with torch ops so that the
// ELBO's gradient in theta is an autograd one.
class GaussianOracle : public nets::PointNetwork {
 public:
  GaussianOracle(int features, double s) : s_(s) { config_.n_features = features; }
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& gamma,
                        const torch::Tensor& theta) override {
    const auto g = gamma.reshape({-1, 1, 1});
    const auto alpha2 = torch::sigmoid(g), sigma2 = torch::sigmoid(-g);
    const auto mu = theta.select(1, 0).reshape({-1, 1, 1});
    return torch::sqrt(sigma2) * (z - torch::sqrt(alpha2) * mu) / (alpha2 * s_ * s_ + sigma2);
  }
  const PointNetConfig& config() const override { return config_; }

 private:
  double s_;
  PointNetConfig config_;
};

// eps_hat = 0: the diffusion term is then 0.5 |gamma'| ||eps||^2 exactly.
class ZeroNetwork : public nets::PointNetwork {
 public:
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor&,
                        const torch::Tensor&) override {
    return torch::zeros_like(z);
  }
  const PointNetConfig& config() const override { return config_; }

 private:
  PointNetConfig config_;
};

Vdm oracle_vdm(int features, double s) {
  return Vdm(std::make_shared<GaussianOracle>(features, s), kGamma0, kGamma1);
}

// Per element, for fixed x: E_eps ||eps - eps_hat||^2 at log-SNR g
//   = (alpha^4 s^4 + sigma^2 alpha^2 (x - mu)^2) / (alpha^2 s^2 + sigma^2)^2.
double expected_squared_error(double g, double x, double mu, double s) {
  const double a2 = sigmoid(g), s2 = sigmoid(-g), d = a2 * s * s + s2;
  return (a2 * a2 * s * s * s * s + s2 * a2 * (x - mu) * (x - mu)) / (d * d);
}

double latent_exact(const std::vector<double>& x) {
  const double s1 = sigmoid(-kGamma1);  // sigma_1^2
  double sum = 0.0;
  for (double v : x) sum += 0.5 * ((1.0 - s1) * v * v + s1 - std::log(s1) - 1.0);
  return sum;
}

// Expectation over eps0 of the reconstruction term, per element.
double reconstruction_mean_per_element() {
  return 0.5 * std::exp(-kGamma0) / 1e-6 + std::log(1e-3) + 0.5 * std::log(2.0 * M_PI);
}

// E_eps[ELBO] of the S-step estimator for the oracle, in double.
double expected_elbo(const std::vector<double>& x, double mu, double s, int steps) {
  double diffusion = 0.0;
  for (int i = 0; i < steps; ++i) {
    const double g = kGamma0 + (kGamma1 - kGamma0) * double(i) / steps;
    for (double v : x) diffusion += 0.5 * (kGamma0 - kGamma1) * expected_squared_error(g, v, mu, s);
  }
  return -(diffusion / steps + latent_exact(x) + x.size() * reconstruction_mean_per_element());
}

// The S -> infinity limit: with u = SNR s^2, 0.5 int E dgamma =
// 0.5 [log(1 + u) + 1 / (1 + u) - q / (1 + u)] between u(gamma_1) and u(gamma_0), q = (x-mu)^2/s^2.
double expected_elbo_continuous(const std::vector<double>& x, double mu, double s) {
  const double lo = std::exp(kGamma1) * s * s, hi = std::exp(kGamma0) * s * s;
  double diffusion = 0.0;
  for (double v : x) {
    const double q = (v - mu) * (v - mu) / (s * s);
    diffusion += 0.5 * (std::log1p(hi) - std::log1p(lo) + 1.0 / (1.0 + hi) - 1.0 / (1.0 + lo) -
                        q / (1.0 + hi) + q / (1.0 + lo));
  }
  return -(diffusion + latent_exact(x) + x.size() * reconstruction_mean_per_element());
}

double log_normal(const std::vector<double>& x, double mu, double s) {
  double sum = 0.0;
  for (double v : x)
    sum += -0.5 * (v - mu) * (v - mu) / (s * s) - std::log(s) - 0.5 * std::log(2.0 * M_PI);
  return sum;
}

std::vector<double> draw_cloud(std::int64_t elements, double mu, double s, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> x(static_cast<std::size_t>(elements));
  for (auto& v : x) v = mu + s * rng.normal();
  return x;
}

torch::Tensor as_tensor(const std::vector<double>& x, std::int64_t n, std::int64_t f) {
  return torch::tensor(x, torch::TensorOptions().dtype(torch::kFloat64))
      .reshape({n, f})
      .to(torch::kFloat32);
}

struct MeanAndError {
  double mean, error;
};
MeanAndError mean_and_error(const torch::Tensor& values) {
  const auto v = values.to(torch::kFloat64).flatten();
  return {v.mean().item<double>(), (v.std() / std::sqrt(double(v.numel()))).item<double>()};
}

TEST(GammaSchedule, PublishedEndPointsAndRate) {
  GammaSchedule gamma(14.0, -8.0);
  EXPECT_FLOAT_EQ(gamma->forward(torch::zeros({})).item<float>(), 14.0f);
  EXPECT_FLOAT_EQ(gamma->forward(torch::ones({})).item<float>(), -8.0f);
  EXPECT_FLOAT_EQ(gamma->rate().item<float>(), 22.0f);
  EXPECT_EQ(gamma->forward(torch::full({5}, 0.5)).sizes(), torch::IntArrayRef({5}));
  EXPECT_THROW(GammaSchedule(-8.0, 14.0), InvalidArgument);
  EXPECT_THROW(GammaSchedule(std::nan(""), 1.0), InvalidArgument);
}

TEST(AntitheticTimes, CoverTheUnitIntervalEvenly) {
  for (double u : {0.0, 0.37, 0.999}) {
    const auto t = antithetic_times(8, u);
    ASSERT_EQ(t.sizes(), torch::IntArrayRef({8}));
    ASSERT_EQ(t.scalar_type(), torch::kFloat32);
    auto sorted = std::get<0>(t.sort());
    const double offset = std::fmod(u, 1.0 / 8);
    for (int i = 0; i < 8; ++i) {
      EXPECT_NEAR(sorted[i].item<float>(), offset + i / 8.0, 1e-6) << "u = " << u;
      EXPECT_GE(sorted[i].item<float>(), 0.0f);
      EXPECT_LT(sorted[i].item<float>(), 1.0f);
    }
  }
  EXPECT_THROW(antithetic_times(0, 0.5), InvalidArgument);
  EXPECT_THROW(antithetic_times(4, 1.0), InvalidArgument);
}

TEST(ElboNoise, ReproducibleAndNestedInTheDrawCount) {
  const auto a = ElboNoise::draw(5, 3, 4, 3, 11), b = ElboNoise::draw(5, 3, 4, 3, 11);
  EXPECT_TRUE(torch::equal(a.eps, b.eps));
  EXPECT_TRUE(torch::equal(a.eps0, b.eps0));
  EXPECT_EQ(a.steps(), 5);
  EXPECT_EQ(a.draws(), 3);
  EXPECT_EQ(a.eps.sizes(), torch::IntArrayRef({3, 5, 4, 3}));
  EXPECT_EQ(a.eps0.sizes(), torch::IntArrayRef({3, 4, 3}));
  const auto more = ElboNoise::draw(5, 6, 4, 3, 11);
  EXPECT_TRUE(torch::equal(more.eps.slice(0, 0, 3), a.eps));  // more draws keep the first ones
  EXPECT_FALSE(torch::equal(ElboNoise::draw(5, 3, 4, 3, 12).eps, a.eps));
  Rng rng(3);
  const auto z = normal_tensor(rng, {200000});
  EXPECT_NEAR(z.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(z.std().item<double>(), 1.0, 0.01);
  EXPECT_THROW(ElboNoise::draw(0, 3, 4, 3, 1), InvalidArgument);
}

TEST(VdmTerms, LatentAndReconstructionEqualTheirClosedForms) {
  auto vdm = oracle_vdm(3, 0.7);
  const auto xd = draw_cloud(2 * 5 * 3, 0.2, 1.3, 5);
  const auto x = as_tensor(xd, 10, 3).reshape({2, 5, 3});
  Rng rng(6);
  const auto eps = normal_tensor(rng, {2, 5, 3}), eps0 = normal_tensor(rng, {2, 5, 3});
  const auto theta = torch::tensor({0.2, 0.8, 0.2, 0.8}).reshape({2, 2});
  const auto terms = vdm->terms(x, theta, antithetic_times(2, 0.3), eps, eps0);
  ASSERT_EQ(terms.latent.sizes(), torch::IntArrayRef({2}));
  for (int b = 0; b < 2; ++b) {
    std::vector<double> cloud(xd.begin() + b * 15, xd.begin() + (b + 1) * 15);
    EXPECT_NEAR(terms.latent[b].item<double>(), latent_exact(cloud), 1e-6 * latent_exact(cloud));
    // -log N(x; z0 / alpha0, 1e-3^2) with z0 = alpha0 x + sigma0 eps0, literally, in double.
    const double a0 = std::sqrt(sigmoid(kGamma0)), s0 = std::sqrt(sigmoid(-kGamma0));
    double recon = 0.0;
    for (int i = 0; i < 15; ++i) {
      const double xv = x[b].flatten()[i].item<double>();
      const double z0 = a0 * xv + s0 * eps0[b].flatten()[i].item<double>();
      const double r = (xv - z0 / a0) / 1e-3;
      recon += 0.5 * r * r + std::log(1e-3) + 0.5 * std::log(2.0 * M_PI);
    }
    EXPECT_NEAR(terms.reconstruction[b].item<double>(), recon, 1e-5 * std::abs(recon));
  }
}

TEST(VdmTerms, DiffusionTermWeightsTheSquaredErrorByTheRate) {
  Vdm vdm(std::make_shared<ZeroNetwork>(), kGamma0, kGamma1);
  Rng rng(8);
  const auto x = normal_tensor(rng, {3, 4, 3}), eps = normal_tensor(rng, {3, 4, 3});
  const auto terms = vdm->terms(x, torch::zeros({3, 2}), antithetic_times(3, 0.1), eps, eps);
  EXPECT_TRUE(torch::allclose(terms.diffusion, 11.0 * eps.pow(2).sum({1, 2}), 1e-6));
  EXPECT_TRUE(
      torch::allclose(terms.total(), terms.diffusion + terms.latent + terms.reconstruction));
  EXPECT_THROW(vdm->terms(x, torch::zeros({2, 2}), antithetic_times(3, 0.1), eps, eps),
               InvalidArgument);
}

// The oracle is the conditional mean: over data and noise, its residual eps - eps_hat has mean 0,
// is uncorrelated with z, and its mean square is the minimum alpha^2 s^2 / (alpha^2 s^2 + sigma^2)
// per element (so the diffusion term's expectation is 0.5 |gamma'| N F times that, not 0).
TEST(VdmTerms, OracleDiffusionTermHasTheMinimumMeanSquareError) {
  const double mu = 0.4, s = 0.6;
  auto vdm = oracle_vdm(3, s);
  const std::int64_t batch = 4000;
  for (double t : {0.1, 0.5, 0.8}) {
    Rng rng(uint64_t(100 * t));
    const auto x = mu + s * normal_tensor(rng, {batch, 2, 3});
    const auto eps = normal_tensor(rng, {batch, 2, 3});
    const auto times = torch::full({batch}, t);
    const auto theta = torch::tensor({mu, 0.8}).repeat({batch, 1});
    const auto terms = vdm->terms(x, theta, times, eps, eps);
    const double g = kGamma0 + (kGamma1 - kGamma0) * t;
    const double a2 = sigmoid(g), s2 = sigmoid(-g);
    const double mmse = a2 * s * s / (a2 * s * s + s2);
    const auto d = mean_and_error(terms.diffusion);
    EXPECT_NEAR(d.mean, 0.5 * 22.0 * 6 * mmse, 4.0 * d.error) << "t = " << t;
    const auto z = std::sqrt(a2) * x + std::sqrt(s2) * eps;
    const auto residual = eps - vdm->predict_noise(z, times, theta);
    const auto r = mean_and_error(residual);
    EXPECT_NEAR(r.mean, 0.0, 4.0 * r.error);
    const auto rz = mean_and_error(residual * z);
    EXPECT_NEAR(rz.mean, 0.0, 4.0 * rz.error);
  }
}

// The ELBO of the oracle model is the exact expected value of the S-step estimator (up to Monte
// Carlo noise), a lower bound on log N(x; mu, s^2) whose gap shrinks like 1/S to the decoder's
// fixed 1e-3 width mismatch (0.5 (r - 1 - log r), r = e^-14 / 1e-6, ~0.008 nats per element).
TEST(VdmElbo, ApproachesTheExactLogLikelihoodAsStepsGrow) {
  const double mu = 0.3, s = 0.7;
  const std::int64_t n = 4, f = 3;
  auto vdm = oracle_vdm(int(f), s);
  const auto xd = draw_cloud(n * f, mu, s, 21);
  const auto x = as_tensor(xd, n, f);
  const auto theta = torch::tensor({mu, 0.8}).reshape({1, 2});
  const double exact = log_normal(xd, mu, s);
  const double continuous = expected_elbo_continuous(xd, mu, s);
  EXPECT_NEAR(expected_elbo(xd, mu, s, 100000), continuous, 2e-3);  // the closed form's algebra
  const double decoder_ratio = std::exp(-kGamma0) / 1e-6;
  const double decoder_gap = 0.5 * (decoder_ratio - 1.0 - std::log(decoder_ratio));
  EXPECT_NEAR(exact - continuous, double(n * f) * decoder_gap, 0.01);
  EXPECT_GT(exact - continuous, 0.0);

  double previous_gap = INFINITY;
  for (auto [steps, draws] : {std::pair{50, 400}, {200, 200}, {1000, 100}}) {
    const auto noise = ElboNoise::draw(steps, draws, n, f, 7);
    const auto values = elbo(*vdm, x, theta, noise);
    ASSERT_EQ(values.sizes(), torch::IntArrayRef({1, draws}));
    ASSERT_EQ(values.scalar_type(), torch::kFloat64);
    const auto m = mean_and_error(values);
    const double expected = expected_elbo(xd, mu, s, steps);
    const double gap = exact - expected;
    std::printf("S = %4d: E[ELBO] = %.4f, MC %.4f +- %.4f, log N = %.4f, gap %.4f\n", steps,
                expected, m.mean, m.error, exact, gap);
    EXPECT_NEAR(m.mean, expected, 4.0 * m.error) << "S = " << steps;
    EXPECT_LT(m.mean, exact + 3.0 * m.error) << "S = " << steps;
    EXPECT_GT(gap, exact - continuous);
    EXPECT_LT(gap, previous_gap);
    // Left Riemann sum of a decreasing integrand: bias ~ (f(0) - f(1)) / 2S = 5.5 nats / S each.
    EXPECT_NEAR(gap - (exact - continuous), double(n * f) * 5.5 / steps,
                0.25 * n * f * 5.5 / steps);
    previous_gap = gap;
  }
  EXPECT_LT(previous_gap, 0.02 * double(n * f));  // S = 1000: within 0.02 nats per element
}

TEST(VdmElbo, ChunkingAndBatchingDoNotChangeValues) {
  auto vdm = oracle_vdm(3, 0.7);
  const auto x = as_tensor(draw_cloud(15, 0.3, 0.7, 2), 5, 3);
  const auto noise = ElboNoise::draw(10, 3, 5, 3, 4);
  const auto thetas = torch::tensor({0.1, 0.8, 0.3, 0.8, 0.5, 0.7}).reshape({3, 2});
  const auto whole = elbo(*vdm, x, thetas, noise);
  const auto chunked = elbo(*vdm, x, thetas, noise, 7);
  // Equal up to float32 rounding of differently shaped batched reductions.
  EXPECT_LT((whole - chunked).abs().max().item<double>(), 1e-6 * whole.abs().max().item<double>());
  for (int g = 0; g < 3; ++g) {
    const auto alone = elbo(*vdm, x, thetas.slice(0, g, g + 1), noise)[0];
    EXPECT_LT((whole[g] - alone).abs().max().item<double>(),
              1e-6 * whole.abs().max().item<double>());
  }
  int reports = 0;
  JobContext job([&](const Progress&) { ++reports; }, CancellationToken());
  elbo(*vdm, x, thetas, noise, 20, job);
  EXPECT_EQ(reports, 5);  // 3 x 3 x 10 combinations in chunks of 20
  CancellationToken cancel;
  cancel.request();
  EXPECT_THROW(elbo(*vdm, x, thetas, noise, 20, JobContext({}, cancel)), Cancelled);
  EXPECT_THROW(elbo(*vdm, x.unsqueeze(0), thetas, noise), InvalidArgument);
  EXPECT_THROW(elbo(*vdm, x.slice(0, 0, 4), thetas, noise), InvalidArgument);
}

// As a function of theta with common random numbers, the mean ELBO peaks at the maximum
// likelihood estimate of mu (the sample mean of x), close to the true mu.
TEST(VdmElbo, PeaksAtTheMaximumLikelihoodParameter) {
  const double mu = -0.2, s = 0.5;
  const std::int64_t n = 64, f = 3;
  auto vdm = oracle_vdm(int(f), s);
  const auto xd = draw_cloud(n * f, mu, s, 31);
  const double sample_mean = std::accumulate(xd.begin(), xd.end(), 0.0) / double(xd.size());
  std::vector<double> grid;
  for (int i = 0; i <= 40; ++i) grid.push_back(mu - 0.5 + 0.025 * i);
  auto thetas = torch::zeros({41, 2});
  for (int i = 0; i <= 40; ++i) {
    thetas[i][0] = grid[std::size_t(i)];
    thetas[i][1] = 0.8;
  }
  const auto noise = ElboNoise::draw(50, 8, n, f, 9);
  const auto mean = elbo(*vdm, as_tensor(xd, n, f), thetas, noise).mean(1);
  const double best = grid[std::size_t(mean.argmax().item<std::int64_t>())];
  std::printf("argmax %.3f, sample mean %.3f, true mu %.3f\n", best, sample_mean, mu);
  EXPECT_NEAR(best, sample_mean, 0.05);
  EXPECT_NEAR(best, mu, 4.0 * s / std::sqrt(double(n * f)));
}

TEST(VdmElbo, GradientInThetaMatchesFiniteDifferences) {
  const double s = 0.7;
  auto vdm = oracle_vdm(3, s);
  const auto x = as_tensor(draw_cloud(12, 0.3, s, 41), 4, 3);
  const auto noise = ElboNoise::draw(20, 4, 4, 3, 13);
  const auto base = torch::tensor({0.1, 0.7, 0.35, 0.8, 0.6, 0.9}).reshape({3, 2});
  const auto theta = base.clone().requires_grad_(true);
  const auto mean = elbo(*vdm, x, theta, noise).mean(1);
  ASSERT_TRUE(mean.requires_grad());
  const auto grad = torch::autograd::grad({mean.sum()}, {theta})[0];
  const double h = 1e-2;
  for (int g = 0; g < 3; ++g)
    for (int p = 0; p < 2; ++p) {
      auto up = base.clone(), down = base.clone();
      up[g][p] += h;
      down[g][p] -= h;
      const double fd = (elbo(*vdm, x, up, noise).mean(1)[g].item<double>() -
                         elbo(*vdm, x, down, noise).mean(1)[g].item<double>()) /
                        (2 * h);
      EXPECT_NEAR(grad[g][p].item<double>(), fd, 2e-3 * std::abs(fd) + 2e-2)
          << "theta " << g << ", parameter " << p;
    }
  EXPECT_EQ(grad.select(1, 1).abs().max().item<double>(), 0.0);  // the oracle ignores theta_1
  EXPECT_GT(grad.select(1, 0).abs().min().item<double>(), 1.0);
  // The schedule's parameters get no gradient and keep requires_grad.
  elbo(*vdm, x, theta, noise).sum().backward();
  EXPECT_FALSE(vdm->gamma()->b.grad().defined());
  EXPECT_TRUE(vdm->gamma()->b.requires_grad());
  // Without a theta that requires grad, no graph.
  EXPECT_FALSE(elbo(*vdm, x, base, noise).requires_grad());
}

struct SampleMoments {
  double mean, std;
};
SampleMoments moments(const torch::Tensor& cloud) {
  const auto v = cloud.to(torch::kFloat64).flatten();
  return {v.mean().item<double>(), v.std().item<double>()};
}

TEST(VdmSample, AncestralAndOdeReproduceTheTargetMoments) {
  const double s = 0.7;
  auto vdm = oracle_vdm(3, s);
  const auto theta = torch::tensor({0.5, 0.8, -1.0, 0.8}).reshape({2, 2});
  for (auto [kind, steps] : {std::pair{PointSampler::Ancestral, 200}, {PointSampler::Ode, 100}}) {
    PointSamplerSettings settings;
    settings.kind = kind;
    settings.steps = steps;
    settings.seed = 5;
    const auto x = sample(*vdm, theta, 1000, settings);
    ASSERT_EQ(x.sizes(), torch::IntArrayRef({2, 1000, 3}));
    const char* name = kind == PointSampler::Ancestral ? "ancestral" : "ode";
    for (int b = 0; b < 2; ++b) {
      const auto m = moments(x[b]);
      const double target = theta[b][0].item<double>();
      std::printf("%s cloud %d: mean %.4f (target %.2f), std %.4f (target %.2f)\n", name, b, m.mean,
                  target, m.std, s);
      // Standard errors: 0.7 / sqrt(3000) = 0.013 for the mean, 0.009 for the std.
      EXPECT_NEAR(m.mean, target, 0.05) << name;
      EXPECT_NEAR(m.std, s, 0.04) << name;
    }
  }
}

TEST(VdmSample, OdeIsDeterministicGivenTheSeed) {
  auto vdm = oracle_vdm(3, 0.7);
  const auto theta = torch::tensor({0.5, 0.8}).reshape({1, 2});
  PointSamplerSettings settings;
  settings.kind = PointSampler::Ode;
  settings.steps = 20;
  settings.seed = 3;
  const auto a = sample(*vdm, theta, 50, settings), b = sample(*vdm, theta, 50, settings);
  EXPECT_TRUE(torch::equal(a, b));
  settings.seed = 4;
  EXPECT_FALSE(torch::equal(a, sample(*vdm, theta, 50, settings)));
}

TEST(VdmSample, TracesReportsProgressAndCancels) {
  auto vdm = oracle_vdm(3, 0.7);
  const auto theta = torch::tensor({0.5, 0.8, 0.2, 0.9}).reshape({2, 2});
  PointSamplerSettings settings;
  settings.steps = 12;
  settings.trace = {3, 0, 7};
  std::vector<int> steps_seen;
  torch::Tensor last;
  int reports = 0;
  JobContext job([&](const Progress& p) { reports = int(p.done); }, CancellationToken());
  const auto x = sample(
      *vdm, theta, 10, settings,
      [&](int step, int steps, const torch::Tensor& traced) {
        EXPECT_EQ(steps, 12);
        EXPECT_EQ(traced.sizes(), torch::IntArrayRef({2, 3, 3}));
        steps_seen.push_back(step);
        last = traced.clone();
      },
      job);
  ASSERT_EQ(steps_seen.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(steps_seen[std::size_t(i)], i + 1);
  EXPECT_EQ(reports, 12);
  // The last report is the output itself at the traced indices.
  EXPECT_TRUE(torch::allclose(last, x.index_select(1, torch::tensor({3, 0, 7}))));

  CancellationToken cancel;
  int done = 0;
  JobContext cancelling(
      [&](const Progress& p) {
        done = int(p.done);
        if (p.done == 3) cancel.request();
      },
      cancel);
  EXPECT_THROW(sample(*vdm, theta, 10, settings, {}, cancelling), Cancelled);
  EXPECT_EQ(done, 3);
  settings.trace = {10};
  EXPECT_THROW(sample(*vdm, theta, 10, settings), InvalidArgument);
}

}  // namespace
}  // namespace ds::pointcloud
