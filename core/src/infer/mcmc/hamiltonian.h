// The pieces HMC and NUTS share (private): one chain's state, the leapfrog step on it through a
// PointEvaluator, Stan's initial step-size heuristic, and the driver that runs warm-up with
// adaptation and the kept draws for all chains, batching their evaluations.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "diffuscope/infer/mcmc/adaptation.h"
#include "diffuscope/infer/mcmc/hmc.h"
#include "diffuscope/infer/mcmc/mcmc.h"
#include "diffuscope/infer/mcmc/metric.h"
#include "diffuscope/random.h"
#include "infer/mcmc/chain_executor.h"

namespace ds::detail {

// Reflecting walls of the support box (Neal 2011, sec. 5.5.1): a position update that would
// cross a wall moves to it, reverses the momentum's component normal to it in the kinetic-energy
// metric (p -= 2 v_i / (M^-1)_ii e_i, so K is unchanged and v_i flips), and continues for the
// rest of the step. The drift stays reversible and volume-preserving, so HMC and NUTS keep the
// target invariant, and a target with a hard box boundary near its mass no longer turns
// trajectories into rejections (which drove one chain's adapted step size far below the others').
struct Walls {
  std::vector<double> lo, hi;  // per parameter; +-inf where unbounded
  bool empty() const { return lo.empty(); }
};
// The finite walls of density.ranges() (empty when none is finite).
Walls walls_of(const std::vector<std::pair<double, double>>& ranges);

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
  const Walls* walls = nullptr;  // reflecting walls of the run, or none (boundary = reject)
};

enum class StepStatus { Ok, LeftSupport, Divergent };

// Classifies a freshly evaluated point: -inf is outside the support, NaN / +inf or a non-finite
// gradient is a divergence.
StepStatus classify(double log_density, const std::vector<double>& gradient);

// One leapfrog step of size eps (negative: backwards) on z, one evaluation. z is left as
// evaluated (momentum not completed) when the status is not Ok.
// With walls (not null, not empty) the position update reflects at them (see Walls).
StepStatus leapfrog_step(PointEvaluator& evaluate, const Metric& metric, double eps, PhasePoint& z,
                         const Walls* walls = nullptr);

// Stan's heuristic: from the chain's current step size, double (or halve) it until the
// acceptance of one leapfrog step from the current point crosses 0.8. Returns the step size.
double find_reasonable_step_size(ChainState& chain, PointEvaluator& evaluate);

// The start of every chain: given, shared, or drawn in the central half of the support box
// (McmcRun::starts). InvalidArgument for a wrong count or dimension, or no box to draw in.
std::vector<std::vector<double>> chain_starts(const LogDensity& density, const McmcRun& run);
// Refuses, before any evaluation, a start outside the support's bounding box (naming it).
void check_starts_in_support(const LogDensity& density,
                             const std::vector<std::vector<double>>& starts);
// "(x, y)".
std::string point_text(const std::vector<double>& x);

// A result for run.chains x run.draws kept draws of density's parameters, every statistic zero.
McmcResult empty_result(const LogDensity& density, const McmcRun& run, const std::string& sampler);
// Copies the transitions of one iteration into kept draw `draw` of every chain, counting its
// divergences and support exits.
void record_kept(McmcResult& result, const McmcIteration& iteration, std::size_t draw);

// A sampler's transition from chain.z with chain.step_size / chain.metric; updates chain.z.
using TransitionKernel = std::function<Transition(ChainState& chain, PointEvaluator& evaluate)>;

struct DriverSettings {
  McmcRun run;
  std::vector<double> inverse_mass;  // initial metric (Metric::from_inverse_mass)
  double step_size = 0.0;            // initial; 0: heuristic from 1
  bool adapt = false;
  bool reflect = false;            // reflect trajectories at the finite walls of density.ranges()
  bool find_initial_step = false;  // run the heuristic before warm-up
  AdaptationSettings adaptation;
  std::string sampler;        // "hmc" / "nuts"
  std::string settings_json;  // everything else of the configuration, a JSON object body
};

McmcResult run_hamiltonian_chains(const LogDensity& density, const DriverSettings& settings,
                                  const TransitionKernel& kernel, const JobContext& job,
                                  const McmcIterationCallback& on_iteration);

}  // namespace ds::detail
