// What every Markov chain sampler (HMC, NUTS) shares: the run settings (chains, warm-up, draws,
// seed, start), the immutable record of one transition, the partial result streamed after each
// iteration of all chains (live trace plots), and the result.
//
// Chains advance in lockstep: iteration i of every chain is done before iteration i+1 starts,
// and with `lockstep` the leapfrog positions of all chains that are integrating at the same
// moment are evaluated by ONE LogDensity call (one network call per leapfrog step for all
// chains). Each chain draws from its own ds::Rng(seed, chain) and owns its adaptation, so the
// chains are identical with and without lockstep and for any thread count. LogDensity::evaluate
// is always called on the thread that called the sampler (a network's thread-local state, such
// as an autograd mode, applies), one call at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/infer/chains/chains.h"
#include "diffuscope/infer/mcmc/metric.h"
#include "diffuscope/jobs/job.h"

namespace ds {

// What a trajectory does at the walls of the support box (the finite ranges() of the density):
// Reject stops it and rejects the proposal (the published Diffusion-HMC behaviour); Reflect
// bounces it off the wall (Neal 2011, sec. 5.5.1; exact, no rejection); Automatic is Reflect
// for adapted samplers (HMC with adapt, NUTS) and Reject for fixed HMC, so the published
// configuration is reproduced while warm-up adaptation is not misled by boundary rejections.
enum class Boundary { Automatic, Reject, Reflect };
// "auto" / "reject" / "reflect"; parse_boundary throws InvalidArgument naming the text.
const char* boundary_name(Boundary b);
Boundary parse_boundary(const std::string& text);

struct McmcRun {
  std::size_t chains = 4;
  std::size_t warmup = 100;  // draws per chain discarded as burn-in (adaptation happens here)
  std::size_t draws = 200;   // kept draws per chain
  std::uint64_t seed = 0;
  // Start points: one shared by all chains ({{0.3, 0.8}}, the published start), one per chain,
  // or empty: each chain starts at a uniform point of the central half of the density's ranges()
  // (drawn from its own stream; InvalidArgument when a range is unbounded). Every start must
  // have a finite log density (InvalidArgument naming the start otherwise).
  std::vector<std::vector<double>> starts;
  bool lockstep = true;  // false: chains one after another, batches of one point
};

// One transition of one chain; ArviZ sample_stats names.
struct Transition {
  std::vector<double> position;  // theta after the transition, D entries
  double lp = 0.0;               // log density there
  double acceptance_rate = 0.0;  // HMC: min(1, exp(-dH)); NUTS: mean over the tree
  double step_size = 0.0;
  double energy = 0.0;        // Hamiltonian at the returned point (with its momentum)
  double energy_error = 0.0;  // H(proposal) - H(start)
  std::int32_t n_steps = 0;   // leapfrog steps taken
  std::int32_t tree_depth = 0;
  bool diverging = false;     // NaN / +inf density or gradient, or energy error above the limit
  bool left_support = false;  // the trajectory reached log p = -inf (rejected, not diverging)
};

// Streamed after every iteration (warm-up included): one transition per chain.
struct McmcIteration {
  std::size_t iteration = 0;  // 0-based, warm-up first
  std::size_t total = 0;      // warmup + draws
  bool warmup = false;
  std::vector<Transition> chains;
};
using McmcIterationCallback = PartialResultCallback<McmcIteration>;

struct McmcResult {
  Chains chains;  // kept draws only, [chain, draw, param], all sample stats filled
  // Per chain, after warm-up: the step size and metric used for the kept draws.
  std::vector<double> step_sizes;
  std::vector<Metric> metrics;
  std::uint64_t density_calls = 0;   // LogDensity::evaluate calls, warm-up included
  std::uint64_t density_points = 0;  // points evaluated in them
  std::size_t divergences = 0;       // among the kept draws
  std::size_t support_exits = 0;     // kept transitions that reached log p = -inf
  double seconds = 0.0;              // wall time
};

}  // namespace ds
