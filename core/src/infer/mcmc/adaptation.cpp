#include "diffuscope/infer/mcmc/adaptation.h"

#include <algorithm>
#include <cmath>

#include "diffuscope/error.h"

namespace ds {

void StepSizeAdaptation::restart(double step_size) {
  // mu = log(10 eps): the search is biased towards larger steps, which are cheaper.
  mu_ = std::log(10.0 * step_size);
  log_step_ = std::log(step_size);
  log_step_bar_ = 0.0;
  h_bar_ = 0.0;
  count_ = 0.0;
}

double StepSizeAdaptation::update(double acceptance) {
  if (!(acceptance >= 0.0)) acceptance = 0.0;  // NaN (divergent start) counts as a rejection
  acceptance = std::min(acceptance, 1.0);
  count_ += 1.0;
  const double eta = 1.0 / (count_ + settings_.t0);
  h_bar_ = (1.0 - eta) * h_bar_ + eta * (settings_.target_acceptance - acceptance);
  log_step_ = mu_ - std::sqrt(count_) / settings_.gamma * h_bar_;
  const double weight = std::pow(count_, -settings_.kappa);
  log_step_bar_ = weight * log_step_ + (1.0 - weight) * log_step_bar_;
  return std::exp(log_step_);
}

double StepSizeAdaptation::final_step_size() const {
  return std::exp(count_ > 0.0 ? log_step_bar_ : log_step_);
}

WindowSchedule::WindowSchedule(std::size_t warmup, const AdaptationSettings& settings) {
  slow_begin_ = slow_end_ = warmup;
  if (warmup < 20) return;  // too short to estimate a metric: step size only
  std::size_t initial = settings.initial_window, terminal = settings.terminal_window,
              base = settings.base_window;
  if (initial + terminal + base > warmup) {
    initial = std::size_t(0.15 * double(warmup));
    terminal = std::size_t(0.1 * double(warmup));
    base = warmup - initial - terminal;
  }
  slow_begin_ = initial;
  slow_end_ = warmup - terminal;
  std::size_t start = slow_begin_, size = std::max<std::size_t>(base, 1);
  while (start < slow_end_) {
    std::size_t end = start + size;
    // Stretch this window to the end of the slow phase when the next, doubled one would not fit.
    if (end + 2 * size > slow_end_) end = slow_end_;
    ends_.push_back(end - 1);
    start = end;
    size *= 2;
  }
}

bool WindowSchedule::collects(std::size_t i) const {
  return i >= slow_begin_ && i < slow_end_;
}

bool WindowSchedule::closes_window(std::size_t i) const {
  return std::find(ends_.begin(), ends_.end(), i) != ends_.end();
}

CovarianceEstimator::CovarianceEstimator(std::size_t dimension, bool dense)
    : dimension_(dimension), dense_(dense) {
  reset();
}

void CovarianceEstimator::reset() {
  count_ = 0;
  mean_.assign(dimension_, 0.0);
  m2_.assign(dense_ ? dimension_ * dimension_ : dimension_, 0.0);
}

void CovarianceEstimator::add(const double* theta) {
  const std::size_t d = dimension_;
  ++count_;
  std::vector<double> before(d);
  for (std::size_t i = 0; i < d; ++i) {
    before[i] = theta[i] - mean_[i];
    mean_[i] += before[i] / double(count_);
  }
  // Welford: accumulate (x - old mean)(x - new mean).
  for (std::size_t i = 0; i < d; ++i) {
    if (!dense_) {
      m2_[i] += before[i] * (theta[i] - mean_[i]);
      continue;
    }
    for (std::size_t j = 0; j < d; ++j) m2_[i * d + j] += before[i] * (theta[j] - mean_[j]);
  }
}

std::optional<Metric> CovarianceEstimator::metric() const {
  const std::size_t d = dimension_;
  if (count_ < 2) return std::nullopt;
  const double n = double(count_);
  std::vector<double> s(m2_.size());
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = m2_[i] / (n - 1.0);
  double scale = 0.0;
  for (std::size_t i = 0; i < d; ++i) scale += dense_ ? s[i * d + i] : s[i];
  scale /= double(d);
  if (!(scale > 0.0) || !std::isfinite(scale)) return std::nullopt;  // the chain never moved
  const double shrink = 5.0 / (n + 5.0);
  for (double& v : s) v *= n / (n + 5.0);
  for (std::size_t i = 0; i < d; ++i) (dense_ ? s[i * d + i] : s[i]) += shrink * 1e-3 * scale;
  try {
    return dense_ ? Metric::dense(std::move(s)) : Metric::diagonal(std::move(s));
  } catch (const InvalidArgument&) {
    return std::nullopt;  // a degenerate direction: keep the previous metric
  }
}

}  // namespace ds
