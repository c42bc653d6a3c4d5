// Warm-up adaptation of Hamiltonian samplers, as Stan does it (Stan Reference Manual, "HMC
// algorithm parameters"; Hoffman & Gelman 2014, section 3.2):
//  - the step size by dual averaging of the acceptance statistic towards a target (0.8);
//  - the inverse metric from the draws of a sequence of windows: a fast initial window (75
//    draws; step size only), slow windows that double in length starting at 25 (metric
//    estimated at the end of each, then the step size search restarts), and a terminal fast
//    window (50). When warm-up is shorter than 75 + 25 + 50 the windows shrink to 15% / 75% /
//    10% of it; under 20 draws only the step size adapts.
// One instance per chain: chains adapt independently, so results do not depend on how chains are
// scheduled.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "diffuscope/infer/mcmc/metric.h"

namespace ds {

struct AdaptationSettings {
  double target_acceptance = 0.8;            // delta
  double gamma = 0.05;                       // dual-averaging regularisation
  double kappa = 0.75;                       // iterate-averaging decay exponent
  double t0 = 10.0;                          // iteration offset
  bool adapt_metric = true;                  // false: step size only
  MetricKind metric = MetricKind::Diagonal;  // kind of the adapted metric (Diagonal or Dense)
  std::size_t initial_window = 75;
  std::size_t base_window = 25;
  std::size_t terminal_window = 50;
};

// Nesterov dual averaging of log(step size) (Hoffman & Gelman 2014, algorithm 5).
class StepSizeAdaptation {
 public:
  explicit StepSizeAdaptation(const AdaptationSettings& settings = {}) : settings_(settings) {}
  // Starts a new search around step_size (mu = log(10 step_size)).
  void restart(double step_size);
  // Feeds the acceptance statistic of one transition (clamped to [0, 1]; NaN counts as 0);
  // returns the step size for the next warm-up transition.
  double update(double acceptance);
  // exp of the averaged iterate: the step size to sample with after warm-up.
  double final_step_size() const;

 private:
  AdaptationSettings settings_;
  double mu_ = 0.0, log_step_ = 0.0, log_step_bar_ = 0.0, h_bar_ = 0.0;
  double count_ = 0.0;
};

// The window schedule of a warm-up of `warmup` draws (draw indices 0 .. warmup-1).
class WindowSchedule {
 public:
  WindowSchedule(std::size_t warmup, const AdaptationSettings& settings);
  // Whether draw i feeds the metric estimate (inside a slow window).
  bool collects(std::size_t i) const;
  // Whether draw i closes a slow window: update the metric and restart the step size search.
  bool closes_window(std::size_t i) const;
  const std::vector<std::size_t>& window_ends() const { return ends_; }  // draw indices
  std::size_t first_slow_draw() const { return slow_begin_; }

 private:
  std::size_t slow_begin_ = 0, slow_end_ = 0;  // [begin, end) of the slow phase
  std::vector<std::size_t> ends_;
};

// Running mean and (co)variance of the positions in one slow window (Welford), and the
// regularised inverse metric made from them: Sigma_n = n/(n+5) S + 5/(n+5) * 1e-3 * s I, with S
// the sample covariance and s the mean of its diagonal. Stan shrinks towards 1e-3 I; scaling by s
// keeps the shrinkage relative for parameters of small scale (Omega_m has sd ~0.01).
class CovarianceEstimator {
 public:
  CovarianceEstimator(std::size_t dimension, bool dense);
  void add(const double* theta);
  void reset();
  std::size_t count() const { return count_; }
  // The regularised estimate as a metric of the estimator's kind; none with fewer than 2 draws
  // or a degenerate estimate (a chain that never moved): keep the previous metric then.
  std::optional<Metric> metric() const;

 private:
  std::size_t dimension_;
  bool dense_;
  std::size_t count_ = 0;
  std::vector<double> mean_, m2_;  // m2_: D (diagonal) or D*D (dense) sums of products
};

}  // namespace ds
