#include "diffuscope/diffusion/schedule.h"

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

namespace {

// linspace(a, b, n)[i] by torch.linspace's formula (a + i step for the first half, b - (n - 1 - i)
// step for the second, so both ends are exact), here in double.
double linspace_at(double a, double b, int n, int i) {
  if (n == 1) return a;
  const double step = (b - a) / (n - 1);
  return i < n / 2 ? a + step * i : b - step * (n - 1 - i);
}

void resize_all(NoiseSchedule& s, std::size_t n) {
  for (auto* v : {&s.alphas, &s.alphabar, &s.alphabar_prev, &s.sqrt_alphabar,
                  &s.sqrt_one_minus_alphabar, &s.sqrt_recip_alphabar, &s.sqrt_recipm1_alphabar,
                  &s.sqrt_recip_alphas, &s.posterior_variance, &s.posterior_log_variance_clipped,
                  &s.posterior_mean_coef1, &s.posterior_mean_coef2})
    v->assign(n, 0.0);
}

void derive_double(NoiseSchedule& s) {
  // alphabar through log1p / expm1: 1 - alphabar at t = 0 is beta_0 to the last bit, which the
  // L_0 term (variance beta_0) and the first posterior coefficients depend on.
  double log_alphabar = 0.0;
  for (std::size_t t = 0; t < s.betas.size(); ++t) {
    const double beta = s.betas[t];
    const double log_prev = log_alphabar;
    log_alphabar += std::log1p(-beta);
    const double one_minus = -std::expm1(log_alphabar);
    const double one_minus_prev = -std::expm1(log_prev);
    s.alphas[t] = 1.0 - beta;
    s.alphabar[t] = std::exp(log_alphabar);
    s.alphabar_prev[t] = std::exp(log_prev);
    s.sqrt_alphabar[t] = std::sqrt(s.alphabar[t]);
    s.sqrt_one_minus_alphabar[t] = std::sqrt(one_minus);
    s.sqrt_recip_alphabar[t] = std::exp(-0.5 * log_alphabar);
    s.sqrt_recipm1_alphabar[t] = std::sqrt(std::expm1(-log_alphabar));
    s.sqrt_recip_alphas[t] = 1.0 / std::sqrt(s.alphas[t]);
    s.posterior_variance[t] = beta * one_minus_prev / one_minus;
    s.posterior_mean_coef1[t] = beta * std::sqrt(s.alphabar_prev[t]) / one_minus;
    s.posterior_mean_coef2[t] = std::sqrt(s.alphas[t]) * one_minus_prev / one_minus;
  }
}

// The float32 operation sequence of the reference PyTorch code (see ScheduleArithmetic). Each
// line is one tensor operation there; C++ float arithmetic rounds the same way (IEEE single,
// correctly rounded +, -, *, /, sqrt).
void derive_float32_torch(NoiseSchedule& s) {
  double cumulative = 1.0;  // torch's CPU cumprod accumulates float32 in double
  float alphabar_prev = 1.0f;
  for (std::size_t t = 0; t < s.betas.size(); ++t) {
    const float beta = static_cast<float>(s.betas[t]);
    const float alpha = 1.0f - beta;
    cumulative *= alpha;
    const float alphabar = static_cast<float>(cumulative);
    const float one_minus = 1.0f - alphabar;
    const float one_minus_prev = 1.0f - alphabar_prev;
    s.betas[t] = beta;
    s.alphas[t] = alpha;
    s.alphabar[t] = alphabar;
    s.alphabar_prev[t] = alphabar_prev;
    s.sqrt_alphabar[t] = std::sqrt(alphabar);
    s.sqrt_one_minus_alphabar[t] = std::sqrt(one_minus);
    s.sqrt_recip_alphabar[t] = std::sqrt(1.0f / alphabar);
    s.sqrt_recipm1_alphabar[t] = std::sqrt(1.0f / alphabar - 1.0f);
    s.sqrt_recip_alphas[t] = std::sqrt(1.0f / alpha);
    s.posterior_variance[t] = beta * one_minus_prev / one_minus;
    s.posterior_mean_coef1[t] = beta * std::sqrt(alphabar_prev) / one_minus;
    s.posterior_mean_coef2[t] = std::sqrt(alpha) * one_minus_prev / one_minus;
    alphabar_prev = alphabar;
  }
}

}  // namespace

NoiseSchedule NoiseSchedule::from_betas(std::vector<double> betas, ScheduleArithmetic arithmetic,
                                        std::string name) {
  if (betas.empty()) throw InvalidArgument("noise schedule: no betas");
  for (std::size_t t = 0; t < betas.size(); ++t)
    if (!std::isfinite(betas[t]) || betas[t] <= 0.0 || betas[t] >= 1.0)
      throw InvalidArgument("noise schedule: beta[" + std::to_string(t) +
                            "] = " + std::to_string(betas[t]) + " is not in (0, 1)");
  NoiseSchedule s;
  s.name = std::move(name);
  s.arithmetic = arithmetic;
  s.betas = std::move(betas);
  resize_all(s, s.betas.size());
  if (arithmetic == ScheduleArithmetic::Float32Torch)
    derive_float32_torch(s);
  else
    derive_double(s);
  // beta_tilde[0] = 0: its log is clipped to the next step's, as in improved-diffusion; only
  // samplers that add noise at t = 0 would read it, and ours return the mean there.
  for (std::size_t t = 0; t < s.betas.size(); ++t) {
    const double v = s.posterior_variance[t == 0 && s.betas.size() > 1 ? 1 : t];
    s.posterior_log_variance_clipped[t] = v > 0.0 ? std::log(v) : -INFINITY;
  }
  return s;
}

std::vector<double> NoiseSchedule::forward_sample(const std::vector<double>& x0, int t,
                                                  Rng& rng) const {
  if (t < 0 || t >= steps())
    throw InvalidArgument("forward_sample: step " + std::to_string(t) + " outside [0, " +
                          std::to_string(steps()) + ")");
  std::vector<double> out(x0.size());
  const double a = sqrt_alphabar[t], b = sqrt_one_minus_alphabar[t];
  for (std::size_t i = 0; i < x0.size(); ++i) out[i] = a * x0[i] + b * rng.normal();
  return out;
}

std::vector<double> schedule_betas(ScheduleKind kind, int steps) {
  if (steps < 2) throw InvalidArgument("noise schedule: needs at least 2 steps");
  std::vector<double> betas(steps);
  switch (kind) {
    case ScheduleKind::CustomLinear: {
      if (steps % 2 != 0)
        throw InvalidArgument("custom-linear schedule: the number of steps (" +
                              std::to_string(steps) + ") must be even");
      const int half = steps / 2;
      for (int t = 0; t < steps; ++t) {
        const double u = linspace_at(1e-4, 1e-2, steps, t);
        betas[t] = t < half ? u : u * linspace_at(1.0, 3.0, half, t - half);
      }
      break;
    }
    case ScheduleKind::Linear:
      for (int t = 0; t < steps; ++t) betas[t] = linspace_at(1e-4, 0.02, steps, t);
      break;
    case ScheduleKind::Cosine: {
      const double s = 0.008;
      auto alphabar = [&](int t) {
        const double c = std::cos((double(t) / steps + s) / (1.0 + s) * M_PI / 2.0);
        return c * c;
      };
      for (int t = 0; t < steps; ++t)
        betas[t] = std::min(1.0 - alphabar(t + 1) / alphabar(t), 0.999);
      break;
    }
  }
  return betas;
}

NoiseSchedule make_schedule(ScheduleKind kind, int steps, ScheduleArithmetic arithmetic) {
  return NoiseSchedule::from_betas(schedule_betas(kind, steps), arithmetic, kSchedules.name(kind));
}

ScheduleKind schedule_kind_from_checkpoint_name(const std::string& name) {
  if (name == "custom_linear_beta_schedule") return ScheduleKind::CustomLinear;
  if (name == "linear_beta_schedule") return ScheduleKind::Linear;
  if (name == "cosine_beta_schedule") return ScheduleKind::Cosine;
  try {
    return kSchedules.from_string(name);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("unknown noise schedule '" + name +
                          "' (known: custom_linear_beta_schedule, linear_beta_schedule, "
                          "cosine_beta_schedule, " +
                          kSchedules.joined_names() + ")");
  }
}

}  // namespace ds
