// The variational diffusion model for point clouds (vdm.h). Schedule quantities are float32
// tensors computed from gamma in forms that stay accurate at both ends of the schedule
// (gamma = 14: sigma^2 ~ 8e-7; gamma = -8: alpha^2 ~ 3e-4): log_sigmoid / softplus / expm1
// rather than log(sigmoid) or 1 - sigmoid.
#include "pointcloud/vdm.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "diffuscope/error.h"

namespace ds::pointcloud {

namespace {

// Standard deviation of the reconstruction likelihood p(x | z_0) (reference/point-cloud.md).
constexpr double kReconstructionStd = 1e-3;

// alpha = sqrt(sigmoid(gamma)), sigma = sqrt(sigmoid(-gamma)), computed through log_sigmoid so
// that neither underflows nor loses its relative precision when the other is close to 1.
torch::Tensor alpha_of(const torch::Tensor& gamma) {
  return torch::exp(0.5 * torch::log_sigmoid(gamma));
}
torch::Tensor sigma_of(const torch::Tensor& gamma) {
  return torch::exp(0.5 * torch::log_sigmoid(-gamma));
}

// Per-element constant of -log N(x; m, kReconstructionStd^2): log(std) + 0.5 log(2 pi).
double reconstruction_constant() {
  return std::log(kReconstructionStd) + 0.5 * std::log(2.0 * M_PI);
}

// [B] -> [B, 1, 1] for broadcasting against clouds [B, N, F].
torch::Tensor per_cloud(const torch::Tensor& v) {
  return v.reshape({-1, 1, 1});
}

void require_cloud(const torch::Tensor& x, const char* what) {
  if (x.dim() != 3) {
    std::ostringstream s;
    s << "VDM: " << what << " must be [B, N, F], got " << x.sizes();
    throw InvalidArgument(s.str());
  }
}

// Latent term KL(q(z_1 | x) || N(0, 1)) summed over the elements of each cloud x [B, N, F]:
// 0.5 sum(alpha_1^2 x^2) + 0.5 N F (sigma_1^2 - log sigma_1^2 - 1), where the last bracket,
// ~alpha_1^4 / 2, is written softplus(g1) - sigmoid(g1) to avoid cancelling against 1.
torch::Tensor latent_term(GammaScheduleImpl& gamma, const torch::Tensor& x) {
  const auto g1 = gamma.forward(torch::ones({}, x.options()));
  const double elements = double(x.size(1) * x.size(2));
  return 0.5 * (torch::sigmoid(g1) * x.pow(2).sum({1, 2}) +
                elements * (torch::softplus(g1) - torch::sigmoid(g1)));
}

// -log N(x; z_0 / alpha_0, std^2) summed per cloud: x - z_0 / alpha_0 = -(sigma_0 / alpha_0) eps0
// exactly, and (sigma_0 / alpha_0)^2 = exp(-gamma_0), so no difference of nearly equal values.
torch::Tensor reconstruction_term(GammaScheduleImpl& gamma, const torch::Tensor& eps0) {
  const auto g0 = gamma.forward(torch::zeros({}, eps0.options()));
  const double elements = double(eps0.size(1) * eps0.size(2));
  const double inv_var = 1.0 / (kReconstructionStd * kReconstructionStd);
  return 0.5 * inv_var * torch::exp(-g0) * eps0.pow(2).sum({1, 2}) +
         elements * reconstruction_constant();
}

// Turns requires_grad off on every parameter of a module for its lifetime (restoring the flags
// after), so that an ELBO differentiated in theta builds no graph edges into the weights.
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& module) {
    for (auto& p : module.parameters(true))
      if (p.requires_grad()) {
        p.requires_grad_(false);
        frozen_.push_back(p);
      }
  }
  ~FrozenParameters() {
    for (auto& p : frozen_) p.requires_grad_(true);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<torch::Tensor> frozen_;
};

}  // namespace

GammaScheduleImpl::GammaScheduleImpl(double gamma0, double gamma1) {
  if (!std::isfinite(gamma0) || !std::isfinite(gamma1) || !(gamma0 > gamma1))
    throw InvalidArgument("VDM schedule: gamma0 = " + std::to_string(gamma0) +
                          " must be finite and larger than gamma1 = " + std::to_string(gamma1) +
                          " (gamma is the log-SNR, decreasing in time)");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  // Shape [1] rather than scalars: model files store scalars as [1] (model_file.h), so the
  // shapes in a file then equal the module's and every loader can compare them directly.
  b = register_parameter("b", torch::full({1}, gamma0, f32));
  w = register_parameter("w", torch::full({1}, gamma1 - gamma0, f32));
}

torch::Tensor GammaScheduleImpl::forward(const torch::Tensor& t) {
  return (b - w.abs() * t).reshape(t.sizes());
}

torch::Tensor GammaScheduleImpl::rate() {
  return w.abs().reshape({});
}

VdmImpl::VdmImpl(std::shared_ptr<nets::PointNetwork> net, double gamma0, double gamma1)
    : net_(std::move(net)) {
  if (!net_) throw InvalidArgument("VDM: no score network");
  register_module("net", net_);
  gamma_ = register_module("gamma", GammaSchedule(gamma0, gamma1));
}

torch::Tensor VdmImpl::predict_noise(const torch::Tensor& z, const torch::Tensor& t,
                                     const torch::Tensor& theta) {
  return net_->forward(z, gamma_->forward(t), theta.to(torch::kFloat32));
}

VdmTerms VdmImpl::terms(const torch::Tensor& x, const torch::Tensor& theta, const torch::Tensor& t,
                        const torch::Tensor& eps, const torch::Tensor& eps0) {
  require_cloud(x, "x");
  if (eps.sizes() != x.sizes() || eps0.sizes() != x.sizes() || t.dim() != 1 ||
      t.size(0) != x.size(0) || theta.dim() != 2 || theta.size(0) != x.size(0)) {
    std::ostringstream s;
    s << "VDM terms: shapes x " << x.sizes() << ", theta " << theta.sizes() << ", t " << t.sizes()
      << ", eps " << eps.sizes() << ", eps0 " << eps0.sizes()
      << " do not fit (x, eps, eps0 [B, N, F], theta [B, P], t [B])";
    throw InvalidArgument(s.str());
  }
  const auto g_t = gamma_->forward(t);
  const auto z = per_cloud(alpha_of(g_t)) * x + per_cloud(sigma_of(g_t)) * eps;
  const auto eps_hat = net_->forward(z, g_t, theta.to(torch::kFloat32));
  VdmTerms out;
  out.diffusion = 0.5 * gamma_->rate() * (eps - eps_hat).pow(2).sum({1, 2});
  out.latent = latent_term(*gamma_, x);
  out.reconstruction = reconstruction_term(*gamma_, eps0);
  return out;
}

torch::Tensor antithetic_times(std::int64_t batch, double u) {
  if (batch <= 0) throw InvalidArgument("antithetic_times: batch must be positive");
  if (!(u >= 0.0 && u < 1.0))
    throw InvalidArgument("antithetic_times: u = " + std::to_string(u) + " is not in [0, 1)");
  std::vector<float> t(static_cast<std::size_t>(batch));
  for (std::int64_t i = 0; i < batch; ++i) {
    const float v = float(std::fmod(u + double(i) / double(batch), 1.0));
    t[std::size_t(i)] = v < 1.0f ? v : std::nextafter(1.0f, 0.0f);  // float rounding up to 1
  }
  return torch::tensor(t, torch::TensorOptions().dtype(torch::kFloat32));
}

torch::Tensor normal_tensor(Rng& rng, at::IntArrayRef sizes) {
  auto out = torch::empty(sizes, torch::TensorOptions().dtype(torch::kFloat32));
  float* p = out.data_ptr<float>();
  const std::int64_t n = out.numel();
  for (std::int64_t i = 0; i < n; ++i) p[i] = float(rng.normal());
  return out;
}

ElboNoise ElboNoise::draw(int steps, int draws, std::int64_t n, std::int64_t f,
                          std::uint64_t seed) {
  if (steps <= 0 || draws <= 0 || n <= 0 || f <= 0)
    throw InvalidArgument("ELBO noise: steps (" + std::to_string(steps) + "), draws (" +
                          std::to_string(draws) + "), points (" + std::to_string(n) +
                          ") and features (" + std::to_string(f) + ") must be positive");
  ElboNoise noise;
  noise.eps = torch::empty({draws, steps, n, f}, torch::TensorOptions().dtype(torch::kFloat32));
  noise.eps0 = torch::empty({draws, n, f}, torch::TensorOptions().dtype(torch::kFloat32));
  // One stream per draw: asking for more draws keeps the first ones unchanged.
  for (int k = 0; k < draws; ++k) {
    Rng rng(seed, std::uint64_t(k));
    noise.eps[k].copy_(normal_tensor(rng, {steps, n, f}));
    noise.eps0[k].copy_(normal_tensor(rng, {n, f}));
  }
  return noise;
}

torch::Tensor elbo(VdmImpl& vdm, const torch::Tensor& x, const torch::Tensor& theta,
                   const ElboNoise& noise, std::int64_t chunk, const JobContext& job) {
  if (x.dim() != 2 || theta.dim() != 2 || theta.size(0) == 0 || noise.eps.dim() != 4 ||
      noise.eps.size(2) != x.size(0) || noise.eps.size(3) != x.size(1) || noise.eps0.dim() != 3 ||
      noise.eps0.size(0) != noise.eps.size(0) || noise.eps0.size(1) != x.size(0) ||
      noise.eps0.size(2) != x.size(1)) {
    std::ostringstream s;
    s << "ELBO: shapes x " << x.sizes() << ", theta " << theta.sizes() << ", eps "
      << noise.eps.sizes() << ", eps0 " << noise.eps0.sizes()
      << " do not fit (x [N, F], theta [G, P], eps [K, S, N, F], eps0 [K, N, F])";
    throw InvalidArgument(s.str());
  }
  if (chunk < 0) throw InvalidArgument("ELBO: chunk must be >= 0");
  const bool differentiate = theta.requires_grad() && torch::GradMode::is_enabled();
  std::optional<torch::NoGradGuard> no_grad;
  if (!differentiate) no_grad.emplace();
  std::optional<FrozenParameters> frozen;
  if (differentiate) frozen.emplace(vdm);

  const auto device = x.device();
  const std::int64_t n = x.size(0), f = x.size(1);
  const std::int64_t points = theta.size(0), draws = noise.eps.size(0), steps = noise.eps.size(1);
  const std::int64_t total = points * draws * steps;
  if (chunk == 0 || chunk > total) chunk = total;

  const auto xf = x.to(torch::kFloat32);
  const auto thetaf = theta.to(device, torch::kFloat32);
  const auto eps = noise.eps.to(device).reshape({draws * steps, n, f});
  auto& gamma = *vdm.gamma();
  const auto gammas = gamma.forward(torch::arange(steps, xf.options()) / double(steps));  // [S]
  const auto alphas = alpha_of(gammas), sigmas = sigma_of(gammas);
  const auto rate = gamma.rate();
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);

  // Sum over steps of the diffusion term for every (theta, draw): [G * K] float64.
  auto diffusion = torch::zeros({points * draws}, xf.options().dtype(torch::kFloat64));
  const std::int64_t chunks = (total + chunk - 1) / chunk;
  for (std::int64_t c = 0; c < chunks; ++c) {
    job.check_cancelled();
    const auto combo = torch::arange(c * chunk, std::min(total, (c + 1) * chunk), i64);
    const auto step = combo.remainder(steps);
    const auto cloud_draw = combo.div(steps, "floor");  // g * K + k
    const auto e = eps.index_select(0, combo.remainder(draws * steps));
    const auto z = per_cloud(alphas.index_select(0, step)) * xf.unsqueeze(0) +
                   per_cloud(sigmas.index_select(0, step)) * e;
    const auto eps_hat = vdm.network().forward(
        z, gammas.index_select(0, step), thetaf.index_select(0, cloud_draw.div(draws, "floor")));
    const auto d = 0.5 * rate * (e - eps_hat).pow(2).sum({1, 2});
    diffusion = diffusion.index_add(0, cloud_draw, d.to(torch::kFloat64));
    job.report(c + 1, chunks, "ELBO");
  }

  const auto latent = latent_term(gamma, xf.unsqueeze(0)).to(torch::kFloat64);               // [1]
  const auto recon = reconstruction_term(gamma, noise.eps0.to(device)).to(torch::kFloat64);  // [K]
  return -(diffusion.reshape({points, draws}) / double(steps) + latent + recon.unsqueeze(0));
}

torch::Tensor sample(VdmImpl& vdm, const torch::Tensor& theta, std::int64_t n,
                     const PointSamplerSettings& settings, const PointStepCallback& on_step,
                     const JobContext& job) {
  const int steps = settings.steps;
  if (theta.dim() != 2 || theta.size(0) == 0)
    throw InvalidArgument("VDM sample: theta must be [B, P] with B > 0");
  if (n <= 0) throw InvalidArgument("VDM sample: the number of points must be positive");
  if (steps <= 0) throw InvalidArgument("VDM sample: steps must be positive");
  for (auto i : settings.trace)
    if (i < 0 || i >= n)
      throw InvalidArgument("VDM sample: traced particle " + std::to_string(i) +
                            " is outside [0, " + std::to_string(n) + ")");
  torch::NoGradGuard no_grad;
  const auto device = theta.device();
  const std::int64_t batch = theta.size(0);
  const std::int64_t f = vdm.network().config().n_features;
  const auto thetaf = theta.to(torch::kFloat32);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto traced =
      torch::tensor(settings.trace, torch::TensorOptions().dtype(torch::kInt64)).to(device);
  auto& gamma = *vdm.gamma();
  const auto rate = gamma.rate();

  Rng rng(settings.seed);
  auto z = normal_tensor(rng, {batch, n, f}).to(device);
  // eps_hat of every cloud, a few clouds per network call with a cancellation check between
  // calls: one step of many 1000-halo clouds takes seconds on a CPU, and Ctrl-C or a cluster's
  // SIGTERM must stop the command within about one (issue 18). Clouds are independent in the
  // network, so the chunking changes nothing but float rounding.
  constexpr std::int64_t kCloudsPerCall = 4;
  auto predict = [&](const torch::Tensor& zt, const torch::Tensor& g) {
    if (batch <= kCloudsPerCall) return vdm.network().forward(zt, g.expand({batch}), thetaf);
    std::vector<torch::Tensor> parts;
    for (std::int64_t first = 0; first < batch; first += kCloudsPerCall) {
      job.check_cancelled();
      const std::int64_t last = std::min(batch, first + kCloudsPerCall);
      parts.push_back(vdm.network().forward(zt.slice(0, first, last), g.expand({last - first}),
                                            thetaf.slice(0, first, last)));
    }
    return torch::cat(parts, 0);
  };
  // The probability-flow velocity dz/dt = -0.5 |gamma'| sigma^2 (z - eps_hat / sigma), written
  // without dividing by sigma (sigma_0 ~ 1e-3).
  auto velocity = [&](const torch::Tensor& zt, const torch::Tensor& g) {
    const auto sigma = sigma_of(g);
    const auto eps_hat = predict(zt, g);
    return -0.5 * rate * (sigma.pow(2) * zt - sigma * eps_hat);
  };

  for (int j = 0; j < steps; ++j) {
    job.check_cancelled();
    const auto t = torch::full({}, 1.0 - double(j) / steps, f32);
    const auto s = torch::full({}, 1.0 - double(j + 1) / steps, f32);
    const auto g_t = gamma.forward(t), g_s = gamma.forward(s);
    if (settings.kind == PointSampler::Ancestral) {
      const auto c = -torch::expm1(g_t - g_s);
      const auto eps_hat = predict(z, g_t);
      // sqrt(alpha_s^2 / alpha_t^2) and sqrt(sigma_s^2 c) through log_sigmoid: alpha_t^2 ~ 3e-4
      // at t = 1 and sigma_s^2 ~ 1e-6 at s = 0.
      const auto ratio = torch::exp(0.5 * (torch::log_sigmoid(g_s) - torch::log_sigmoid(g_t)));
      const auto noise_scale = sigma_of(g_s) * torch::sqrt(c);
      z = ratio * (z - sigma_of(g_t) * c * eps_hat) +
          noise_scale * normal_tensor(rng, {batch, n, f}).to(device);
    } else {
      const double h = 1.0 / steps;
      const auto d1 = velocity(z, g_t);
      const auto predicted = z - h * d1;
      const auto d2 = velocity(predicted, g_s);
      z = z - 0.5 * h * (d1 + d2);
    }
    if (on_step) on_step(j + 1, steps, z.index_select(1, traced) / alpha_of(g_s));
    job.report(j + 1, steps,
               "sampling step " + std::to_string(j + 1) + "/" + std::to_string(steps));
  }
  return z / alpha_of(gamma.forward(torch::zeros({}, f32)));
}

}  // namespace ds::pointcloud
