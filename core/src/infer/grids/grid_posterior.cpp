#include "diffuscope/infer/grids/grid_posterior.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "diffuscope/error.h"

namespace ds {

double grid_marginal_percentile(const std::vector<double>& axis, const std::vector<double>& weights,
                                double q) {
  const std::size_t n = axis.size();
  if (weights.size() != n || n < 2)
    throw InvalidArgument("grid marginal: " + std::to_string(n) + " axis points and " +
                          std::to_string(weights.size()) + " weights (need equal sizes >= 2)");
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (!(total > 0.0)) throw InvalidArgument("grid marginal: the weights sum to zero");
  const double step = (axis.back() - axis.front()) / double(n - 1);
  const double target = std::clamp(q / 100.0, 0.0, 1.0) * total;
  double below = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    if (below + weights[j] >= target && weights[j] > 0.0) {
      const double x = axis[j] - 0.5 * step + step * (target - below) / weights[j];
      return std::clamp(x, axis.front(), axis.back());
    }
    below += weights[j];
  }
  return axis.back();
}

FieldCalibration check_grid(const CalibrationField& field, const GridScan& scan) {
  const std::size_t n = scan.n();
  double best = -std::numeric_limits<double>::infinity();
  for (double v : scan.log_like)
    if (std::isfinite(v)) best = std::max(best, v);
  if (!std::isfinite(best)) throw InvalidArgument("grid posterior: no finite log L value");
  // Marginals: sigma_8 along rows, Omega_m along columns.
  std::vector<double> omega_m(n, 0.0), sigma_8(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = scan.log_like_at(i, j);
      const double w = std::isfinite(v) ? std::exp(v - best) : 0.0;
      omega_m[j] += w;
      sigma_8[i] += w;
    }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  FieldCalibration out;
  out.index = field.index;
  const std::vector<double>* axes[2] = {&scan.omega_m, &scan.sigma_8};
  const std::vector<double>* marginals[2] = {&omega_m, &sigma_8};
  for (std::size_t p = 0; p < 2; ++p) {
    const std::vector<double>& x = *axes[p];
    const std::vector<double>& w = *marginals[p];
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    double mean = 0.0, variance = 0.0;
    for (std::size_t j = 0; j < n; ++j) mean += w[j] * x[j] / total;
    for (std::size_t j = 0; j < n; ++j) variance += w[j] * (x[j] - mean) * (x[j] - mean) / total;
    ParameterCheck c;
    c.truth = p < field.truth.size() ? field.truth[p] : nan;
    c.mean = mean;
    c.sd = std::sqrt(variance);
    c.z = (c.mean - c.truth) / c.sd;
    const double inner_tail = 50.0 * (1.0 - kCalibrationInner);
    const double outer_tail = 50.0 * (1.0 - kCalibrationOuter);
    c.inner_lo = grid_marginal_percentile(x, w, inner_tail);
    c.inner_hi = grid_marginal_percentile(x, w, 100.0 - inner_tail);
    c.outer_lo = grid_marginal_percentile(x, w, outer_tail);
    c.outer_hi = grid_marginal_percentile(x, w, 100.0 - outer_tail);
    c.inside_inner = c.truth >= c.inner_lo && c.truth <= c.inner_hi;
    c.inside_outer = c.truth >= c.outer_lo && c.truth <= c.outer_hi;
    c.r_hat = nan;
    c.ess_bulk = nan;
    out.parameters.push_back(c);
  }
  return out;
}

}  // namespace ds
