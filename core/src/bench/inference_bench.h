// The `inference` bench suite (registered in bench/suites.cpp; private to core).
#pragma once

#include <string>
#include <vector>

#include "diffuscope/bench/bench.h"

namespace ds {

// On the exact GRF posterior of one 64^2 mock (1000 Mpc/h, truth (0.3, 0.8); the 25 Mpc/h
// posterior is a box-clipped ridge, see tests/core/infer/test_nuts.cpp), in one run:
// (a) the published HMC configuration (step 5e-4, 5 leapfrog steps, inverse mass diag(1, 5),
//     start (0.3, 0.8), 4 chains x 300 draws, 100 burn-in) — the reference;
// (b) NUTS with adaptation (4 chains, 200 warm-up + 300 kept draws).
// Each measurement is wall seconds per effective sample (the smaller bulk ESS of Omega_m and
// sigma_8), so the ratio of (b) is the inverse of its ESS-per-second gain; target <= 0.1 (the
// issue's (b)/(a) >= 10 in ESS per second).
// With inputs.model, the model-based part follows (run_model_inference_bench); without, a note
// says it was skipped.
BenchSuiteResult run_inference_bench(const JobContext& job, const BenchInputs& inputs);

// The model-based part, on the truncated VLB (T_MAX = inputs.t_max, 20) of inputs.model for one
// field (the given one, else one sampled from the model at (0.3, 0.8) with DDIM-25 and a fixed
// seed):
//  - VLB value + gradient per second at one point, one network call per timestep (unbatched, the
//    reference of this group) and all timesteps in one call (batched);
//  - (a) the published HMC (step 5e-4, L = 5, inverse mass diag(1, 5), start (0.3, 0.8), fresh
//    noise, K = 1) and (b) NUTS with adaptation on common noise (K = 1, the same cost per
//    evaluation), 4 chains each: seconds per effective sample (bulk ESS of Omega_m and sigma_8),
//    (b)'s ratio against (a) with target 0.1 (ESS/s gain >= 10). Chain lengths: the published
//    300 iterations (100 burn-in) when 5 leapfrog steps x 300 fit in sampler_seconds at the
//    cost of a 4-point gradient evaluation (4 x the batched one-point time), else fewer (at
//    least 30, a third burn-in);
//    NUTS gets the same number of iterations, half of them warm-up. Each run is also stopped by
//    wall time (run_with_budget in the .cpp: after sampler_seconds once 10 draws per chain are
//    kept, after 2 x sampler_seconds in any case), since NUTS's cost per iteration is not known
//    in advance. The notes state the lengths and any early stop.
//  - a grid_size^2 likelihood grid (centre (0.3, 0.8) +- 0.06, common noise, K = 1, one row per
//    call): wall seconds, absolute target < 60 s for 50 x 50 with the default model on 2 cores.
//    When the estimate from the measured forward cost exceeds 2 x sampler_seconds, a smaller
//    grid is timed and scaled by the number of points (said in the note).
// Worst-case wall time about 6 x sampler_seconds plus the set-up (loading, the field, the VLB
// timings): about 5 minutes with the defaults. On 2 CPU cores the default model (zeldovich64,
// 64^2) costs ~1 s per grid point and ~10 s per 4-chain gradient evaluation, so the defaults
// give short chains there; a GPU or a larger budget gives meaningful ESS figures.
// Appends the measurements (their references set within the part) and notes to `result`.
void run_model_inference_bench(const BenchInputs& inputs, const JobContext& job,
                               BenchSuiteResult& result);

}  // namespace ds
