// The `mock` bench suite (registered in bench/suites.cpp; private to core).
#pragma once

#include "diffuscope/bench/bench.h"

namespace ds {

// Reference: one 64x64 GRF map from a prepared generator. Then a batch of 20 Zel'dovich 64x64
// maps (64^3 lattice) through generate_field_set on the configured threads, projected to 1000
// maps (target < 60 s on 2 cores), and one 5000-halo catalogue including its preparation
// (target < 1 s). The targets are absolute; their ratios to the reference are derived from them.
BenchSuiteResult run_mock_bench(const JobContext& job);

}  // namespace ds
