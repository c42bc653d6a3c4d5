#include "diffuscope/infer/mcmc/surrogate_hmc.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/infer/mcmc/surrogate.h"
#include "infer/mcmc/hamiltonian.h"
#include "infer/mcmc/linear_algebra.h"

namespace ds {

namespace {

using detail::PointEvaluator;
using detail::StepStatus;

constexpr double kStepJitter = 0.2;

// The surrogate as the leapfrog integrator's density.
// beta < 1 tempers it (beta log p~): broader, for exploring during the first half of warm-up.
class SurrogateEvaluator : public PointEvaluator {
 public:
  SurrogateEvaluator(const LogDensitySurrogate& s, double beta) : surrogate_(s), beta_(beta) {}
  double evaluate(const double* theta, double* gradient) override {
    const double v = surrogate_.value(theta, gradient);
    if (gradient)
      for (std::size_t k = 0; k < surrogate_.dimension(); ++k) gradient[k] *= beta_;
    return beta_ * v;
  }

 private:
  const LogDensitySurrogate& surrogate_;
  double beta_;
};

// The first half of warm-up proposes from the surrogate tempered to this power, so that exact
// evaluations (and the fit) reach the tails; the second half and the kept draws use it as is.
constexpr double kExplorationBeta = 0.5;

// Exact evaluations made outside the chains (starts, design): one batched call, value only.
struct ExactPoints {
  std::vector<double> thetas, values;  // [n, D], [n]
  void add(const double* theta, std::size_t d, double value) {
    thetas.insert(thetas.end(), theta, theta + d);
    values.push_back(value);
  }
};

std::vector<double> evaluate_values(const LogDensity& density, const std::vector<double>& thetas,
                                    std::size_t count) {
  std::vector<double> values;
  if (count == 0) return values;
  density.evaluate(thetas, count, values, nullptr);
  return values;
}

// A point moved inside the support box (a hair inside a finite wall).
void clamp_to_support(const std::vector<std::pair<double, double>>& ranges, double* x,
                      std::size_t d) {
  for (std::size_t k = 0; k < d && k < ranges.size(); ++k) {
    const auto [lo, hi] = ranges[k];
    const double margin = std::isfinite(lo) && std::isfinite(hi) ? 1e-9 * (hi - lo) : 0.0;
    if (std::isfinite(lo)) x[k] = std::max(x[k], lo + margin);
    if (std::isfinite(hi)) x[k] = std::min(x[k], hi - margin);
  }
}

// Central-composite design around `center` with the axes of `frame` ([D, D], columns): +-e_k and
// (+-e_k +- e_l) for k < l, each mapped through frame.
std::vector<double> design_points(const std::vector<double>& center,
                                  const std::vector<double>& frame, std::size_t d,
                                  const std::vector<std::pair<double, double>>& ranges) {
  std::vector<std::vector<double>> directions;
  for (std::size_t k = 0; k < d; ++k)
    for (double sign : {1.0, -1.0}) {
      std::vector<double> e(d, 0.0);
      e[k] = sign;
      directions.push_back(e);
    }
  for (std::size_t k = 0; k < d; ++k)
    for (std::size_t l = k + 1; l < d; ++l)
      for (double sk : {1.0, -1.0})
        for (double sl : {1.0, -1.0}) {
          std::vector<double> e(d, 0.0);
          e[k] = sk;
          e[l] = sl;
          directions.push_back(e);
        }
  std::vector<double> points;
  for (const auto& e : directions) {
    std::vector<double> x = center;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t k = 0; k < d; ++k) x[i] += frame[i * d + k] * e[k];
    clamp_to_support(ranges, x.data(), d);
    points.insert(points.end(), x.begin(), x.end());
  }
  return points;
}

struct ChainRun {
  explicit ChainRun(std::uint64_t seed, std::uint64_t chain) : rng(seed, chain) {}
  Rng rng;
  std::vector<double> position;
  double exact_lp = 0.0;
  // This iteration's exact evaluation (for the fit during warm-up).
  bool evaluated = false;
  std::vector<double> evaluated_at;
  double evaluated_value = 0.0;
  // Kept-draw counters.
  std::size_t passed_stage1 = 0, accepted_stage2 = 0, kept = 0;
};

}  // namespace

McmcResult sample_surrogate_hmc(const LogDensity& density, const SurrogateHmcSettings& settings,
                                const JobContext& job, const McmcIterationCallback& on_iteration,
                                SurrogateHmcReport* report) {
  const auto started = std::chrono::steady_clock::now();
  const McmcRun& run = settings.run;
  const std::size_t d = density.dimension();
  if (run.chains == 0) throw InvalidArgument("sampling needs at least one chain");
  if (run.draws == 0) throw InvalidArgument("sampling needs at least one kept draw per chain");
  if (!(settings.step_size > 0.0) || !std::isfinite(settings.step_size))
    throw InvalidArgument("surrogate HMC step size " + std::to_string(settings.step_size) +
                          " must be positive and finite");
  if (settings.min_leapfrog < 1 || settings.max_leapfrog < settings.min_leapfrog)
    throw InvalidArgument("surrogate HMC leapfrog steps: need 1 <= min (" +
                          std::to_string(settings.min_leapfrog) + ") <= max (" +
                          std::to_string(settings.max_leapfrog) + ")");
  if (settings.refit_every == 0) throw InvalidArgument("surrogate HMC: refit_every must be >= 1");
  const auto ranges = density.ranges();
  if (!settings.design_half_width.empty() && settings.design_half_width.size() != d)
    throw InvalidArgument("surrogate HMC: " + std::to_string(settings.design_half_width.size()) +
                          " design half-widths for " + std::to_string(d) + " parameters");
  const std::vector<std::vector<double>> starts = detail::chain_starts(density, run);
  detail::check_starts_in_support(density, starts);
  const detail::Walls walls = detail::walls_of(ranges);

  const std::size_t total = run.warmup + run.draws;
  job.report(0, std::int64_t(total), "evaluating the starts and the surrogate's design");
  ExactPoints fit_set;
  std::uint64_t calls = 0, points = 0;
  // Starts, one call.
  std::vector<double> start_thetas;
  for (const auto& s : starts) start_thetas.insert(start_thetas.end(), s.begin(), s.end());
  const std::vector<double> start_values = evaluate_values(density, start_thetas, starts.size());
  ++calls;
  points += starts.size();
  for (std::size_t c = 0; c < starts.size(); ++c) {
    if (!std::isfinite(start_values[c]))
      throw InvalidArgument("the start " + detail::point_text(starts[c]) + " of chain " +
                            std::to_string(c) + " has log density " +
                            std::to_string(start_values[c]) + ": start inside the support");
    fit_set.add(starts[c].data(), d, start_values[c]);
  }

  // Design rounds.
  std::vector<double> frame(d * d, 0.0);
  for (std::size_t k = 0; k < d; ++k) {
    double h = 1.0;
    if (!settings.design_half_width.empty()) {
      h = settings.design_half_width[k];
    } else if (k < ranges.size() && std::isfinite(ranges[k].first) &&
               std::isfinite(ranges[k].second)) {
      h = 0.1 * (ranges[k].second - ranges[k].first);
    }
    if (!(h > 0.0) || !std::isfinite(h))
      throw InvalidArgument("surrogate HMC: design half-width " + std::to_string(h) +
                            " must be positive and finite");
    frame[k * d + k] = h;
  }
  std::size_t design_evaluations = 0;
  LogDensitySurrogate surrogate;
  std::vector<double> previous_mode;
  const auto best_point = [&] {
    std::size_t best = 0;
    for (std::size_t i = 0; i < fit_set.values.size(); ++i)
      if (fit_set.values[i] > fit_set.values[best]) best = i;
    return std::vector<double>(fit_set.thetas.begin() + std::ptrdiff_t(best * d),
                               fit_set.thetas.begin() + std::ptrdiff_t(best * d + d));
  };
  std::vector<double> center = best_point();
  for (std::size_t round = 0; round < std::max<std::size_t>(1, settings.design_rounds); ++round) {
    job.check_cancelled();
    const std::vector<double> design = design_points(center, frame, d, ranges);
    const std::size_t n = design.size() / d;
    const std::vector<double> values = evaluate_values(density, design, n);
    ++calls;
    points += n;
    design_evaluations += n;
    for (std::size_t i = 0; i < n; ++i) fit_set.add(&design[i * d], d, values[i]);
    try {
      surrogate =
          LogDensitySurrogate::fit(d, fit_set.thetas, fit_set.values, settings.length_scale);
    } catch (const InvalidArgument&) {
      continue;  // not enough finite points yet: another round around the best point
    }
    // The next round: around the fitted mode (kept inside the box), +-2 sd along its axes; when
    // the points show no peak yet, around the best point with a doubled half-width.
    std::vector<double> mode = surrogate.mode();
    clamp_to_support(ranges, mode.data(), d);
    const auto& cov = surrogate.covariance();
    const bool settled = [&] {
      if (!surrogate.concave() || previous_mode.empty()) return false;
      std::vector<double> diff(d);
      for (std::size_t k = 0; k < d; ++k) diff[k] = mode[k] - previous_mode[k];
      const auto l = detail::cholesky(cov, d, "the surrogate's covariance");
      detail::solve_lower(l, d, diff.data());
      double r2 = 0.0;
      for (double x : diff) r2 += x * x;
      return r2 < 1.0 / 9.0;
    }();
    if (settled) break;
    if (surrogate.concave()) {
      previous_mode = mode;
      center = mode;
      const auto l = detail::cholesky(cov, d, "the surrogate's covariance");
      for (std::size_t i = 0; i < d * d; ++i) frame[i] = 2.0 * l[i];
    } else {
      center = best_point();
      for (double& f : frame) f *= 2.0;
    }
  }
  if (surrogate.empty())
    throw InvalidArgument(
        "surrogate HMC: the design gave too few finite log densities to fit a "
        "surrogate (the density is -inf or NaN around the starts)");

  std::vector<ChainRun> chains;
  chains.reserve(run.chains);
  for (std::size_t c = 0; c < run.chains; ++c) {
    chains.emplace_back(run.seed, c);
    chains.back().position = starts[c];
    chains.back().exact_lp = start_values[c];
  }
  Metric metric = Metric::dense(surrogate.covariance());

  McmcResult result = detail::empty_result(density, run, "surrogate_hmc");
  Chains& out = result.chains;

  detail::ChainExecutor executor(density, run.chains, run.lockstep);
  McmcIteration iteration;
  iteration.total = total;
  iteration.chains.resize(run.chains);
  for (std::size_t it = 0; it < total; ++it) {
    job.check_cancelled();
    const bool warmup = it < run.warmup;
    const double beta = warmup && 2 * it < run.warmup ? kExplorationBeta : 1.0;
    executor.run([&](std::size_t c, PointEvaluator& exact) {
      ChainRun& chain = chains[c];
      chain.evaluated = false;
      SurrogateEvaluator approximate(surrogate, beta);
      PhasePoint z;
      z.position = chain.position;
      z.gradient.assign(d, 0.0);
      z.momentum.assign(d, 0.0);
      z.log_density = approximate.evaluate(z.position.data(), z.gradient.data());
      const double surrogate_start = z.log_density;
      metric.sample_momentum(chain.rng, z.momentum.data());
      const double h0 = hamiltonian(z, metric);
      const int steps =
          settings.min_leapfrog +
          int(chain.rng.below(std::uint64_t(settings.max_leapfrog - settings.min_leapfrog + 1)));
      const double eps =
          settings.step_size * (1.0 + kStepJitter * (2.0 * chain.rng.uniform() - 1.0));
      StepStatus status = StepStatus::Ok;
      for (int s = 0; s < steps && status == StepStatus::Ok; ++s)
        status =
            detail::leapfrog_step(approximate, metric, eps, z, walls.empty() ? nullptr : &walls);
      Transition t;
      t.step_size = eps;
      t.n_steps = steps;
      const double h1 = status == StepStatus::Ok ? hamiltonian(z, metric)
                                                 : std::numeric_limits<double>::infinity();
      t.energy_error = h1 - h0;
      t.diverging = status == StepStatus::Divergent;
      const double a1 = status == StepStatus::Ok ? std::min(1.0, std::exp(h0 - h1)) : 0.0;
      // Both uniforms are always drawn, so a chain's stream does not depend on what happened.
      const double u1 = chain.rng.uniform(), u2 = chain.rng.uniform();
      double acceptance = a1;
      bool accept = false;
      if (u1 < a1) {
        const double exact_end = exact.evaluate(z.position.data(), nullptr);
        chain.evaluated = true;
        chain.evaluated_at = z.position;
        chain.evaluated_value = exact_end;
        double a2 = 0.0;
        if (std::isfinite(exact_end))
          a2 = std::min(1.0,
                        std::exp((exact_end - chain.exact_lp) - (z.log_density - surrogate_start)));
        else if (!(exact_end == -std::numeric_limits<double>::infinity()))
          t.diverging = true;  // NaN or +inf from the exact density
        t.left_support = exact_end == -std::numeric_limits<double>::infinity();
        acceptance = a1 * a2;
        accept = u2 < a2;
        if (!warmup) {
          ++chain.passed_stage1;
          chain.accepted_stage2 += accept ? 1 : 0;
        }
        if (accept) {
          chain.position = z.position;
          chain.exact_lp = exact_end;
        }
      }
      if (!warmup) ++chain.kept;
      t.acceptance_rate = acceptance;
      t.energy = accept ? h1 : h0;
      t.position = chain.position;
      t.lp = chain.exact_lp;
      iteration.chains[c] = std::move(t);
    });
    if (warmup) {
      for (const ChainRun& chain : chains)
        if (chain.evaluated) fit_set.add(chain.evaluated_at.data(), d, chain.evaluated_value);
      const bool last = it + 1 == run.warmup;
      if (last || (it + 1) % settings.refit_every == 0) {
        surrogate =
            LogDensitySurrogate::fit(d, fit_set.thetas, fit_set.values, settings.length_scale);
        metric = Metric::dense(surrogate.covariance());
      }
    }
    iteration.iteration = it;
    iteration.warmup = warmup;
    if (!warmup) detail::record_kept(result, iteration, it - run.warmup);
    if (on_iteration) on_iteration(iteration);
    job.report(
        std::int64_t(it + 1), std::int64_t(total),
        (warmup ? "warm-up " : "sampling ") + std::to_string(it + 1) + "/" + std::to_string(total));
  }

  SurrogateHmcReport r;
  r.design_evaluations = design_evaluations;
  r.surrogate_points = surrogate.points();
  r.mode = surrogate.mode();
  r.covariance = surrogate.covariance();
  std::size_t kept = 0, passed = 0, accepted = 0;
  for (const ChainRun& chain : chains) {
    kept += chain.kept;
    passed += chain.passed_stage1;
    accepted += chain.accepted_stage2;
  }
  r.stage1_acceptance = kept > 0 ? double(passed) / double(kept) : 0.0;
  r.stage2_acceptance = passed > 0 ? double(accepted) / double(passed) : 0.0;
  result.density_calls = calls + executor.calls();
  result.density_points = points + executor.points();
  r.exact_evaluations = std::size_t(result.density_points);

  nlohmann::json config = {
      {"sampler", out.sampler},
      {"method",
       "delayed-acceptance HMC: leapfrog on a surrogate (quadratic + Gaussian-process "
       "residuals), each surrogate-accepted proposal screened by the exact density "
       "(Christen & Fox 2005); surrogate frozen after warm-up"},
      {"chains", run.chains},
      {"warmup", run.warmup},
      {"draws", run.draws},
      {"seed", run.seed},
      {"lockstep", run.lockstep},
      {"starts", starts},
      {"step_size", settings.step_size},
      {"step_jitter", kStepJitter},
      {"leapfrog_steps", {settings.min_leapfrog, settings.max_leapfrog}},
      {"design_rounds", settings.design_rounds},
      {"refit_every", settings.refit_every},
      {"length_scale", settings.length_scale},
      {"boundary", walls.empty() ? "none" : "reflect"},
      {"exact_evaluations", r.exact_evaluations},
      {"design_evaluations", r.design_evaluations},
      {"surrogate_points", r.surrogate_points},
      {"stage1_acceptance", r.stage1_acceptance},
      {"stage2_acceptance", r.stage2_acceptance},
      {"surrogate_mode", r.mode},
      {"surrogate_covariance", r.covariance}};
  out.settings_json = config.dump();
  for (std::size_t c = 0; c < run.chains; ++c) {
    result.step_sizes.push_back(settings.step_size);
    result.metrics.push_back(metric);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (report) *report = r;
  return result;
}

}  // namespace ds
