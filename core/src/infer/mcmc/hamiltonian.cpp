#include "infer/mcmc/hamiltonian.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/error.h"

namespace ds {

namespace detail {

StepStatus classify(double log_density, const std::vector<double>& gradient) {
  if (log_density == -std::numeric_limits<double>::infinity()) return StepStatus::LeftSupport;
  if (!std::isfinite(log_density)) return StepStatus::Divergent;
  for (double g : gradient)
    if (!std::isfinite(g)) return StepStatus::Divergent;
  return StepStatus::Ok;
}

Walls walls_of(const std::vector<std::pair<double, double>>& ranges) {
  Walls w;
  bool any = false;
  for (const auto& [lo, hi] : ranges) any = any || std::isfinite(lo) || std::isfinite(hi);
  if (!any) return w;
  for (const auto& [lo, hi] : ranges) {
    w.lo.push_back(lo);
    w.hi.push_back(hi);
  }
  return w;
}

namespace {

// theta += eps M^-1 p, reflecting at the walls. Returns false when the drift cannot be completed
// (a start outside the walls, or a pathological number of bounces): the caller rejects.
bool reflecting_drift(const Metric& metric, const Walls& walls, double eps, PhasePoint& z,
                      std::vector<double>& velocity) {
  const std::size_t d = z.position.size();
  const std::vector<double> diagonal = metric.inverse_mass_diagonal();
  for (std::size_t i = 0; i < d; ++i)
    if (!(z.position[i] >= walls.lo[i] && z.position[i] <= walls.hi[i])) return false;
  double left = 1.0;  // the fraction of the step still to move
  for (int bounce = 0; bounce <= 1000; ++bounce) {
    metric.velocity(z.momentum.data(), velocity.data());
    // The first wall met within the rest of the step, as a fraction of the step.
    double first = left;
    std::size_t wall = d;
    for (std::size_t i = 0; i < d; ++i) {
      const double u = eps * velocity[i];
      double t = first;
      if (u > 0.0 && std::isfinite(walls.hi[i]))
        t = (walls.hi[i] - z.position[i]) / u;
      else if (u < 0.0 && std::isfinite(walls.lo[i]))
        t = (walls.lo[i] - z.position[i]) / u;
      if (t < first) {
        first = std::max(t, 0.0);
        wall = i;
      }
    }
    for (std::size_t i = 0; i < d; ++i) {
      z.position[i] += first * eps * velocity[i];
      z.position[i] = std::clamp(z.position[i], walls.lo[i], walls.hi[i]);  // rounding only
    }
    left -= first;
    if (wall == d) return true;
    z.position[wall] = velocity[wall] * eps > 0.0 ? walls.hi[wall] : walls.lo[wall];
    z.momentum[wall] -= 2.0 * velocity[wall] / diagonal[wall];
  }
  return false;
}

}  // namespace

StepStatus leapfrog_step(PointEvaluator& evaluate, const Metric& metric, double eps, PhasePoint& z,
                         const Walls* walls) {
  const std::size_t d = z.position.size();
  std::vector<double> velocity(d);
  for (std::size_t i = 0; i < d; ++i) z.momentum[i] += 0.5 * eps * z.gradient[i];
  if (walls && !walls->empty()) {
    if (!reflecting_drift(metric, *walls, eps, z, velocity)) return StepStatus::LeftSupport;
  } else {
    metric.velocity(z.momentum.data(), velocity.data());
    for (std::size_t i = 0; i < d; ++i) z.position[i] += eps * velocity[i];
  }
  z.log_density = evaluate.evaluate(z.position.data(), z.gradient.data());
  const StepStatus status = classify(z.log_density, z.gradient);
  if (status != StepStatus::Ok) return status;
  for (std::size_t i = 0; i < d; ++i) z.momentum[i] += 0.5 * eps * z.gradient[i];
  return StepStatus::Ok;
}

double find_reasonable_step_size(ChainState& chain, PointEvaluator& evaluate) {
  const double log_target = std::log(0.8);
  double eps = chain.step_size;
  int direction = 0;
  // Acceptance (log) of one step of size eps from the current point with fresh momentum.
  auto log_acceptance = [&](double step) {
    PhasePoint z = chain.z;
    z.momentum.resize(z.position.size());
    chain.metric.sample_momentum(chain.rng, z.momentum.data());
    const double h0 = hamiltonian(z, chain.metric);
    if (leapfrog_step(evaluate, chain.metric, step, z, chain.walls) != StepStatus::Ok)
      return -std::numeric_limits<double>::infinity();
    const double h1 = hamiltonian(z, chain.metric);
    return std::isfinite(h1) ? h0 - h1 : -std::numeric_limits<double>::infinity();
  };
  double delta = log_acceptance(eps);
  direction = delta > log_target ? 1 : -1;
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double next = direction > 0 ? 2.0 * eps : 0.5 * eps;
    if (next > 1e7 || next < 1e-12) break;  // flat or pathological: keep what we have
    eps = next;
    delta = log_acceptance(eps);
    if (direction > 0 && !(delta > log_target)) break;
    if (direction < 0 && !(delta < log_target)) break;
  }
  return eps;
}

std::vector<std::vector<double>> chain_starts(const LogDensity& density, const McmcRun& run) {
  const std::size_t d = density.dimension();
  std::vector<std::vector<double>> starts;
  if (run.starts.size() == 1)
    starts.assign(run.chains, run.starts[0]);
  else if (run.starts.size() == run.chains)
    starts = run.starts;
  else if (run.starts.empty()) {
    const auto ranges = density.ranges();
    for (std::size_t c = 0; c < run.chains; ++c) {
      Rng rng(run.seed, 0x5747415254ULL + c);  // a stream apart from the chains' own
      std::vector<double> start(d);
      for (std::size_t i = 0; i < d; ++i) {
        const auto [lo, hi] = ranges[i];
        if (!std::isfinite(lo) || !std::isfinite(hi))
          throw InvalidArgument("no start point given and parameter " + density.names()[i] +
                                " is unbounded: give a start");
        start[i] = lo + (hi - lo) * (0.25 + 0.5 * rng.uniform());
      }
      starts.push_back(start);
    }
  } else {
    throw InvalidArgument(std::to_string(run.starts.size()) + " start points for " +
                          std::to_string(run.chains) + " chains: give one or one per chain");
  }
  for (const auto& s : starts)
    if (s.size() != d)
      throw InvalidArgument("a start point has " + std::to_string(s.size()) +
                            " parameters, the density has " + std::to_string(d));
  return starts;
}

std::string point_text(const std::vector<double>& x) {
  std::string s = "(";
  for (std::size_t i = 0; i < x.size(); ++i) s += (i ? ", " : "") + std::to_string(x[i]);
  return s + ")";
}

void check_starts_in_support(const LogDensity& density,
                             const std::vector<std::vector<double>>& starts) {
  const auto support = density.ranges();
  const auto names = density.names();
  const std::size_t d = density.dimension();
  for (std::size_t c = 0; c < starts.size(); ++c)
    for (std::size_t i = 0; i < d && i < support.size(); ++i) {
      const double x = starts[c][i];
      if (!(x >= support[i].first && x <= support[i].second))
        throw InvalidArgument("the start " + point_text(starts[c]) + " of chain " +
                              std::to_string(c) + " lies outside the support of " +
                              (i < names.size() ? names[i] : "parameter " + std::to_string(i)) +
                              " [" + std::to_string(support[i].first) + ", " +
                              std::to_string(support[i].second) + "]: start inside the support");
    }
}

namespace {

nlohmann::json metric_json(const Metric& m) {
  const char* kinds[] = {"unit", "diagonal", "dense"};
  return {{"kind", kinds[int(m.kind())]}, {"inverse_mass", m.inverse_mass()}};
}

}  // namespace

McmcResult empty_result(const LogDensity& density, const McmcRun& run, const std::string& sampler) {
  McmcResult result;
  Chains& out = result.chains;
  out.names = density.names();
  out.labels = density.labels();
  out.ranges = density.ranges();
  out.chains = run.chains;
  out.draws = run.draws;
  out.sampler = sampler;
  out.seed = run.seed;
  const std::size_t n = run.chains * run.draws;
  out.values.assign(n * density.dimension(), 0.0);
  out.lp.assign(n, 0.0);
  out.acceptance_rate.assign(n, 0.0);
  out.step_size.assign(n, 0.0);
  out.energy.assign(n, 0.0);
  out.energy_error.assign(n, 0.0);
  out.n_steps.assign(n, 0);
  out.tree_depth.assign(n, 0);
  out.diverging.assign(n, 0);
  return result;
}

void record_kept(McmcResult& result, const McmcIteration& iteration, std::size_t draw) {
  Chains& out = result.chains;
  const std::size_t d = out.values.size() / std::max<std::size_t>(1, out.chains * out.draws);
  for (std::size_t c = 0; c < iteration.chains.size(); ++c) {
    const Transition& t = iteration.chains[c];
    const std::size_t k = c * out.draws + draw;
    std::copy(t.position.begin(), t.position.end(), out.values.begin() + std::ptrdiff_t(k * d));
    out.lp[k] = t.lp;
    out.acceptance_rate[k] = t.acceptance_rate;
    out.step_size[k] = t.step_size;
    out.energy[k] = t.energy;
    out.energy_error[k] = t.energy_error;
    out.n_steps[k] = t.n_steps;
    out.tree_depth[k] = t.tree_depth;
    out.diverging[k] = t.diverging ? 1 : 0;
    result.divergences += t.diverging ? 1 : 0;
    result.support_exits += t.left_support ? 1 : 0;
  }
}

McmcResult run_hamiltonian_chains(const LogDensity& density, const DriverSettings& settings,
                                  const TransitionKernel& kernel, const JobContext& job,
                                  const McmcIterationCallback& on_iteration) {
  const auto started = std::chrono::steady_clock::now();
  const McmcRun& run = settings.run;
  const std::size_t d = density.dimension();
  if (run.chains == 0) throw InvalidArgument("sampling needs at least one chain");
  if (run.draws == 0) throw InvalidArgument("sampling needs at least one kept draw per chain");
  if (settings.step_size < 0.0 || !std::isfinite(settings.step_size) ||
      (settings.step_size == 0.0 && !settings.find_initial_step))
    throw InvalidArgument("step size " + std::to_string(settings.step_size) +
                          " must be positive and finite");
  const Metric initial_metric = Metric::from_inverse_mass(settings.inverse_mass, d);
  const std::vector<std::vector<double>> starts = chain_starts(density, run);
  const Walls walls = settings.reflect ? walls_of(density.ranges()) : Walls{};

  std::vector<ChainState> states;
  states.reserve(run.chains);
  for (std::size_t c = 0; c < run.chains; ++c) {
    states.emplace_back(run.seed, c, d, settings.adaptation);
    ChainState& s = states.back();
    s.metric = initial_metric;
    s.step_size = settings.step_size > 0.0 ? settings.step_size : 1.0;
    s.z.position = starts[c];
    s.z.momentum.assign(d, 0.0);
    s.z.gradient.assign(d, 0.0);
    s.walls = &walls;
  }

  // A start outside the support's bounding box is refused before any (possibly slow) evaluation,
  // so that such bad input fails at once, before the progress begins.
  check_starts_in_support(density, starts);
  // Progress from the very start: on a model's VLB the starts and their initial step sizes take
  // several seconds (about 10 s at T_MAX = 20 on 2 cores) before the first iteration begins.
  job.report(0, std::int64_t(run.warmup + run.draws),
             settings.find_initial_step ? "evaluating the starts and their step sizes"
                                        : "evaluating the starts");
  ChainExecutor executor(density, run.chains, run.lockstep);
  executor.run([&](std::size_t c, PointEvaluator& evaluate) {
    ChainState& s = states[c];
    s.z.log_density = evaluate.evaluate(s.z.position.data(), s.z.gradient.data());
    if (classify(s.z.log_density, s.z.gradient) != StepStatus::Ok)
      throw InvalidArgument("the start " + point_text(s.z.position) + " of chain " +
                            std::to_string(c) + " has log density " +
                            std::to_string(s.z.log_density) +
                            " (or a non-finite gradient): start inside the support");
    if (settings.find_initial_step) s.step_size = find_reasonable_step_size(s, evaluate);
    s.step_adaptation.restart(s.step_size);
  });
  job.report(0, std::int64_t(run.warmup + run.draws), "starts evaluated");

  const WindowSchedule windows(run.warmup, settings.adaptation);
  const bool adapt_metric = settings.adapt && settings.adaptation.adapt_metric;
  const std::size_t total = run.warmup + run.draws;
  McmcResult result = empty_result(density, run, settings.sampler);
  Chains& out = result.chains;

  McmcIteration iteration;
  iteration.total = total;
  iteration.chains.resize(run.chains);
  for (std::size_t it = 0; it < total; ++it) {
    job.check_cancelled();
    const bool warmup = it < run.warmup;
    executor.run([&](std::size_t c, PointEvaluator& evaluate) {
      ChainState& s = states[c];
      Transition t = kernel(s, evaluate);
      if (warmup && settings.adapt) {
        s.step_size = s.step_adaptation.update(t.acceptance_rate);
        if (adapt_metric && windows.collects(it)) s.covariance.add(s.z.position.data());
        if (adapt_metric && windows.closes_window(it)) {
          if (auto metric = s.covariance.metric()) s.metric = *metric;
          s.covariance.reset();
          s.step_size = find_reasonable_step_size(s, evaluate);
          s.step_adaptation.restart(s.step_size);
        }
        if (it + 1 == run.warmup) s.step_size = s.step_adaptation.final_step_size();
      }
      iteration.chains[c] = std::move(t);
    });
    iteration.iteration = it;
    iteration.warmup = warmup;
    if (!warmup) record_kept(result, iteration, it - run.warmup);
    if (on_iteration) on_iteration(iteration);
    job.report(
        std::int64_t(it + 1), std::int64_t(total),
        (warmup ? "warm-up " : "sampling ") + std::to_string(it + 1) + "/" + std::to_string(total));
  }

  nlohmann::json config = settings.settings_json.empty()
                              ? nlohmann::json::object()
                              : nlohmann::json::parse(settings.settings_json);
  config["sampler"] = settings.sampler;
  config["chains"] = run.chains;
  config["warmup"] = run.warmup;
  config["draws"] = run.draws;
  config["seed"] = run.seed;
  config["lockstep"] = run.lockstep;
  config["starts"] = starts;
  config["adapt"] = settings.adapt;
  config["boundary"] = walls.empty() ? "reject" : "reflect";
  config["initial_inverse_mass"] = initial_metric.inverse_mass();
  if (settings.adapt)
    config["adaptation"] = {{"target_acceptance", settings.adaptation.target_acceptance},
                            {"gamma", settings.adaptation.gamma},
                            {"kappa", settings.adaptation.kappa},
                            {"t0", settings.adaptation.t0},
                            {"adapt_metric", settings.adaptation.adapt_metric},
                            {"window_ends", windows.window_ends()}};
  nlohmann::json adapted = nlohmann::json::array();
  for (const ChainState& s : states) {
    result.step_sizes.push_back(s.step_size);
    result.metrics.push_back(s.metric);
    adapted.push_back({{"step_size", s.step_size}, {"metric", metric_json(s.metric)}});
  }
  config["final"] = adapted;
  out.settings_json = config.dump();
  result.density_calls = executor.calls();
  result.density_points = executor.points();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace detail

const char* boundary_name(Boundary b) {
  switch (b) {
    case Boundary::Reject:
      return "reject";
    case Boundary::Reflect:
      return "reflect";
    case Boundary::Automatic:
      break;
  }
  return "auto";
}

Boundary parse_boundary(const std::string& text) {
  for (Boundary b : {Boundary::Automatic, Boundary::Reject, Boundary::Reflect})
    if (text == boundary_name(b)) return b;
  throw InvalidArgument("boundary '" + text + "' is not one of auto, reject, reflect");
}

double hamiltonian(const PhasePoint& z, const Metric& metric) {
  return -z.log_density + metric.kinetic_energy(z.momentum.data());
}

bool leapfrog(const LogDensity& density, const Metric& metric, double step_size, int steps,
              PhasePoint& z, Boundary boundary) {
  // A batch of one through the same step as the samplers.
  class Direct : public detail::PointEvaluator {
   public:
    explicit Direct(const LogDensity& d) : density_(d) {}
    double evaluate(const double* theta, double* gradient) override {
      theta_.assign(theta, theta + density_.dimension());
      density_.evaluate(theta_, 1, values_, &gradients_);
      std::copy(gradients_.begin(), gradients_.end(), gradient);
      return values_[0];
    }

   private:
    const LogDensity& density_;
    std::vector<double> theta_, values_, gradients_;
  } direct(density);
  if (z.position.size() != metric.dimension() || z.momentum.size() != metric.dimension() ||
      z.gradient.size() != metric.dimension())
    throw InvalidArgument("leapfrog: position, momentum and gradient must have " +
                          std::to_string(metric.dimension()) + " entries");
  const detail::Walls walls =
      boundary == Boundary::Reflect ? detail::walls_of(density.ranges()) : detail::Walls{};
  for (int s = 0; s < steps; ++s)
    if (detail::leapfrog_step(direct, metric, step_size, z, &walls) != detail::StepStatus::Ok)
      return false;
  return true;
}

}  // namespace ds
