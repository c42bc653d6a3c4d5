// The truncated variational lower bound of Diffusion-HMC: a likelihood for the parameters theta
// of one observed field x_0 (shared/reference/diffusion-hmc.md, "Likelihood"). Torch-free facade;
// the network runs in core/src/diffusion/vlb.cpp.
//
// Code-index convention: term t (0 <= t < T_MAX) uses x(t) = sqrt(alphabar_t) x_0 +
// sqrt(1 - alphabar_t) eps_t, which is x_{t+1} in the maths.
//   t = 0:  L_0 = sum_pixels (x_0 - mu_theta)^2 / (2 beta_0) + 0.5 log(2 pi beta_0), the Gaussian
//           NLL of x_0 under p_theta(x_0 | x_1) = N(mu_theta(x(0), 0), beta_0);
//   t >= 1: L_t = KL(q(x_t | x_{t+1}, x_0) || p_theta(x_t | x_{t+1})) summed over pixels; both
//           have variance beta_tilde_t, so L_t = sum_pixels (mu_q - mu_p)^2 / (2 beta_tilde_t),
//           with mu_q = c1 x_0 + c2 x(t) and mu_p = c1 x0_hat + c2 x(t), x0_hat =
//           (x(t) - sqrt(1 - alphabar_t) eps_hat) / sqrt(alphabar_t) (schedule.h for c1, c2);
//   optional L_T = KL(N(sqrt(alphabar_{T-1}) x_0, 1 - alphabar_{T-1}) || N(0, 1)) summed over
//           pixels, independent of theta, appended as a last column.
// log L(theta) = -sum of the terms. The T_MAX steps of a parameter point (times K noise draws,
// times the batch of points) go through the network as one batch, chunked to a memory budget,
// with the field broadcast over it. The gradient is with respect to the RAW parameters by
// autograd through the parameter input only (network weights frozen); the network sees
// (theta - lo) / width, so d/dtheta_raw carries the 1 / width factor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/random.h"
#include "diffuscope/registries.h"

namespace ds {

// Rows per network call of the automatic chunking on a CPU (bigger batches run slower there).
inline constexpr std::size_t kCpuChunkRows = 8;

struct VlbSettings {
  int t_max = 20;                   // terms t = 0 .. t_max - 1 (the paper: 20)
  bool include_prior_term = false;  // append L_T
  // fresh: every evaluation draws new noise for every point (independent across points), as
  //   published; common: `draws` fixed noise sets drawn once from the seed, shared by every
  //   parameter value, terms averaged over them: a smooth deterministic function of theta.
  VlbNoiseMode noise = VlbNoiseMode::Fresh;
  int draws = 1;  // K noise sets per evaluation, averaged (both modes)
  std::uint64_t seed = 0;
  std::size_t max_batch = 0;         // network rows per call; 0: automatic (memory budget;
                                     // at most kCpuChunkRows on a CPU)
  double memory_budget_mb = 1024.0;  // for the automatic chunk size (activations kept for autograd)
};

struct VlbEvaluation {
  std::size_t points = 0;              // B parameter vectors
  std::size_t terms_per_point = 0;     // t_max (+ 1 with L_T)
  std::size_t parameters = 0;          // P
  std::vector<double> terms;           // [B, terms_per_point], averaged over the K draws
  std::vector<double> log_likelihood;  // [B], -sum of the terms
  std::vector<double> gradient;        // [B, P], d log L / d theta_raw; empty unless requested
};

class TruncatedVlb {
 public:
  // x0: the observed field in MODEL space (after the model's transform), [C, N, N] flattened.
  // Throws InvalidArgument for a size the network cannot take, non-finite values, t_max outside
  // [1, T], draws < 1. Freezes the network's weights (requires_grad = false) and sets eval mode.
  TruncatedVlb(const DiffusionModel2d& model, std::vector<float> x0, int n, VlbSettings settings);
  ~TruncatedVlb();
  TruncatedVlb(TruncatedVlb&&) noexcept;
  TruncatedVlb& operator=(TruncatedVlb&&) noexcept;

  // Replaces the common noise with given draws, [K, t_max, C, N, N] (e.g. a reference noise
  // array); switches the mode to common with K = noise.size() / (t_max C N N).
  void set_common_noise(const std::vector<float>& noise);

  // Terms, log L and (when gradient) its gradient for B = theta_raw.size() / P parameter vectors
  // [B, P] (raw units: Omega_m, sigma_8). Parameters outside the normalisation box are allowed
  // (the network extrapolates); priors are the caller's business. Fresh mode advances the
  // internal Rng. Throws Cancelled between network chunks when the job is cancelled.
  VlbEvaluation evaluate(const std::vector<double>& theta_raw, bool gradient,
                         const JobContext& job = {});

  const VlbSettings& settings() const;
  int field_size() const;
  // Rows per network call this object uses (settings.max_batch or the memory-budget estimate).
  std::size_t chunk_rows(bool gradient) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ds
