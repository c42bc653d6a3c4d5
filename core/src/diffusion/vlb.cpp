// The truncated VLB on the network (one torch TU). Network in float32; everything after the
// network (posterior means, squared differences, sums) in float64, with the schedule quantities
// of the model's NoiseSchedule (Float32Torch arithmetic for Diffusion-HMC checkpoints).
#include "diffuscope/diffusion/vlb.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "diffuscope/error.h"
#include "nets/score_network.h"

namespace ds {

namespace {

torch::Device torch_device(Device device) {
  return device == Device::Cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

torch::Tensor table(const std::vector<double>& v, int count, torch::Device device) {
  return torch::from_blob(const_cast<double*>(v.data()), {count},
                          torch::TensorOptions().dtype(torch::kFloat64))
      .clone()
      .to(device);
}

// Floats of activation memory per pixel of the full-resolution field for one row, from the U-Net
// widths (dim x mult at 1/4^level of the pixels). The factors are rough counts of the tensors a
// level keeps: ~48 widths for autograd (ResNet blocks, attention, concatenated skips), ~6 at
// inference where intermediates are freed. TorchScript modules without metadata are assumed to
// be paper-sized (dim 64, mults 1, 2, 4, 8).
double floats_per_pixel(const ScoreNetInfo& info, bool gradient) {
  int dim = 64;
  std::vector<int> mults{1, 2, 4, 8};
  try {
    const auto j = nlohmann::json::parse(info.config_json.empty() ? "{}" : info.config_json);
    if (j.is_object() && j.contains("dim") && j["dim"].is_number_integer()) dim = j["dim"];
    if (j.is_object() && j.contains("dim_mults") && j["dim_mults"].is_array())
      mults = j["dim_mults"].get<std::vector<int>>();
  } catch (const std::exception&) {
  }
  double width = 0.0, area = 1.0;
  for (int m : mults) {
    width += dim * m * area;
    area /= 4.0;
  }
  return width * (gradient ? 48.0 : 6.0);
}

}  // namespace

struct TruncatedVlb::Impl {
  std::shared_ptr<nets::ScoreNetwork> network;
  torch::Device device{torch::kCPU};
  NoiseSchedule schedule;
  ParameterNormalisation parameters;
  VlbSettings settings;
  int n = 0, channels = 1;
  std::size_t p = 2;
  std::size_t field = 0;  // C N N
  std::vector<float> x0_values;
  torch::Tensor x0;      // [1, C, N, N] float64
  torch::Tensor common;  // [K, t_max, C, N, N] float32 (common mode)
  Rng rng{0, 1};
  double floats_grad = 0.0, floats_value = 0.0;
  // Per-step tables [t_max], float64: sqrt(alphabar), sqrt(1 - alphabar), 1/sqrt(alphabar),
  // sqrt(1/alphabar - 1), c1, c2, and the variance of the term (beta_0 at t = 0, beta_tilde_t).
  torch::Tensor sa, s1m, sra, srm1, c1, c2, variance;
  double prior_term = 0.0;  // L_T

  void draw_common(int draws) {
    Rng common_rng(settings.seed, 0x636f6d6d6f6e);  // "common": its own stream
    std::vector<float> noise(std::size_t(draws) * settings.t_max * field);
    for (auto& v : noise) v = static_cast<float>(common_rng.normal());
    common = torch::from_blob(noise.data(), {draws, settings.t_max, channels, n, n},
                              torch::TensorOptions().dtype(torch::kFloat32))
                 .clone()
                 .to(device);
  }
};

TruncatedVlb::TruncatedVlb(const DiffusionModel2d& model, std::vector<float> x0, int n,
                           VlbSettings settings)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  require_field_size(model, n);
  const int T = model.schedule.steps();
  if (settings.t_max < 1 || settings.t_max > T)
    throw InvalidArgument("VLB: T_MAX = " + std::to_string(settings.t_max) + " outside [1, " +
                          std::to_string(T) + "]");
  if (settings.draws < 1) throw InvalidArgument("VLB: the number of noise draws must be >= 1");
  if (!(settings.memory_budget_mb > 0.0))
    throw InvalidArgument("VLB: the memory budget must be positive");
  s.channels = model.channels();
  s.n = n;
  s.field = std::size_t(s.channels) * n * n;
  if (x0.size() != s.field)
    throw InvalidArgument("VLB: the field has " + std::to_string(x0.size()) + " values, expected " +
                          std::to_string(s.channels) + " x " + std::to_string(n) + " x " +
                          std::to_string(n));
  for (std::size_t i = 0; i < x0.size(); ++i)
    if (!std::isfinite(x0[i]))
      throw InvalidArgument("VLB: the field holds a non-finite value at index " +
                            std::to_string(i));
  s.network = model.net.network();
  s.device = torch_device(model.net.device());
  s.schedule = model.schedule;
  s.parameters = model.parameters;
  s.p = model.parameter_count();
  s.settings = settings;
  s.rng = Rng(settings.seed, 1);
  s.floats_grad = floats_per_pixel(model.net.info(), true);
  s.floats_value = floats_per_pixel(model.net.info(), false);

  // Only theta is differentiated: frozen weights keep autograd from building (and storing) the
  // weight gradients, which would cost as much again as the forward pass.
  s.network->set_training(false);
  for (auto& w : s.network->parameters()) w.requires_grad_(false);

  s.x0_values = std::move(x0);
  s.x0 = torch::from_blob(s.x0_values.data(), {1, s.channels, n, n},
                          torch::TensorOptions().dtype(torch::kFloat32))
             .to(torch::kFloat64)
             .to(s.device);
  const int tm = settings.t_max;
  const NoiseSchedule& sch = s.schedule;
  std::vector<double> variance(sch.posterior_variance.begin(), sch.posterior_variance.begin() + tm);
  variance[0] = sch.betas[0];
  s.sa = table(sch.sqrt_alphabar, tm, s.device);
  s.s1m = table(sch.sqrt_one_minus_alphabar, tm, s.device);
  s.sra = table(sch.sqrt_recip_alphabar, tm, s.device);
  s.srm1 = table(sch.sqrt_recipm1_alphabar, tm, s.device);
  s.c1 = table(sch.posterior_mean_coef1, tm, s.device);
  s.c2 = table(sch.posterior_mean_coef2, tm, s.device);
  s.variance = table(variance, tm, s.device);
  // L_T = KL(N(sqrt(ab) x0, 1 - ab) || N(0, 1)) per pixel, at the last step.
  const double ab = sch.alphabar.back();
  for (float v : s.x0_values)
    s.prior_term += 0.5 * (-1.0 - std::log1p(-ab) + (1.0 - ab) + ab * double(v) * v);
  if (settings.noise == VlbNoiseMode::Common) s.draw_common(settings.draws);
}

TruncatedVlb::~TruncatedVlb() = default;
TruncatedVlb::TruncatedVlb(TruncatedVlb&&) noexcept = default;
TruncatedVlb& TruncatedVlb::operator=(TruncatedVlb&&) noexcept = default;

const VlbSettings& TruncatedVlb::settings() const {
  return impl_->settings;
}
int TruncatedVlb::field_size() const {
  return impl_->n;
}

std::size_t TruncatedVlb::chunk_rows(bool gradient) const {
  const Impl& s = *impl_;
  if (s.settings.max_batch > 0) return s.settings.max_batch;
  const double bytes =
      4.0 * double(s.n) * s.n * s.channels * (gradient ? s.floats_grad : s.floats_value);
  const double rows = s.settings.memory_budget_mb * 1024.0 * 1024.0 / std::max(bytes, 1.0);
  // On a CPU, large batches only cost cache: a 5 x 5 grid of the default 64^2 model (500 rows)
  // took 15.3 s in memory-sized chunks, 9.4 s in chunks of 20 and 6.5 s in chunks of 8.
  const double cap = s.device.is_cpu() ? double(kCpuChunkRows) : rows;
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::min(rows, cap)));
}

void TruncatedVlb::set_common_noise(const std::vector<float>& noise) {
  Impl& s = *impl_;
  const std::size_t per_draw = std::size_t(s.settings.t_max) * s.field;
  if (noise.empty() || noise.size() % per_draw != 0)
    throw InvalidArgument("VLB noise: " + std::to_string(noise.size()) +
                          " values are not draws of [T_MAX = " + std::to_string(s.settings.t_max) +
                          ", " + std::to_string(s.channels) + ", " + std::to_string(s.n) + ", " +
                          std::to_string(s.n) + "]");
  for (std::size_t i = 0; i < noise.size(); ++i)
    if (!std::isfinite(noise[i]))
      throw InvalidArgument("VLB noise: non-finite value at index " + std::to_string(i));
  const auto draws = static_cast<std::int64_t>(noise.size() / per_draw);
  s.common = torch::from_blob(const_cast<float*>(noise.data()),
                              {draws, s.settings.t_max, s.channels, s.n, s.n},
                              torch::TensorOptions().dtype(torch::kFloat32))
                 .clone()
                 .to(s.device);
  s.settings.noise = VlbNoiseMode::Common;
  s.settings.draws = static_cast<int>(draws);
}

VlbEvaluation TruncatedVlb::evaluate(const std::vector<double>& theta_raw, bool gradient,
                                     const JobContext& job) {
  Impl& s = *impl_;
  const std::size_t p = s.p;
  if (theta_raw.empty() || theta_raw.size() % p != 0)
    throw InvalidArgument("VLB: " + std::to_string(theta_raw.size()) +
                          " parameter values are not rows of " + std::to_string(p));
  for (double v : theta_raw)
    if (!std::isfinite(v)) throw InvalidArgument("VLB: a parameter value is not finite");
  const auto B = static_cast<std::int64_t>(theta_raw.size() / p);
  const std::int64_t K = s.settings.draws, tm = s.settings.t_max;
  const std::int64_t rows = B * K * tm;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);

  // Fresh noise for every row, drawn up front so the sequence does not depend on the chunking.
  std::vector<float> fresh;
  if (s.settings.noise == VlbNoiseMode::Fresh) {
    fresh.resize(std::size_t(rows) * s.field);
    for (auto& v : fresh) v = static_cast<float>(s.rng.normal());
  }

  auto theta = torch::from_blob(const_cast<double*>(theta_raw.data()), {B, std::int64_t(p)}, f64)
                   .clone()
                   .to(s.device);
  if (gradient) theta.requires_grad_(true);
  const auto lo = torch::tensor(s.parameters.lo, f64).to(s.device);
  const auto width = torch::tensor(s.parameters.width, f64).to(s.device);
  auto sums = torch::zeros({B * tm}, f64);
  const double nll_constant = 0.5 * std::log(2.0 * M_PI * s.schedule.betas[0]) * double(s.field);

  const auto chunk = static_cast<std::int64_t>(chunk_rows(gradient));
  for (std::int64_t first = 0; first < rows; first += chunk) {
    job.check_cancelled();
    const std::int64_t count = std::min(chunk, rows - first);
    const auto r = torch::arange(first, first + count, i64);
    const auto b_idx = r.div(K * tm, "floor");
    const auto k_idx = r.div(tm, "floor").remainder(K);
    const auto t_idx = r.remainder(tm);
    const auto b_dev = b_idx.to(s.device), k_dev = k_idx.to(s.device), t_dev = t_idx.to(s.device);
    torch::Tensor eps;
    if (s.settings.noise == VlbNoiseMode::Common) {
      eps = s.common.index({k_dev, t_dev});
    } else {
      eps = torch::from_blob(fresh.data() + std::size_t(first) * s.field,
                             {count, s.channels, s.n, s.n},
                             torch::TensorOptions().dtype(torch::kFloat32))
                .to(s.device);
    }
    auto per_row = [&](const torch::Tensor& table) {
      return table.index_select(0, t_dev).view({-1, 1, 1, 1});
    };
    // x(t) in float32 as the network and the reference code see it; its float64 image is used in
    // the posterior means so that q and p share exactly the same x(t).
    const auto x_t =
        (per_row(s.sa) * s.x0 + per_row(s.s1m) * eps.to(torch::kFloat64)).to(torch::kFloat32);
    const auto x_td = x_t.to(torch::kFloat64);

    torch::AutoGradMode grad_mode(gradient);
    const auto theta01 = ((theta - lo) / width).to(torch::kFloat32).index_select(0, b_dev);
    torch::Tensor eps_hat;
    {
      nets::NetworkPrecisionScope precision(x_t.device());  // bf16 autocast when chosen
      eps_hat = s.network->forward(x_t, t_dev, theta01);
    }
    eps_hat = eps_hat.to(torch::kFloat64);
    const auto x0_hat = per_row(s.sra) * x_td - per_row(s.srm1) * eps_hat;
    const auto mean_p = per_row(s.c1) * x0_hat + per_row(s.c2) * x_td;
    const auto mean_q = per_row(s.c1) * s.x0 + per_row(s.c2) * x_td;
    const auto is_first = (t_dev == 0).view({-1, 1, 1, 1});
    const auto target = torch::where(is_first, s.x0.expand_as(mean_q), mean_q);
    auto term = (target - mean_p).pow(2).sum({1, 2, 3}) / (2.0 * s.variance.index_select(0, t_dev));
    term = term + (t_dev == 0).to(torch::kFloat64) * nll_constant;
    if (gradient) (-term.sum() / double(K)).backward();
    sums.index_add_(0, b_idx * tm + t_idx, term.detach().to(torch::kCPU) / double(K));
  }

  VlbEvaluation out;
  out.points = std::size_t(B);
  out.parameters = p;
  out.terms_per_point = std::size_t(tm) + (s.settings.include_prior_term ? 1 : 0);
  out.terms.assign(out.points * out.terms_per_point, 0.0);
  out.log_likelihood.assign(out.points, 0.0);
  const double* sum = sums.data_ptr<double>();
  for (std::int64_t b = 0; b < B; ++b) {
    double total = 0.0;
    for (std::int64_t t = 0; t < tm; ++t) {
      out.terms[b * out.terms_per_point + t] = sum[b * tm + t];
      total += sum[b * tm + t];
    }
    if (s.settings.include_prior_term) {
      out.terms[b * out.terms_per_point + tm] = s.prior_term;
      total += s.prior_term;
    }
    out.log_likelihood[b] = -total;
  }
  if (gradient) {
    const auto g = theta.grad().to(torch::kCPU).contiguous();
    out.gradient.assign(g.data_ptr<double>(), g.data_ptr<double>() + g.numel());
  }
  return out;
}

}  // namespace ds
