// The pieces HMC and NUTS share (private): one chain's state, the leapfrog step on it through a
// PointEvaluator, Stan's initial step-size heuristic, and the driver that runs warm-up with
// adaptation and the kept draws for all chains, batching their evaluations.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "diffuscope/infer/adaptation.h"
#include "diffuscope/infer/hmc.h"
#include "diffuscope/infer/mcmc.h"
#include "diffuscope/infer/metric.h"
#include "diffuscope/random.h"
#include "infer/chain_executor.h"

namespace ds::detail {

// Everything one chain owns; only that chain's task touches it.
struct ChainState {
  explicit ChainState(std::uint64_t seed, std::uint64_t chain, std::size_t dimension,
                      const AdaptationSettings& adaptation)
      : rng(seed, chain),
        step_adaptation(adaptation),
        covariance(dimension, adaptation.metric == MetricKind::Dense) {}
  Rng rng;
  Metric metric;
  double step_size = 0.0;
  PhasePoint z;  // current position with its log density and gradient (momentum: scratch)
  StepSizeAdaptation step_adaptation;
  CovarianceEstimator covariance;
};

enum class StepStatus { Ok, LeftSupport, Divergent };

// Classifies a freshly evaluated point: -inf is outside the support, NaN / +inf or a non-finite
// gradient is a divergence.
StepStatus classify(double log_density, const std::vector<double>& gradient);

// One leapfrog step of size eps (negative: backwards) on z, one evaluation. z is left as
// evaluated (momentum not completed) when the status is not Ok.
StepStatus leapfrog_step(PointEvaluator& evaluate, const Metric& metric, double eps, PhasePoint& z);

// Stan's heuristic: from the chain's current step size, double (or halve) it until the
// acceptance of one leapfrog step from the current point crosses 0.8. Returns the step size.
double find_reasonable_step_size(ChainState& chain, PointEvaluator& evaluate);

// A sampler's transition from chain.z with chain.step_size / chain.metric; updates chain.z.
using TransitionKernel = std::function<Transition(ChainState& chain, PointEvaluator& evaluate)>;

struct DriverSettings {
  McmcRun run;
  std::vector<double> inverse_mass;  // initial metric (Metric::from_inverse_mass)
  double step_size = 0.0;            // initial; 0: heuristic from 1
  bool adapt = false;
  bool find_initial_step = false;  // run the heuristic before warm-up
  AdaptationSettings adaptation;
  std::string sampler;        // "hmc" / "nuts"
  std::string settings_json;  // everything else of the configuration, a JSON object body
};

McmcResult run_hamiltonian_chains(const LogDensity& density, const DriverSettings& settings,
                                  const TransitionKernel& kernel, const JobContext& job,
                                  const McmcIterationCallback& on_iteration);

}  // namespace ds::detail
