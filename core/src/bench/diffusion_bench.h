// The `diffusion2d` bench suite (registered in bench/suites.cpp; private to core).
#pragma once

#include <functional>

#include "diffuscope/bench/bench.h"

namespace ds {

// Random-weight Diffusion-HMC U-Nets of three sizes: the dhmc_tiny configuration (dim 16, mults
// 1, 2, 4; the reference) at 32x32, the CPU default (dim 32, mults 1, 2, 4; ~2M parameters) and
// the paper's (dim 64, mults 1, 2, 4, 8; ~31M) at 64x64: forward (inference mode) and
// forward + backward (training: all weights). Then one 64x64 DDIM-25 field from the default
// network (absolute target < 0.5 s on 2 cores), and the truncated VLB with gradient at T_MAX = 20
// on a 64x64 field, one network call per timestep (unbatched, the reference of its ratio) and all
// 20 timesteps in one call (batched).
BenchSuiteResult run_diffusion_bench(const JobContext& job);

// The floating-point operations LibTorch runs in fn (called once, on this thread): every
// convolution (2 x output elements x input channels per group x kernel area; transposed ones
// from their input; backward twice the forward per gradient it computes) and every matrix
// product (mm, addmm, bmm, baddbmm: 2 M N K per product), counted from the shapes seen by a
// RecordFunction observer. Element-wise work (norms, activations, additions) is not counted.
double count_network_flops(const std::function<void()>& fn);

}  // namespace ds
