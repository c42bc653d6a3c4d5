#include "diffuscope/report/posterior_grid.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_posterior.h"

namespace ds {

namespace {

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> x(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) x[std::size_t(i)] = lo + (hi - lo) * double(i) / double(n - 1);
  x.back() = hi;
  return x;
}

// Evaluates the likelihood on the n x n grid of the two axes, one row (a sigma_8 value) per batch.
GridScan evaluate_grid(const LogDensity& likelihood, std::vector<double> omega_m,
                       std::vector<double> sigma_8, const JobContext& job) {
  GridScan scan;
  const std::size_t n = omega_m.size();
  scan.settings.n = int(n);
  scan.omega_m = std::move(omega_m);
  scan.sigma_8 = std::move(sigma_8);
  scan.log_like.assign(n * n, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> thetas(2 * n), values;
  for (std::size_t i = 0; i < n; ++i) {
    job.check_cancelled();
    for (std::size_t j = 0; j < n; ++j) {
      thetas[2 * j] = scan.omega_m[j];
      thetas[2 * j + 1] = scan.sigma_8[i];
    }
    likelihood.evaluate(thetas, n, values, nullptr);
    for (std::size_t j = 0; j < n; ++j) scan.log_like[i * n + j] = values[j];
  }
  finish_grid_maps(scan);
  return scan;
}

double step_of(const std::vector<double>& axis) {
  return (axis.back() - axis.front()) / double(axis.size() - 1);
}

// A quadratic fitted to the 3 x 3 points around the maximum (shifted inwards at the border):
// ln L ~ c + g.x + x^T A x / 2 gives the marginal sds, sqrt of the diagonal of -A^-1, and the
// peak x - A^-1 g (kept within one step of the best point). NaN sds when not concave.
struct QuadraticFit {
  std::array<double, 2> sd{}, peak{};
};

QuadraticFit quadratic_fit(const GridScan& scan) {
  const std::size_t n = scan.n();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  QuadraticFit fit;
  fit.sd = {nan, nan};
  fit.peak = {scan.maximum.omega_m, scan.maximum.sigma_8};
  const std::size_t r = std::clamp<std::size_t>(scan.maximum.row, 1, n - 2);
  const std::size_t c = std::clamp<std::size_t>(scan.maximum.column, 1, n - 2);
  const double hx = step_of(scan.omega_m), hy = step_of(scan.sigma_8);
  auto L = [&](int di, int dj) { return scan.log_like_at(r + di, c + dj); };
  for (int di = -1; di <= 1; ++di)
    for (int dj = -1; dj <= 1; ++dj)
      if (!std::isfinite(L(di, dj))) return fit;
  const double axx = (L(0, 1) + L(0, -1) - 2 * L(0, 0)) / (hx * hx);
  const double ayy = (L(1, 0) + L(-1, 0) - 2 * L(0, 0)) / (hy * hy);
  const double axy = (L(1, 1) - L(1, -1) - L(-1, 1) + L(-1, -1)) / (4 * hx * hy);
  const double gx = (L(0, 1) - L(0, -1)) / (2 * hx), gy = (L(1, 0) - L(-1, 0)) / (2 * hy);
  const double det = axx * ayy - axy * axy;
  if (!(axx < 0 && ayy < 0 && det > 0)) return fit;
  // -A^-1 = [[-ayy, axy], [axy, -axx]] / det
  fit.sd = {std::sqrt(-ayy / det), std::sqrt(-axx / det)};
  const double dx = -(ayy * gx - axy * gy) / det, dy = -(-axy * gx + axx * gy) / det;
  fit.peak = {
      std::clamp(scan.omega_m[c] + dx, scan.maximum.omega_m - hx, scan.maximum.omega_m + hx),
      std::clamp(scan.sigma_8[r] + dy, scan.maximum.sigma_8 - hy, scan.maximum.sigma_8 + hy)};
  return fit;
}

// The region -2 Delta ln L <= level on the grid: its extent per parameter, and whether it
// reaches the first or last row / column on a side that is not the prior's edge (the window cuts
// it there).
struct RegionExtent {
  std::array<double, 2> lo{}, hi{};
  std::array<bool, 2> cut_lo{}, cut_hi{};
  bool cut(std::size_t p) const { return cut_lo[p] || cut_hi[p]; }
};

RegionExtent region_extent(const GridScan& scan, const Prior& prior, double level) {
  const std::size_t n = scan.n();
  const double tol = 1e-12;
  const bool om_lo_free = scan.omega_m.front() > prior.omega_m.lo + tol;
  const bool om_hi_free = scan.omega_m.back() < prior.omega_m.hi - tol;
  const bool s8_lo_free = scan.sigma_8.front() > prior.sigma_8.lo + tol;
  const bool s8_hi_free = scan.sigma_8.back() < prior.sigma_8.hi - tol;
  RegionExtent r;
  r.lo = {scan.maximum.omega_m, scan.maximum.sigma_8};
  r.hi = r.lo;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double d = scan.delta_chi2[i * n + j];
      if (!(d <= level)) continue;
      r.lo[0] = std::min(r.lo[0], scan.omega_m[j]);
      r.hi[0] = std::max(r.hi[0], scan.omega_m[j]);
      r.lo[1] = std::min(r.lo[1], scan.sigma_8[i]);
      r.hi[1] = std::max(r.hi[1], scan.sigma_8[i]);
      if (j == 0 && om_lo_free) r.cut_lo[0] = true;
      if (j == n - 1 && om_hi_free) r.cut_hi[0] = true;
      if (i == 0 && s8_lo_free) r.cut_lo[1] = true;
      if (i == n - 1 && s8_hi_free) r.cut_hi[1] = true;
    }
  return r;
}

// The climb of PosteriorGridSettings::climb: the maximum found, its -2 ln L curvature as marginal
// sds (NaN when the last stencil is not concave) and the last stencil's spacing.
struct Climb {
  std::array<double, 2> centre{}, sd{}, h{};
  std::size_t evaluations = 0;
};

Climb climb_to_maximum(const LogDensity& likelihood, std::array<double, 2> centre, double value,
                       std::array<double, 2> h, const PosteriorGridSettings& s,
                       const JobContext& job) {
  const Interval box[2] = {s.prior.omega_m, s.prior.sigma_8};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Climb out;
  std::array<double, 9> stencil{};  // [(dj + 1) * 3 + (di + 1)]: dj along sigma_8
  bool peaked = false;              // the centre beat its whole last stencil
  for (int iteration = 0; iteration < s.climb_iterations; ++iteration) {
    job.check_cancelled();
    std::vector<double> thetas, values;
    std::vector<std::array<int, 2>> offsets;
    for (int dj = -1; dj <= 1; ++dj)
      for (int di = -1; di <= 1; ++di) {
        if (di == 0 && dj == 0) continue;
        const double x = centre[0] + di * h[0], y = centre[1] + dj * h[1];
        if (x < box[0].lo || x > box[0].hi || y < box[1].lo || y > box[1].hi) continue;
        thetas.push_back(x);
        thetas.push_back(y);
        offsets.push_back({di, dj});
      }
    likelihood.evaluate(thetas, offsets.size(), values, nullptr);
    out.evaluations += offsets.size();
    stencil.fill(nan);
    stencil[4] = value;
    std::size_t best = offsets.size();
    double best_value = value;
    double spread = 0.0;  // largest -2 Delta ln L of a neighbour
    for (std::size_t k = 0; k < offsets.size(); ++k) {
      const double v = std::isfinite(values[k]) ? values[k] : -HUGE_VAL;
      stencil[std::size_t((offsets[k][1] + 1) * 3 + offsets[k][0] + 1)] = v;
      spread = std::max(spread, 2.0 * (value - v));
      if (v > best_value) best = k, best_value = v;
    }
    if (best < offsets.size()) {  // move, same spacing
      centre = {centre[0] + offsets[best][0] * h[0], centre[1] + offsets[best][1] * h[1]};
      value = best_value;
      continue;
    }
    peaked = true;
    if (spread < 8.0 ||
        (h[0] < 1e-5 * (box[0].hi - box[0].lo) && h[1] < 1e-5 * (box[1].hi - box[1].lo)))
      break;
    h = {0.5 * h[0], 0.5 * h[1]};
  }
  out.centre = centre;
  out.h = h;
  out.sd = {nan, nan};
  // The quadratic of the last stencil (complete only away from the box's edges).
  const auto L = [&](int di, int dj) { return stencil[std::size_t((dj + 1) * 3 + di + 1)]; };
  bool complete = peaked;
  for (double v : stencil) complete = complete && std::isfinite(v) && v > -HUGE_VAL;
  if (complete) {
    const double axx = (L(1, 0) + L(-1, 0) - 2 * L(0, 0)) / (h[0] * h[0]);
    const double ayy = (L(0, 1) + L(0, -1) - 2 * L(0, 0)) / (h[1] * h[1]);
    const double axy = (L(1, 1) - L(1, -1) - L(-1, 1) + L(-1, -1)) / (4 * h[0] * h[1]);
    const double det = axx * ayy - axy * axy;
    if (axx < 0 && ayy < 0 && det > 0) out.sd = {std::sqrt(-ayy / det), std::sqrt(-axx / det)};
  }
  return out;
}

}  // namespace

GridMarginal grid_marginal(const GridScan& scan, std::size_t parameter) {
  const std::size_t n = scan.n();
  double best = -std::numeric_limits<double>::infinity();
  for (double v : scan.log_like)
    if (std::isfinite(v)) best = std::max(best, v);
  if (!std::isfinite(best)) throw InvalidArgument("grid marginal: no finite log L value");
  GridMarginal m;
  m.axis = parameter == 0 ? scan.omega_m : scan.sigma_8;
  m.weights.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = scan.log_like_at(i, j);
      m.weights[parameter == 0 ? j : i] += std::isfinite(v) ? std::exp(v - best) : 0.0;
    }
  const double total = std::accumulate(m.weights.begin(), m.weights.end(), 0.0);
  for (double& w : m.weights) w /= total;
  return m;
}

double grid_marginal_cdf(const GridMarginal& marginal, double x) {
  const std::size_t n = marginal.axis.size();
  if (n < 2 || marginal.weights.size() != n)
    throw InvalidArgument("grid marginal CDF: need >= 2 points and one weight each");
  if (x < marginal.axis.front()) return 0.0;
  if (x > marginal.axis.back()) return 1.0;
  const double step = step_of(marginal.axis);
  double total = 0.0, below = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    total += marginal.weights[j];
    const double f = std::clamp((x - (marginal.axis[j] - 0.5 * step)) / step, 0.0, 1.0);
    below += f * marginal.weights[j];
  }
  return below / total;
}

PosteriorGrid refine_posterior_grid(const LogDensity& likelihood, const PosteriorGridSettings& s,
                                    const JobContext& job) {
  if (likelihood.dimension() != 2)
    throw InvalidArgument("posterior grid: the likelihood must have 2 parameters, not " +
                          std::to_string(likelihood.dimension()));
  if (s.coarse_points < 3 || s.window_points < 5 || s.max_levels < 1 || !(s.window_sigmas > 0) ||
      !(s.cells_per_sd > 0) || s.climb_iterations < 1)
    throw InvalidArgument(
        "posterior grid: need coarse_points >= 3, window_points >= 5, max_levels >= 1, "
        "climb_iterations >= 1 and positive window_sigmas and cells_per_sd");
  const Prior& prior = s.prior;
  PosteriorGrid out;
  out.scan =
      evaluate_grid(likelihood, linspace(prior.omega_m.lo, prior.omega_m.hi, s.coarse_points),
                    linspace(prior.sigma_8.lo, prior.sigma_8.hi, s.coarse_points), job);
  out.evaluations = std::size_t(s.coarse_points) * s.coarse_points;
  int first_level = 0;
  if (s.climb) {
    const GridScan& coarse = out.scan;
    const Climb c = climb_to_maximum(
        likelihood, {coarse.maximum.omega_m, coarse.maximum.sigma_8}, coarse.maximum.log_like,
        {0.5 * step_of(coarse.omega_m), 0.5 * step_of(coarse.sigma_8)}, s, job);
    out.climb_evaluations = c.evaluations;
    out.evaluations += c.evaluations;
    const Interval box[2] = {prior.omega_m, prior.sigma_8};
    std::vector<double> axes[2];
    for (std::size_t p = 0; p < 2; ++p) {
      // The fitted sd (a marginal sd along a ridge may be many stencil spacings), at least a
      // quarter of the last spacing; the spacing when the stencil was not concave.
      const double sd = std::isfinite(c.sd[p])
                            ? std::clamp(c.sd[p], 0.25 * c.h[p], 0.5 * (box[p].hi - box[p].lo))
                            : c.h[p];
      const double half = std::max(s.window_sigmas * sd, 1e-6 * (box[p].hi - box[p].lo));
      double lo = std::max(box[p].lo, c.centre[p] - half);
      double hi = std::min(box[p].hi, c.centre[p] + half);
      if (lo == box[p].lo) hi = std::min(box[p].hi, lo + 2.0 * half);
      if (hi == box[p].hi) lo = std::max(box[p].lo, hi - 2.0 * half);
      axes[p] = linspace(lo, hi, s.window_points);
    }
    out.scan = evaluate_grid(likelihood, axes[0], axes[1], job);
    out.evaluations += std::size_t(s.window_points) * s.window_points;
    out.levels = first_level = 1;
  }
  const CalibrationField no_truth{0, {}};
  for (int level = first_level;; ++level) {
    const GridScan& scan = out.scan;
    const FieldCalibration moments = check_grid(no_truth, scan);
    const std::array<double, 2> steps{step_of(scan.omega_m), step_of(scan.sigma_8)};
    // The 2-sigma region sizes the next window; a window cuts the posterior when its 1-sigma
    // region reaches a free edge (a window of +-2.75 sd may clip the far 2-sigma contour of a
    // skewed posterior, which moves its intervals by little; refining it would not end).
    const RegionExtent region = region_extent(scan, prior, kTwoSigmaDeltaChi2);
    const RegionExtent core = region_extent(scan, prior, kOneSigmaDeltaChi2);
    bool resolved = true;
    for (std::size_t p = 0; p < 2; ++p)
      resolved = resolved && moments.parameters[p].sd >= s.cells_per_sd * steps[p] && !core.cut(p);
    if (level > 0 && resolved) {
      out.resolved = true;
      break;
    }
    if (level >= s.max_levels) break;
    const QuadraticFit fit = quadratic_fit(scan);
    const std::array<std::pair<double, double>, 2> current{
        std::pair{scan.omega_m.front(), scan.omega_m.back()},
        std::pair{scan.sigma_8.front(), scan.sigma_8.back()}};
    const Interval box[2] = {prior.omega_m, prior.sigma_8};
    std::vector<double> axes[2];
    for (std::size_t p = 0; p < 2; ++p) {
      // The grid's own sd once it spans half a step or more; below that the quadratic's, kept
      // within [step / 20, step] (a peak between grid points lies within one step of the best
      // one), else a third of a step.
      double sd = moments.parameters[p].sd;
      const bool sampled = sd >= 0.5 * steps[p];
      if (!sampled)
        sd = std::isfinite(fit.sd[p]) ? std::clamp(fit.sd[p], 0.05 * steps[p], steps[p])
                                      : steps[p] / 3.0;
      // Centre: the maximum of a sampled posterior, the fitted peak of an unresolved one.
      const double centre =
          std::clamp(sampled ? (p == 0 ? scan.maximum.omega_m : scan.maximum.sigma_8) : fit.peak[p],
                     box[p].lo, box[p].hi);
      const double half = std::max(s.window_sigmas * sd, 1e-6 * (box[p].hi - box[p].lo));
      double lo = centre - half, hi = centre + half;
      // A posterior sampled by this grid keeps its whole 2-sigma region in the window (a skewed
      // or prior-truncated one reaches further than +-3 sd from its maximum) ...
      if (sampled) {
        lo = std::min(lo, region.lo[p]);
        hi = std::max(hi, region.hi[p]);
      }
      // ... and a window that cut the region grows past it by the width of this one.
      const double width = current[p].second - current[p].first;
      if (core.cut_lo[p]) lo = std::min(lo, current[p].first - width);
      if (core.cut_hi[p]) hi = std::max(hi, current[p].second + width);
      lo = std::max(box[p].lo, lo);
      hi = std::min(box[p].hi, hi);
      if (!(hi - lo >= 2.0 * half)) {  // clipped at an edge: keep the window's width inside
        if (lo == box[p].lo) hi = std::min(box[p].hi, lo + 2.0 * half);
        if (hi == box[p].hi) lo = std::max(box[p].lo, hi - 2.0 * half);
      }
      axes[p] = linspace(lo, hi, s.window_points);
    }
    // The same window again (a posterior as wide as the box it fills) cannot get finer.
    if (axes[0].front() == current[0].first && axes[0].back() == current[0].second &&
        axes[1].front() == current[1].first && axes[1].back() == current[1].second &&
        int(axes[0].size()) == int(scan.n()))
      break;
    out.scan = evaluate_grid(likelihood, axes[0], axes[1], job);
    out.evaluations += std::size_t(s.window_points) * s.window_points;
    out.levels = level + 1;
  }
  return out;
}

}  // namespace ds
