#include "diffuscope/infer/mcmc/nuts.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/error.h"
#include "infer/mcmc/hamiltonian.h"

namespace ds {

namespace {

using detail::ChainState;
using detail::PointEvaluator;
using detail::StepStatus;

constexpr double kInf = std::numeric_limits<double>::infinity();

double log_sum_exp(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::vector<double> sum(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> s(a);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] += b[i];
  return s;
}

// The generalised no-U-turn criterion for a segment whose end momenta (in M^-1 p form) are
// sharp_a and sharp_b and whose summed momentum is rho: it continues while neither end moves
// back against rho. Symmetric in the two ends, so the direction of integration does not matter.
bool no_u_turn(const std::vector<double>& sharp_a, const std::vector<double>& sharp_b,
               const std::vector<double>& rho) {
  return dot(sharp_a, rho) > 0.0 && dot(sharp_b, rho) > 0.0;
}

// A subtree in build order: `begin` is its leaf next to the existing trajectory, `end` the
// outermost one.
struct Subtree {
  PhasePoint proposal;
  std::vector<double> rho;
  std::vector<double> p_begin, p_end, sharp_begin, sharp_end;
  double log_weight = -kInf;  // log sum over leaves of exp(H0 - H)
};

// State shared by the recursion of one transition.
struct TreeBuilder {
  ChainState& chain;
  PointEvaluator& evaluate;
  double h0;
  double max_energy_error;
  int n_leapfrog = 0;
  double sum_acceptance = 0.0;
  bool divergent = false;
  bool left_support = false;

  // Extends the trajectory edge z by 2^depth leapfrog steps of size eps (signed). Returns false
  // when the subtree must be discarded (divergence, support exit, or an internal U-turn).
  bool build(PhasePoint& z, int depth, double eps, Subtree& out) {
    if (depth == 0) return leaf(z, eps, out);
    Subtree inner, outer;
    if (!build(z, depth - 1, eps, inner)) return false;
    if (!build(z, depth - 1, eps, outer)) return false;
    out.log_weight = log_sum_exp(inner.log_weight, outer.log_weight);
    // Within a subtree the draw is uniformly progressive: proportional to the leaf weights.
    if (chain.rng.uniform() < std::exp(outer.log_weight - out.log_weight))
      out.proposal = std::move(outer.proposal);
    else
      out.proposal = std::move(inner.proposal);
    out.rho = sum(inner.rho, outer.rho);
    out.p_begin = std::move(inner.p_begin);
    out.sharp_begin = std::move(inner.sharp_begin);
    out.p_end = std::move(outer.p_end);
    out.sharp_end = std::move(outer.sharp_end);
    bool keep = no_u_turn(out.sharp_begin, out.sharp_end, out.rho);
    // Across the join (Stan >= 2.23): each half together with the neighbouring leaf of the other.
    keep = keep && no_u_turn(out.sharp_begin, outer.sharp_begin, sum(inner.rho, outer.p_begin));
    keep = keep && no_u_turn(inner.sharp_end, out.sharp_end, sum(outer.rho, inner.p_end));
    return keep;
  }

  bool leaf(PhasePoint& z, double eps, Subtree& out) {
    const StepStatus status = detail::leapfrog_step(evaluate, chain.metric, eps, z, chain.walls);
    ++n_leapfrog;
    if (status == StepStatus::LeftSupport) {
      left_support = true;
      return false;
    }
    const double h = status == StepStatus::Ok ? hamiltonian(z, chain.metric) : kInf;
    if (!(h - h0 <= max_energy_error)) {  // NaN, +inf or a huge energy error
      divergent = true;
      return false;
    }
    sum_acceptance += h0 - h > 0.0 ? 1.0 : std::exp(h0 - h);
    out.log_weight = h0 - h;
    out.proposal = z;
    out.rho = z.momentum;
    out.p_begin = out.p_end = z.momentum;
    out.sharp_begin.resize(z.momentum.size());
    chain.metric.velocity(z.momentum.data(), out.sharp_begin.data());
    out.sharp_end = out.sharp_begin;
    return true;
  }
};

Transition nuts_transition(ChainState& chain, PointEvaluator& evaluate, int max_depth,
                           double max_energy_error) {
  const std::size_t d = chain.z.position.size();
  PhasePoint start = chain.z;
  chain.metric.sample_momentum(chain.rng, start.momentum.data());
  const double h0 = hamiltonian(start, chain.metric);
  TreeBuilder tree{chain, evaluate, h0, max_energy_error};

  // The trajectory so far: its two edges, summed momentum, and end momenta. "far"/"near" are
  // taken relative to the side the next subtree grows on.
  PhasePoint forward_edge = start, backward_edge = start;
  std::vector<double> sharp0(d);
  chain.metric.velocity(start.momentum.data(), sharp0.data());
  std::vector<double> rho = start.momentum;
  std::vector<double> p_forward = start.momentum, p_backward = start.momentum;
  std::vector<double> sharp_forward = sharp0, sharp_backward = sharp0;
  PhasePoint sample = start;
  double log_weight = 0.0;  // the start's own weight, exp(h0 - h0)
  int depth = 0;
  while (depth < max_depth) {
    const bool forward = chain.rng.uniform() > 0.5;
    Subtree grown;
    const bool valid = forward ? tree.build(forward_edge, depth, chain.step_size, grown)
                               : tree.build(backward_edge, depth, -chain.step_size, grown);
    if (!valid) break;
    ++depth;
    // Between the old trajectory and the new subtree the draw is biased-progressive: it moves
    // to the new subtree with probability min(1, W_new / W_old).
    if (grown.log_weight > log_weight ||
        chain.rng.uniform() < std::exp(grown.log_weight - log_weight))
      sample = grown.proposal;
    log_weight = log_sum_exp(log_weight, grown.log_weight);

    std::vector<double>& p_near = forward ? p_forward : p_backward;
    std::vector<double>& sharp_near = forward ? sharp_forward : sharp_backward;
    const std::vector<double>& sharp_far = forward ? sharp_backward : sharp_forward;
    bool keep = no_u_turn(sharp_far, grown.sharp_end, sum(rho, grown.rho));
    keep = keep && no_u_turn(sharp_far, grown.sharp_begin, sum(rho, grown.p_begin));
    keep = keep && no_u_turn(sharp_near, grown.sharp_end, sum(grown.rho, p_near));
    rho = sum(rho, grown.rho);
    p_near = grown.p_end;
    sharp_near = grown.sharp_end;
    if (!keep) break;
  }

  Transition t;
  t.step_size = chain.step_size;
  t.n_steps = tree.n_leapfrog;
  t.tree_depth = depth;
  t.diverging = tree.divergent;
  t.left_support = tree.left_support;
  t.acceptance_rate = tree.n_leapfrog > 0 ? tree.sum_acceptance / tree.n_leapfrog : 0.0;
  t.energy = hamiltonian(sample, chain.metric);
  t.energy_error = t.energy - h0;
  chain.z = std::move(sample);
  t.position = chain.z.position;
  t.lp = chain.z.log_density;
  return t;
}

}  // namespace

McmcResult sample_nuts(const LogDensity& density, const NutsSettings& settings,
                       const JobContext& job, const McmcIterationCallback& on_iteration) {
  if (settings.max_tree_depth < 1 || settings.max_tree_depth > 30)
    throw InvalidArgument("NUTS maximum tree depth " + std::to_string(settings.max_tree_depth) +
                          " must lie in 1..30");
  if (settings.step_size < 0.0 || !std::isfinite(settings.step_size))
    throw InvalidArgument("NUTS step size " + std::to_string(settings.step_size) +
                          " must be positive (or 0 for the heuristic)");
  detail::DriverSettings driver;
  driver.run = settings.run;
  driver.inverse_mass = settings.inverse_mass;
  driver.step_size = settings.step_size;
  driver.adapt = settings.adapt;
  driver.find_initial_step = settings.adapt || settings.step_size == 0.0;
  driver.adaptation = settings.adaptation;
  driver.reflect = settings.boundary != Boundary::Reject;
  driver.sampler = "nuts";
  const nlohmann::json config = {{"initial_step_size", settings.step_size},
                                 {"max_tree_depth", settings.max_tree_depth},
                                 {"max_energy_error", settings.max_energy_error},
                                 {"criterion", "generalised no-U-turn, with merge checks"},
                                 {"sampling", "multinomial"},
                                 {"boundary", "reject"}};
  driver.settings_json = config.dump();
  const int max_depth = settings.max_tree_depth;
  const double max_error = settings.max_energy_error;
  return detail::run_hamiltonian_chains(
      density, driver,
      [max_depth, max_error](ChainState& chain, PointEvaluator& evaluate) {
        return nuts_transition(chain, evaluate, max_depth, max_error);
      },
      job, on_iteration);
}

}  // namespace ds
