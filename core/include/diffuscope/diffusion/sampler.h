// Reverse-diffusion samplers for 2D fields (torch-free). The samplers are free functions that see
// the network only as a NoisePredictor callable, draw every random number from seeded ds::Rng
// streams (one per batch row, so a row's result does not depend on the batch it was drawn in),
// report each step through a callback and stop between steps when the job is cancelled.
//
// Shapes: a batch is `rows` fields of C channels and N x N pixels, flattened in C order
// [rows, C, N, N]. Time is the code step t in [0, T) of schedule.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/schedule.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"

namespace ds {

// eps_hat for rows [first_row, first_row + rows) of the batch, all at code step t: x_t is
// [rows, C, N, N] float32 in model space; eps (resized by the caller) receives [rows, C, N, N].
using NoisePredictor = std::function<void(const std::vector<float>& x_t, std::int64_t t,
                                          std::size_t first_row, std::vector<float>& eps)>;

struct DiffusionSamplerSettings {
  DiffusionSamplerKind kind = DiffusionSamplerKind::Ddim;
  // DDIM and ODE: number of noise levels visited, evenly spaced from T - 1 down to 0 (both
  // included); ancestral sampling always takes all T steps and ignores this.
  int steps = 50;
  double eta = 0.0;            // DDIM: 0 deterministic, 1 the ancestral posterior variance
  std::size_t max_batch = 32;  // rows per network call (a chunk); results do not depend on it
  // > 0: clamp the predicted x0 to [-clip_x0, clip_x0] at every step and re-derive eps_hat from
  // it (ancestral and DDIM; DDPM codes' "clip_denoised"). 1 is the range of a min-max transform;
  // it keeps an immature model's few-step samples finite. 0 (default): off, the paper's sampler.
  double clip_x0 = 0.0;
};

// What the per-step callback sees: the chunk's state after a step and the x_0 the network
// predicted at it (for animating the denoising). The vectors live only during the call.
struct DenoisingSnapshot {
  int step = 0;        // 1 .. total
  int total = 0;       // steps of this sampler (T, or the DDIM/ODE steps)
  std::int64_t t = 0;  // code step the network saw at this step
  std::size_t first_row = 0, rows = 0;
  int channels = 1, n = 0;
  const std::vector<double>* x = nullptr;   // [rows, C, N, N], the new state
  const std::vector<double>* x0 = nullptr;  // [rows, C, N, N], predicted clean field
};
using DenoisingCallback = std::function<void(const DenoisingSnapshot&)>;

// The code steps a DDIM/ODE sampler visits, descending: round(i (T - 1) / (steps - 1)) for
// i = steps - 1 .. 0 (just T - 1 when steps = 1). Throws InvalidArgument unless 1 <= steps <= T.
std::vector<int> sampler_timesteps(int T, int steps);

// Draws `rows` fields in model space, [rows, C, N, N]. Row r takes all its noise (initial state,
// then per step in order) from Rng(seed, streams[r]); streams.size() must equal rows.
//   ancestral: x_{t} = 1/sqrt(alpha_t) (x - beta_t / sqrt(1 - alphabar_t) eps_hat)
//              + sqrt(beta_tilde_t) z, for t = T-1 .. 0, no noise at t = 0 (the mean);
//   ddim:      x' = sqrt(alphabar') x0_hat + sqrt(1 - alphabar' - sigma^2) eps_hat + sigma z,
//              sigma = eta sqrt((1 - alphabar') / (1 - alphabar) (1 - alphabar / alphabar'));
//   ode:       Heun's method for the probability-flow ODE dy/dsigma = eps_hat in the coordinates
//              y = x / sqrt(alphabar), sigma = sqrt(1 / alphabar - 1), over the DDIM noise levels
//              and an Euler step to sigma = 0 at the end (Karras et al. 2022, Algorithm 1).
// Throws Cancelled between steps when the job is cancelled.
std::vector<double> sample_diffusion(const NoiseSchedule& schedule, const NoisePredictor& predict,
                                     const DiffusionSamplerSettings& settings, std::size_t rows,
                                     int channels, int n, std::uint64_t seed,
                                     const std::vector<std::uint64_t>& streams,
                                     const DenoisingCallback& on_step = {},
                                     const JobContext& job = {});

// Fields from a model for a list of parameter vectors.
struct FieldSampleRequest {
  std::vector<double> thetas{0.3, 0.8};  // [M, P] raw (Omega_m, sigma_8, ...)
  int per_theta = 1;                     // fields per parameter vector
  int n = 64;                            // pixels per side
  std::uint64_t seed = 0;
  // Fixed-seed mode (1P-style comparisons): field i of every parameter vector uses the same
  // initial and per-step noise (stream i), so differences come from theta alone. Otherwise row
  // m * per_theta + i uses stream m * per_theta + i.
  bool fixed_seed = false;
  // Offset of every stream above: a request with first_stream = s and per_theta = 1 draws exactly
  // row s of the same request with first_stream = 0 and per_theta > s (one member of an ensemble
  // on its own, e.g. progressively, with the result `diffuscope-cli sample --n` gives).
  std::uint64_t first_stream = 0;
  bool physical = true;  // apply the model's inverse transform to the result
  DiffusionSamplerSettings sampler;
};

// [M * per_theta, C, N, N] float32, row m * per_theta + i. Throws InvalidArgument for a size the
// network cannot take, a parameter count that does not match the model, or per_theta < 1.
std::vector<float> sample_fields(const DiffusionModel2d& model, const FieldSampleRequest& request,
                                 const DenoisingCallback& on_step = {}, const JobContext& job = {});

// The network of `net` as a NoisePredictor for a batch whose row r has normalised parameters
// theta01[r * P .. r * P + P) and side n. Runs under inference mode (no autograd).
NoisePredictor make_noise_predictor(const ScoreNet2d& net, std::vector<float> theta01, int n);

}  // namespace ds
