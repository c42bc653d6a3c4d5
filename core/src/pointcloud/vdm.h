// Variational diffusion model in continuous time for point clouds (reference/point-cloud.md,
// "Variational diffusion model"), torch level: the learned linear log-SNR schedule, the training
// terms, the ELBO with common random numbers, and the ancestral / probability-flow samplers.
// Clouds here are standardised ([B, N, F], PointTransform); theta is raw (Omega_m, sigma_8).
//
// Conventions: gamma(t) is the log signal-to-noise ratio, decreasing in t:
//   gamma(t) = b - |w| t, alpha_t^2 = sigmoid(gamma_t), sigma_t^2 = sigmoid(-gamma_t),
//   z_t = alpha_t x + sigma_t eps. All terms are nats per cloud: SUMMED over points and features
//   (the trainer divides by N for the published per-point loss).
//   diffusion      0.5 |gamma'(t)| ||eps - eps_hat(z_t, gamma_t, theta)||^2, |gamma'| = |w|
//   latent         KL(q(z_1 | x) || N(0, 1)) = 0.5 sum((1 - sigma_1^2) x^2 + sigma_1^2 - log sigma_1^2 - 1)
//   reconstruction -log N(x; z_0 / alpha_0, 1e-3^2) with z_0 = alpha_0 x + sigma_0 eps0
//                  (1e-3 is the standard deviation)
// ELBO = -(reconstruction + latent + (1/S) sum_{i<S} diffusion(t = i/S)), a lower bound on
// log p(x | theta) in standardised coordinates (the Jacobian of the standardisation is a constant).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/random.h"
#include "nets/point_network.h"

namespace ds::pointcloud {

class GammaScheduleImpl : public torch::nn::Module {
 public:
  // b = gamma0, w = gamma1 - gamma0 (published: 14 and -22, so gamma(1) = -8).
  explicit GammaScheduleImpl(double gamma0 = 14.0, double gamma1 = -8.0);
  torch::Tensor forward(const torch::Tensor& t);  // gamma(t), same shape as t
  torch::Tensor rate();                           // |w| = -d gamma / dt, scalar
  torch::Tensor b, w;  // registered as "b" and "w", shape [1] (as stored in model files)
};
TORCH_MODULE(GammaSchedule);

struct VdmTerms {
  torch::Tensor diffusion, latent, reconstruction;  // [B] nats per cloud
  torch::Tensor total() const { return diffusion + latent + reconstruction; }
};

// The trainable whole: submodules "net" (the score network) and "gamma" (the schedule), so
// named_parameters() are "net.<...>", "gamma.b", "gamma.w" (the names in the model file).
class VdmImpl : public torch::nn::Module {
 public:
  VdmImpl(std::shared_ptr<nets::PointNetwork> net, double gamma0 = 14.0, double gamma1 = -8.0);

  nets::PointNetwork& network() { return *net_; }
  GammaSchedule& gamma() { return gamma_; }

  // eps_hat for z [B, N, F] at times t [B] in [0, 1] and raw theta [B, P].
  torch::Tensor predict_noise(const torch::Tensor& z, const torch::Tensor& t,
                              const torch::Tensor& theta);

  // Training terms: x [B, N, F], theta [B, P], t [B] (antithetic_times), eps and eps0 [B, N, F].
  VdmTerms terms(const torch::Tensor& x, const torch::Tensor& theta, const torch::Tensor& t,
                 const torch::Tensor& eps, const torch::Tensor& eps0);

 private:
  std::shared_ptr<nets::PointNetwork> net_;
  GammaSchedule gamma_{nullptr};
};
TORCH_MODULE(Vdm);

// t_i = (u + i / B) mod 1, float32 [B] (antithetic time sampling), u in [0, 1).
torch::Tensor antithetic_times(std::int64_t batch, double u);

// Standard normal float32 tensor from ds::Rng (bit-reproducible on CPU), on CPU.
torch::Tensor normal_tensor(Rng& rng, at::IntArrayRef sizes);

// Common random numbers for ELBOs of clouds of n points and f features: eps [K, S, n, f] and
// eps0 [K, n, f], drawn from Rng(seed) so that every parameter value sees the same numbers.
struct ElboNoise {
  torch::Tensor eps, eps0;
  int steps() const { return int(eps.size(1)); }
  int draws() const { return int(eps.size(0)); }
  static ElboNoise draw(int steps, int draws, std::int64_t n, std::int64_t f, std::uint64_t seed);
};

// ELBO of one standardised cloud x [N, F] at each raw theta [G, P], for each of the K draws:
// [G, K] (float64). Differentiable in theta when theta requires grad (the network's weights get
// no gradient). Network calls are batched over (theta, draw, step) in chunks of at most `chunk`
// clouds (0: all at once). job: cancellation between chunks.
torch::Tensor elbo(VdmImpl& vdm, const torch::Tensor& x, const torch::Tensor& theta,
                   const ElboNoise& noise, std::int64_t chunk = 0, const JobContext& job = {});

enum class PointSampler { Ancestral, Ode };

struct PointSamplerSettings {
  PointSampler kind = PointSampler::Ancestral;
  int steps = 100;
  std::uint64_t seed = 1;
  std::vector<std::int64_t> trace;  // particle indices whose states are reported every step
};

// Called after every step with (step done, steps, z of the traced particles [B, trace, F]
// standardised, divided by alpha_t so that it is in data units).
using PointStepCallback = std::function<void(int, int, const torch::Tensor&)>;

// Draws B clouds of n points at raw theta [B, P]: z_1 ~ N(0, I) from Rng(seed), then
//   ancestral: from t to s = t - 1/steps, c = -expm1(gamma_t - gamma_s),
//     z_s = sqrt(alpha_s^2 / alpha_t^2) (z_t - sigma_t c eps_hat) + sqrt((1 - alpha_s^2) c) noise
//   ode: the probability-flow ODE dz/dt = -0.5 beta(t) (z - eps_hat / sigma_t),
//     beta(t) = |gamma'(t)| sigma_t^2, integrated from 1 to 0 by Heun's method.
// Returns x = z_0 / alpha_0 standardised [B, n, F] (no wrapping; PointTransform does it).
// job: progress per step, cancellation between steps (throws Cancelled).
torch::Tensor sample(VdmImpl& vdm, const torch::Tensor& theta, std::int64_t n,
                     const PointSamplerSettings& settings, const PointStepCallback& on_step = {},
                     const JobContext& job = {});

}  // namespace ds::pointcloud
