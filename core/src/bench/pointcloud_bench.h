// The `pointcloud` bench suite (registered in bench/suites.cpp; private to core).
#pragma once

#include "diffuscope/bench/bench.h"

namespace ds {

// Reference: the periodic kNN graph (k = 20) of 1000 uniform points in a (1 Gpc/h)^3 box; then the
// same for N = 2000, 4000, 8000 with the fitted exponent a of time ~ N^a (~1: N log N), one
// 1000-halo cloud drawn with 100 probability-flow ODE steps (absolute target < 5 s on 2 cores)
// and the ELBO of a 5000-halo cloud at S = 50, K = 8 (published: ~0.8 s on a GPU). The model is
// inputs.model when it is a point-cloud model, else the shipped halos1000.h5 wherever the program
// runs (runtime.h, find_shipped_model); without either the suite throws FileError naming the
// places searched. The ELBO is timed for the
// largest S x K that fits a time box and scaled to S = 50, K = 8 (the cost is linear in S K).
BenchSuiteResult run_pointcloud_bench(const JobContext& job, const BenchInputs& inputs);

}  // namespace ds
