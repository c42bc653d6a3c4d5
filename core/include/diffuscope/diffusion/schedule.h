// Discrete DDPM noise schedules and every quantity derived from them, precomputed in double.
//
// Index convention (shared/reference/diffusion-hmc.md, "Likelihood"): the code index t in
// [0, T) is the step that produces x_{t+1} in the maths, so beta[0] = beta_1 turns the data x_0
// into x_1 and alphabar[t] = prod_{s <= t} (1 - beta[s]) is the signal fraction of the sample a
// network sees at step t:  x(t) = sqrt(alphabar[t]) x_0 + sqrt(1 - alphabar[t]) eps.
// "alphabar_prev[t]" is alphabar[t - 1] with alphabar_prev[0] = 1 (the clean data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/registries.h"

namespace ds {

class Rng;

// How derived quantities are computed from the betas.
//   Double: exact double arithmetic (Diffuscope's default).
//   Float32Torch: the float32 operation sequence of Diffusion-HMC's PyTorch `Diffusion` class
//     (alphas = 1 - betas in float32, cumprod accumulated in double and rounded to float32, every
//     further quantity in float32), stored as doubles. Models trained by that code saw these
//     values: at t = 0, 1 - alphabar is 1.00017e-4 instead of beta_0 = 1e-4, which moves the
//     first VLB terms by ~2e-4 relative (dhmc_tiny); this mode reproduces the authors' terms to
//     ~1e-6 (tests/core/diffusion/test_vlb_golden.cpp).
enum class ScheduleArithmetic { Double, Float32Torch };

struct NoiseSchedule {
  std::string name;  // registry name ("custom-linear", ...) or "checkpoint"
  ScheduleArithmetic arithmetic = ScheduleArithmetic::Double;

  // All [T], indexed by the code step t.
  std::vector<double> betas;
  std::vector<double> alphas;                   // 1 - beta
  std::vector<double> alphabar;                 // prod_{s<=t} alpha_s
  std::vector<double> alphabar_prev;            // alphabar[t-1], 1 at t = 0
  std::vector<double> sqrt_alphabar;            // signal scale of x(t)
  std::vector<double> sqrt_one_minus_alphabar;  // noise scale of x(t)
  std::vector<double> sqrt_recip_alphabar;      // 1 / sqrt(alphabar): x0 from x(t) and eps
  std::vector<double> sqrt_recipm1_alphabar;    // sqrt(1 / alphabar - 1)
  std::vector<double> sqrt_recip_alphas;        // 1 / sqrt(alpha)
  // q(x(t-1) | x(t), x_0) = N(c1 x_0 + c2 x(t), beta_tilde): the forward posterior, with
  // beta_tilde = beta (1 - alphabar_prev) / (1 - alphabar), c1 = beta sqrt(alphabar_prev) /
  // (1 - alphabar), c2 = sqrt(alpha) (1 - alphabar_prev) / (1 - alphabar). beta_tilde[0] = 0.
  std::vector<double> posterior_variance;
  std::vector<double> posterior_log_variance_clipped;  // log beta_tilde, [0] replaced by [1]
  std::vector<double> posterior_mean_coef1;
  std::vector<double> posterior_mean_coef2;

  int steps() const { return static_cast<int>(betas.size()); }

  // From explicit betas (e.g. ScoreNet2d::info().betas). Throws InvalidArgument naming the first
  // beta outside (0, 1) or a non-finite one, or an empty list.
  static NoiseSchedule from_betas(std::vector<double> betas,
                                  ScheduleArithmetic arithmetic = ScheduleArithmetic::Double,
                                  std::string name = "checkpoint");

  // Draws x(t) = sqrt(alphabar[t]) x0 + sqrt(1 - alphabar[t]) eps for one field, eps ~ N(0, 1)
  // from rng. x0 is any flattened sample (model space). Throws InvalidArgument for t outside
  // [0, T).
  std::vector<double> forward_sample(const std::vector<double>& x0, int t, Rng& rng) const;
};

// The betas of a named schedule, length steps (the custom linear schedule needs 1000):
//   custom-linear: Diffusion-HMC's: u = linspace(1e-4, 1e-2, T); beta = u for t < T/2 and
//                  u * linspace(1, 3, T/2) after (beta_0 = 1e-4, beta_999 = 0.03);
//   linear:        Ho et al. 2020: linspace(1e-4, 0.02, T);
//   cosine:        Nichol & Dhariwal 2021: alphabar(t) = cos^2((t/T + s)/(1 + s) pi/2), s = 0.008,
//                  beta_t = 1 - alphabar(t+1)/alphabar(t) clipped at 0.999.
std::vector<double> schedule_betas(ScheduleKind kind, int steps = 1000);
NoiseSchedule make_schedule(ScheduleKind kind, int steps = 1000,
                            ScheduleArithmetic arithmetic = ScheduleArithmetic::Double);

// A checkpoint's schedule name ("custom_linear_beta_schedule", "linear_beta_schedule",
// "cosine_beta_schedule", or one of our registry names) as a ScheduleKind; throws
// InvalidArgument naming the unknown schedule.
ScheduleKind schedule_kind_from_checkpoint_name(const std::string& name);

}  // namespace ds
