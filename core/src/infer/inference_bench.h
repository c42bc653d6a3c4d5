// The `inference` bench suite (registered in bench/suites.cpp; private to core).
#pragma once

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
BenchSuiteResult run_inference_bench(const JobContext& job);

}  // namespace ds
