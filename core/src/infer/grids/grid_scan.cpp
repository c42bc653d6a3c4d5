#include "diffuscope/infer/grids/grid_scan.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>

#include "diffuscope/error.h"
#include "diffuscope/runtime.h"
#include "infer/grids/grid_interpolant.h"
#include "infer/grids/grid_scan_format.h"

namespace ds {

using detail::grid_coarse_stride;

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

std::vector<double> axis(const Interval& box, double centre, const GridScanSettings& s) {
  const double lo = s.full_prior ? box.lo : std::max(centre - s.half_width, box.lo);
  const double hi = s.full_prior ? box.hi : std::min(centre + s.half_width, box.hi);
  std::vector<double> out(std::size_t(s.n));
  for (int j = 0; j < s.n; ++j) out[std::size_t(j)] = lo + (hi - lo) * double(j) / double(s.n - 1);
  out.back() = hi;
  return out;
}

// Evaluates a batch of grid points; the terms come from the density's per-step terms (a VLB's
// last evaluation) when it has them.
class BatchEvaluator {
 public:
  explicit BatchEvaluator(const LogDensity& density)
      : density_(density), terms_(density.step_terms()) {}

  std::size_t terms_per_point() const {
    return terms_ ? terms_->step_terms_settings().terms_per_point : 0;
  }

  void fill_provenance(GridScanProvenance& p) const {
    if (!terms_) return;
    const StepTermsSettings s = terms_->step_terms_settings();
    p.t_max = s.t_max;
    p.prior_term = s.prior_term;
    p.noise = s.noise;
    p.draws = s.draws;
    p.seed = s.seed;
  }

  // thetas [batch, 2] -> log_like [batch], terms [batch, terms_per_point].
  void evaluate(const std::vector<double>& thetas, std::vector<double>& log_like,
                std::vector<double>& terms) const {
    const std::size_t batch = thetas.size() / 2;
    density_.evaluate(thetas, batch, log_like, nullptr);
    terms.clear();
    if (!terms_) return;
    terms = terms_->last_step_terms(batch);
    // Not evaluated (a non-finite point): its terms are unknown.
    if (terms.empty())
      terms.assign(batch * terms_per_point(), std::numeric_limits<double>::quiet_NaN());
  }

 private:
  const LogDensity& density_;
  const StepTerms* terms_;
};

}  // namespace

const char* refine_target_name(GridScanSettings::RefineTarget target) {
  return target == GridScanSettings::RefineTarget::Contours ? "contours" : "region";
}

GridScanSettings::RefineTarget parse_refine_target(const std::string& text) {
  if (text == "region") return GridScanSettings::RefineTarget::Region;
  if (text == "contours") return GridScanSettings::RefineTarget::Contours;
  throw InvalidArgument("grid scan: refine target '" + text + "'; choose region or contours");
}

void validate_grid_settings(const GridScanSettings& s) {
  if (s.n < 2 || s.n > 4096)
    throw InvalidArgument("grid scan: " + std::to_string(s.n) +
                          " points per axis; choose between 2 and 4096");
  if (!(s.contour_safety >= 1.0) || !std::isfinite(s.contour_safety))
    throw InvalidArgument("grid scan: contour safety factor " + number(s.contour_safety) +
                          " must be finite and at least 1");
  if (!(s.contour_tolerance >= 0.0) || !std::isfinite(s.contour_tolerance))
    throw InvalidArgument("grid scan: contour tolerance " + number(s.contour_tolerance) +
                          " must be finite and at least 0");
  if (s.coarse_stride < 0)
    throw InvalidArgument("grid scan: coarse stride " + std::to_string(s.coarse_stride) +
                          " must be >= 0");
  const Prior& p = s.prior;
  if (!(p.omega_m.lo < p.omega_m.hi) || !(p.sigma_8.lo < p.sigma_8.hi))
    throw InvalidArgument("grid scan: the prior box is empty");
  if (s.full_prior) return;
  if (!std::isfinite(s.half_width) || !(s.half_width > 0.0))
    throw InvalidArgument("grid scan: half-width " + number(s.half_width) +
                          " must be positive and finite");
  if (!std::isfinite(s.center_omega_m) || !p.omega_m.contains(s.center_omega_m))
    throw InvalidArgument("grid scan: centre Omega_m = " + number(s.center_omega_m) +
                          " is outside the prior [" + number(p.omega_m.lo) + ", " +
                          number(p.omega_m.hi) + "]");
  if (!std::isfinite(s.center_sigma_8) || !p.sigma_8.contains(s.center_sigma_8))
    throw InvalidArgument("grid scan: centre sigma_8 = " + number(s.center_sigma_8) +
                          " is outside the prior [" + number(p.sigma_8.lo) + ", " +
                          number(p.sigma_8.hi) + "]");
}

std::vector<double> grid_axis_omega_m(const GridScanSettings& settings) {
  validate_grid_settings(settings);
  return axis(settings.prior.omega_m, settings.center_omega_m, settings);
}

std::vector<double> grid_axis_sigma_8(const GridScanSettings& settings) {
  validate_grid_settings(settings);
  return axis(settings.prior.sigma_8, settings.center_sigma_8, settings);
}

namespace {

// Exact contours: cells are refined as for a contour tolerance of this much -2 Delta ln L, then
// the points left in doubt are evaluated one by one (on the default model's +-0.06 window and on
// a curved test posterior, 0.1-0.2 needed the fewest evaluations; 0.5 and 0.02 up to twice as
// many).
constexpr double kExactContourCells = 0.1;

// The adaptive scan of grid_scan.h: coarse sub-grid, then cells halved level by level where the
// target asks (Region: near the best value; Contours: where a contour level or the maximum can
// lie), the rest interpolated. `evaluate` and `update_for` are scan_likelihood_grid's.
template <class Evaluate, class UpdateFor>
void scan_adaptively(GridScan& scan, const GridScanSettings& settings, std::size_t batch,
                     std::vector<char>& known, std::size_t& known_count, Evaluate& evaluate,
                     UpdateFor& update_for, const JobContext& job,
                     const PartialResultCallback<GridScanUpdate>& on_update) {
  const std::size_t n = scan.n(), total = n * n, tp = scan.terms_per_point;
  const bool contours = settings.refine_target == GridScanSettings::RefineTarget::Contours;
  std::size_t stride = 2;
  while (stride * 2 <= (n - 1) / 6) stride *= 2;
  std::vector<std::size_t> marks;  // coarse indices per axis
  for (std::size_t i = 0; i < n - 1; i += stride) marks.push_back(i);
  marks.push_back(n - 1);

  struct Cell {
    std::size_t i0, i1, j0, j1;  // rows i0..i1, columns j0..j1 (corners included)
    std::size_t size() const { return std::max(i1 - i0, j1 - j0); }
  };
  std::vector<Cell> cells, leaves;
  for (std::size_t a = 0; a + 1 < marks.size(); ++a)
    for (std::size_t b = 0; b + 1 < marks.size(); ++b)
      cells.push_back({marks[a], marks[a + 1], marks[b], marks[b + 1]});

  auto run = [&](std::vector<std::size_t>& points, GridScanStage stage, const char* what) {
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    for (std::size_t first = 0; first < points.size(); first += batch) {
      job.report(std::int64_t(known_count), std::int64_t(total), what);
      evaluate(points.data() + first, std::min(batch, points.size() - first));
    }
    if (on_update && !points.empty()) on_update(update_for(stage, 0, points));
  };
  std::vector<std::size_t> points;
  for (std::size_t i : marks)
    for (std::size_t j : marks) points.push_back(i * n + j);
  run(points, GridScanStage::Coarse, "adaptive likelihood grid: coarse pass");

  // Contours: the largest |exact - interpolated| in -2 Delta ln L measured inside cells of each
  // size (by Cell::size()), times the safety factor; absent until cells of that size were halved.
  // The interpolant is the spline of grid_interpolant.h through every exact value known (index
  // coordinates scaled to [0, 1]); `spline` is refitted before each level.
  std::map<std::size_t, double> tolerance;
  const double unit = 1.0 / double(n - 1);
  std::unique_ptr<detail::GridInterpolant> spline;
  const auto fit_spline = [&](std::size_t columns) {
    std::vector<double> at, values;
    for (std::size_t p = 0; p < total; ++p) {
      if (!known[p] || !std::isfinite(scan.log_like[p])) continue;
      bool finite = true;
      for (std::size_t t = 1; t < columns; ++t)
        finite = finite && std::isfinite(scan.terms[(t - 1) * total + p]);
      if (!finite) continue;
      at.push_back(double(p % n) * unit);
      at.push_back(double(p / n) * unit);
      values.push_back(scan.log_like[p]);
      for (std::size_t t = 1; t < columns; ++t) values.push_back(scan.terms[(t - 1) * total + p]);
    }
    spline.reset();
    try {
      spline = std::make_unique<detail::GridInterpolant>(at, values, columns);
    } catch (const InvalidArgument&) {
      // Too few finite points to determine a quadratic: cells are then judged by the region rule.
    }
  };
  const auto predicted = [&](std::size_t p) {
    if (known[p]) return scan.log_like[p];
    return spline ? spline->value(double(p % n) * unit, double(p / n) * unit)
                  : std::numeric_limits<double>::quiet_NaN();
  };
  const double levels[] = {kOneSigmaDeltaChi2, kTwoSigmaDeltaChi2};
  // Cells a contour crosses stay whole once their size's error is within cell_tolerance: the
  // setting, or for exact contours kExactContourCells, after which every point that could lie on
  // the other side of a contour is evaluated by itself (below).
  const double cell_tolerance =
      settings.contour_tolerance > 0.0 ? settings.contour_tolerance : kExactContourCells;
  const auto tolerance_at = [&](std::size_t size) {
    const auto measured = tolerance.lower_bound(size);
    if (measured == tolerance.end()) return std::numeric_limits<double>::infinity();
    const double ratio = double(size) / double(measured->first);
    return measured->second * ratio * ratio;
  };
  const auto best_known = [&] {
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < total; ++p)
      if (known[p] && std::isfinite(scan.log_like[p])) best = std::max(best, scan.log_like[p]);
    return best;
  };
  // Adds the error of a prediction made before `p` was evaluated to tolerance[size]; only points
  // within refine_level count (the error far out on the likelihood's flanks says nothing about
  // the contours).
  const auto measure = [&](std::size_t size, std::size_t p, double guess, double best) {
    const double exact = scan.log_like[p];
    if (!std::isfinite(exact) || !std::isfinite(guess)) return;
    if (2.0 * (best - exact) > settings.refine_level) return;
    double& tol = tolerance[size];
    tol = std::max(tol, settings.contour_safety * 2.0 * std::abs(exact - guess));
  };
  // The coarse grid measures its own error first: each interior coarse point near the best value
  // is predicted by the spline through the other coarse points (a hole two coarse steps wide),
  // so the first level is judged like the later ones.
  if (contours) {
    const double best = best_known();
    for (std::size_t a = 1; a + 2 < marks.size(); ++a)
      for (std::size_t b = 1; b + 2 < marks.size(); ++b) {
        const std::size_t left_out = marks[a] * n + marks[b];
        if (!std::isfinite(scan.log_like[left_out]) ||
            2.0 * (best - scan.log_like[left_out]) > settings.refine_level)
          continue;
        known[left_out] = 0;
        fit_spline(1);
        known[left_out] = 1;
        if (spline)
          measure(2 * stride, left_out,
                  spline->value(double(marks[b]) * unit, double(marks[a]) * unit), best);
      }
  }

  while (!cells.empty()) {
    const double best = best_known();
    if (contours) fit_spline(1);
    // Region (and a cell size not measured yet): a cell is refined when a corner lies within
    // refine_level, or when it shares a corner with such a cell: the one-cell margin catches
    // ridges narrower than a cell that pass between the corners of a neighbour of the cells they
    // are seen in. Contours, size measured: when the interpolated values of its grid points,
    // widened by the size's tolerance, reach the maximum or, unless that tolerance is within
    // cell_tolerance (contour_tolerance, or kExactContourCells for exact contours), a contour
    // level.
    std::vector<char> near(total, 0);
    std::vector<char> flagged(cells.size(), 0), by_region(cells.size(), 0);
    for (std::size_t k = 0; k < cells.size(); ++k) {
      const Cell& c = cells[k];
      // A size not halved yet takes the error measured at the next larger size, scaled by the
      // square of the ratio of sizes (how the bilinear interpolation error of a smooth function
      // shrinks; the spline's error shrinks faster). Once cells of the size are halved their own
      // error replaces it, and the cells of that size left whole are judged again with it at the
      // next level.
      const double tol = tolerance_at(c.size());
      if (contours && spline && std::isfinite(tol)) {
        bool all_finite = true, any_finite = false;
        for (std::size_t i : {c.i0, c.i1})
          for (std::size_t j : {c.j0, c.j1}) {
            const bool finite = std::isfinite(scan.log_like[i * n + j]);
            all_finite = all_finite && finite;
            any_finite = any_finite || finite;
          }
        if (!any_finite) continue;
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        if (all_finite)
          for (std::size_t i = c.i0; i <= c.i1; ++i)
            for (std::size_t j = c.j0; j <= c.j1; ++j) {
              const double v = 2.0 * (best - predicted(i * n + j));
              lo = std::min(lo, v);
              hi = std::max(hi, v);
            }
        bool reach = lo - tol <= 0.0;  // the maximum may lie inside
        if (!(tol <= cell_tolerance))
          for (double level : levels) reach = reach || (lo - tol <= level && level <= hi + tol);
        // A cell with a non-finite corner cannot be interpolated: refined when near.
        if (!all_finite) {
          reach = false;
          for (std::size_t i : {c.i0, c.i1})
            for (std::size_t j : {c.j0, c.j1}) {
              const double v = scan.log_like[i * n + j];
              reach = reach || (std::isfinite(v) && 2.0 * (best - v) <= settings.refine_level);
            }
        }
        flagged[k] = reach ? 1 : 0;
        continue;
      }
      by_region[k] = 1;
      for (std::size_t i : {c.i0, c.i1})
        for (std::size_t j : {c.j0, c.j1}) {
          const double v = scan.log_like[i * n + j];
          if (std::isfinite(v) && 2.0 * (best - v) <= settings.refine_level) flagged[k] = 1;
        }
      if (flagged[k])
        for (std::size_t i : {c.i0, c.i1})
          for (std::size_t j : {c.j0, c.j1}) near[i * n + j] = 1;
    }
    std::vector<Cell> next;
    std::vector<std::pair<std::size_t, std::size_t>> gained;  // (parent cell size, new point)
    bool halved = false;
    points.clear();
    for (std::size_t k = 0; k < cells.size(); ++k) {
      const Cell& c = cells[k];
      if (c.i1 - c.i0 <= 1 && c.j1 - c.j0 <= 1) {
        leaves.push_back(c);
        continue;
      }
      bool refine = flagged[k] != 0;
      if (by_region[k])
        for (std::size_t i : {c.i0, c.i1})
          for (std::size_t j : {c.j0, c.j1}) refine = refine || near[i * n + j];
      if (!refine) {
        // Region: final. Contours: checked again at the next level against its best value.
        (contours ? next : leaves).push_back(c);
        continue;
      }
      halved = true;
      const std::size_t im = (c.i0 + c.i1) / 2, jm = (c.j0 + c.j1) / 2;
      std::vector<std::pair<std::size_t, std::size_t>> rows{{c.i0, c.i1}}, columns{{c.j0, c.j1}};
      if (c.i1 - c.i0 >= 2) rows = {{c.i0, im}, {im, c.i1}};
      if (c.j1 - c.j0 >= 2) columns = {{c.j0, jm}, {jm, c.j1}};
      for (const auto& r : rows)
        for (const auto& col : columns) {
          next.push_back({r.first, r.second, col.first, col.second});
          for (std::size_t i : {r.first, r.second})
            for (std::size_t j : {col.first, col.second})
              if (!known[i * n + j]) {
                points.push_back(i * n + j);
                gained.emplace_back(c.size(), i * n + j);
              }
        }
    }
    if (!halved) {  // Contours: nothing left to refine
      for (const Cell& c : next) leaves.push_back(c);
      break;
    }
    // The predictions of the points about to be evaluated, to measure the interpolation error
    // of each halved size (a point shared by cells of two sizes counts for both).
    std::vector<double> guesses;
    if (contours)
      for (const auto& g : gained) guesses.push_back(predicted(g.second));
    run(points, GridScanStage::Refine, "adaptive likelihood grid: refining");
    if (contours) {
      const double measured_best = best_known();
      for (std::size_t g = 0; g < gained.size(); ++g)
        measure(gained[g].first, gained[g].second, guesses[g], measured_best);
    }
    cells = std::move(next);
  }

  // Exact contours: every point whose interpolated -2 Delta ln L, widened by the error measured
  // for its cell's size, could be on the other side of a contour or be the maximum is evaluated,
  // pass by pass (each pass refits the spline and measures its error at the points it adds)
  // until none is left.
  if (contours && !(settings.contour_tolerance > 0.0)) {
    std::vector<std::size_t> leaf_size(total, 0);
    for (const Cell& c : leaves)
      for (std::size_t i = c.i0; i <= c.i1; ++i)
        for (std::size_t j = c.j0; j <= c.j1; ++j)
          leaf_size[i * n + j] = std::max(leaf_size[i * n + j], c.size());
    for (;;) {
      fit_spline(1);
      if (!spline) break;
      const double best = best_known();
      std::vector<std::size_t> open;
      std::vector<double> guesses;
      for (std::size_t p = 0; p < total; ++p) {
        if (known[p] || leaf_size[p] == 0) continue;
        const double guess = predicted(p), v = 2.0 * (best - guess);
        const double tol = tolerance_at(leaf_size[p]);
        bool reach = v - tol <= 0.0;
        for (double level : levels) reach = reach || (v - tol <= level && level <= v + tol);
        if (!reach) continue;
        open.push_back(p);
        guesses.push_back(guess);
      }
      if (open.empty()) break;
      std::vector<std::size_t> evaluate_now = open;
      run(evaluate_now, GridScanStage::Refine, "adaptive likelihood grid: contour points");
      const double measured_best = best_known();
      for (std::size_t k = 0; k < open.size(); ++k)
        measure(leaf_size[open[k]], open[k], guesses[k], measured_best);
    }
  }

  // Interpolate what was not evaluated: Contours from the spline through every exact value (log L
  // and each term), never above the best exact log L (cells where the maximum can lie were
  // evaluated); Region, and a cell with a non-finite corner, bilinear in index from the corners
  // of its leaf cell.
  scan.evaluated.assign(total, 0);
  for (std::size_t p = 0; p < total; ++p) scan.evaluated[p] = known[p] ? 1 : 0;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (contours) fit_spline(1 + tp);
  const double best = best_known();
  std::vector<double> column_values(1 + tp);
  for (const Cell& c : leaves) {
    const double di = double(c.i1 - c.i0), dj = double(c.j1 - c.j0);
    bool smooth = contours && spline;
    for (std::size_t i : {c.i0, c.i1})
      for (std::size_t j : {c.j0, c.j1}) smooth = smooth && std::isfinite(scan.log_like[i * n + j]);
    for (std::size_t i = c.i0; i <= c.i1; ++i)
      for (std::size_t j = c.j0; j <= c.j1; ++j) {
        const std::size_t p = i * n + j;
        if (known[p]) continue;
        if (smooth) {
          spline->values(double(j) * unit, double(i) * unit, column_values.data());
          scan.log_like[p] = std::min(column_values[0], best);
          for (std::size_t t = 0; t < tp; ++t) scan.terms[t * total + p] = column_values[1 + t];
          continue;
        }
        const double u = di > 0 ? double(i - c.i0) / di : 0.0;
        const double v = dj > 0 ? double(j - c.j0) / dj : 0.0;
        const auto mix = [&](const std::vector<double>& map, std::size_t offset) {
          const double a = map[offset + c.i0 * n + c.j0], b = map[offset + c.i0 * n + c.j1];
          const double d = map[offset + c.i1 * n + c.j0], e = map[offset + c.i1 * n + c.j1];
          return (1 - u) * ((1 - v) * a + v * b) + u * ((1 - v) * d + v * e);
        };
        scan.log_like[p] = mix(scan.log_like, 0);
        for (std::size_t t = 0; t < tp; ++t) scan.terms[t * total + p] = mix(scan.terms, t * total);
        if (!std::isfinite(scan.log_like[p])) scan.log_like[p] = nan;
      }
  }
  job.report(std::int64_t(total), std::int64_t(total), "adaptive likelihood grid: done");
  finish_grid_maps(scan);
}

}  // namespace

GridScan start_partial_grid_scan(const LogDensity& likelihood, const GridScanSettings& settings) {
  GridScan scan;
  BatchEvaluator(likelihood).fill_provenance(scan.provenance);
  scan.settings = settings;
  scan.omega_m = grid_axis_omega_m(settings);
  scan.sigma_8 = grid_axis_sigma_8(settings);
  scan.version = library_versions().diffuscope;
  const std::size_t total = scan.n() * scan.n();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  scan.log_like.assign(total, nan);
  scan.delta_chi2.assign(total, nan);
  scan.complete = false;
  return scan;
}

void apply_grid_update(GridScan& scan, const GridScanUpdate& u) {
  const std::size_t total = scan.n() * scan.n();
  if (u.log_like.size() != u.points.size() || u.terms.size() != u.points.size() * u.terms_per_point)
    throw InvalidArgument("grid scan update: the values do not match the points");
  if (u.terms_per_point > 0 && scan.terms.empty()) {
    scan.terms_per_point = u.terms_per_point;
    scan.terms.assign(u.terms_per_point * total, std::numeric_limits<double>::quiet_NaN());
  }
  for (std::size_t i = 0; i < u.points.size(); ++i) {
    const std::size_t p = u.points[i];
    if (p >= total) throw InvalidArgument("grid scan update: a point lies outside the grid");
    scan.log_like[p] = u.log_like[i];
    for (std::size_t t = 0; t < u.terms_per_point && t < scan.terms_per_point; ++t)
      scan.terms[t * total + p] = u.terms[i * u.terms_per_point + t];
  }
  scan.known_points = u.known;
  if (std::any_of(scan.log_like.begin(), scan.log_like.end(),
                  [](double v) { return std::isfinite(v); }))
    finish_grid_maps(scan);
}

GridScan scan_likelihood_grid(const LogDensity& likelihood, const GridScanSettings& settings,
                              const JobContext& job,
                              const PartialResultCallback<GridScanUpdate>& on_update) {
  const auto start = std::chrono::steady_clock::now();
  if (likelihood.dimension() != 2)
    throw InvalidArgument("grid scan: the density has " + std::to_string(likelihood.dimension()) +
                          " parameters; a grid spans (Omega_m, sigma_8)");
  GridScan scan;
  scan.settings = settings;
  scan.omega_m = grid_axis_omega_m(settings);
  scan.sigma_8 = grid_axis_sigma_8(settings);
  scan.version = library_versions().diffuscope;
  const BatchEvaluator evaluator(likelihood);
  evaluator.fill_provenance(scan.provenance);
  const std::size_t n = scan.n(), total = n * n, tp = evaluator.terms_per_point();
  scan.terms_per_point = tp;
  scan.log_like.assign(total, std::numeric_limits<double>::quiet_NaN());
  scan.terms.assign(tp * total, std::numeric_limits<double>::quiet_NaN());
  std::vector<char> known(total, 0);
  std::size_t known_count = 0;

  // The two passes as lists of flat indices, row-major within each.
  const auto k = std::size_t(grid_coarse_stride(settings));
  std::vector<std::size_t> coarse, fine;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      (k > 1 && i % k == 0 && j % k == 0 ? coarse : fine).push_back(i * n + j);
  const std::size_t batch = settings.batch_points > 0 ? settings.batch_points : n;

  std::vector<double> thetas, values, terms;
  auto evaluate = [&](const std::size_t* indices, std::size_t count) {
    job.check_cancelled();
    thetas.resize(2 * count);
    for (std::size_t b = 0; b < count; ++b) {
      thetas[2 * b] = scan.omega_m[indices[b] % n];
      thetas[2 * b + 1] = scan.sigma_8[indices[b] / n];
    }
    evaluator.evaluate(thetas, values, terms);
    for (std::size_t b = 0; b < count; ++b) {
      const std::size_t p = indices[b];
      scan.log_like[p] = values[b];
      for (std::size_t t = 0; t < tp; ++t) scan.terms[t * total + p] = terms[b * tp + t];
      known[p] = 1;
    }
    known_count += count;
  };
  auto update_for = [&](GridScanStage stage, std::size_t row, std::vector<std::size_t> points) {
    GridScanUpdate u;
    u.stage = stage;
    u.row = row;
    u.terms_per_point = tp;
    u.known = known_count;
    u.total = total;
    u.log_like.reserve(points.size());
    u.terms.reserve(points.size() * tp);
    for (std::size_t p : points) {
      u.log_like.push_back(scan.log_like[p]);
      for (std::size_t t = 0; t < tp; ++t) u.terms.push_back(scan.terms[t * total + p]);
    }
    u.points = std::move(points);
    return u;
  };

  if (settings.adaptive && n >= 5) {
    scan_adaptively(scan, settings, batch, known, known_count, evaluate, update_for, job,
                    on_update);
    scan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return scan;
  }

  for (std::size_t first = 0; first < coarse.size(); first += batch) {
    job.report(std::int64_t(known_count), std::int64_t(total), "likelihood grid: coarse pass");
    evaluate(coarse.data() + first, std::min(batch, coarse.size() - first));
  }
  // An update's `known` counts the points delivered so far (the coarse pass, then whole rows),
  // not those evaluated: a batch of the fine pass may reach into a row not yet complete, whose
  // points a partial file does not hold yet.
  std::size_t delivered = 0;
  if (!coarse.empty() && on_update) {
    delivered = coarse.size();
    GridScanUpdate u = update_for(GridScanStage::Coarse, 0, coarse);
    u.known = delivered;
    on_update(u);
  }

  std::size_t next_row = 0;  // rows before it have been streamed
  auto stream_complete_rows = [&] {
    while (next_row < n) {
      const std::size_t row = next_row;
      const bool complete =
          std::all_of(known.begin() + std::ptrdiff_t(row * n),
                      known.begin() + std::ptrdiff_t((row + 1) * n), [](char c) { return c != 0; });
      if (!complete) break;
      ++next_row;
      if (!on_update) continue;
      std::vector<std::size_t> points(n);
      for (std::size_t j = 0; j < n; ++j) {
        points[j] = row * n + j;
        if (!(k > 1 && row % k == 0 && j % k == 0)) ++delivered;  // not a coarse point
      }
      GridScanUpdate u = update_for(GridScanStage::Row, row, std::move(points));
      u.known = delivered;
      on_update(u);
    }
  };
  stream_complete_rows();
  for (std::size_t first = 0; first < fine.size(); first += batch) {
    job.report(std::int64_t(known_count), std::int64_t(total),
               "likelihood grid: row " + std::to_string(next_row + 1) + " of " + std::to_string(n));
    evaluate(fine.data() + first, std::min(batch, fine.size() - first));
    stream_complete_rows();
  }
  job.report(std::int64_t(total), std::int64_t(total), "likelihood grid: done");
  finish_grid_maps(scan);
  scan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return scan;
}

namespace {

class GridMapDensity : public LogDensity {
 public:
  explicit GridMapDensity(const GridScan& map) : map_(map) {}
  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    if (gradients) throw InvalidArgument("a replayed grid map has no gradient");
    values.resize(batch);
    for (std::size_t b = 0; b < batch; ++b)
      values[b] = map_.log_like_at(index(map_.sigma_8, thetas[2 * b + 1], "sigma_8"),
                                   index(map_.omega_m, thetas[2 * b], "Omega_m"));
  }
  std::vector<std::string> names() const override { return {"omega_m", "sigma_8"}; }

 private:
  static std::size_t index(const std::vector<double>& axis, double v, const char* name) {
    const double step = (axis.back() - axis.front()) / double(axis.size() - 1);
    const double at = std::round((v - axis.front()) / step);
    if (at >= 0 && at < double(axis.size()) && std::abs(axis[std::size_t(at)] - v) <= 1e-9 * step)
      return std::size_t(at);
    throw InvalidArgument(std::string("replayed grid map: ") + name + " = " + number(v) +
                          " is not a point of its axis");
  }
  GridScan map_;
};

}  // namespace

std::unique_ptr<LogDensity> grid_map_density(const GridScan& complete) {
  if (!complete.complete || complete.exact_points() != complete.n() * complete.n())
    throw InvalidArgument("a replayed grid map must be complete, every point evaluated");
  return std::make_unique<GridMapDensity>(complete);
}

GridScanComparison compare_grid_scans(const GridScan& scan, const GridScan& reference,
                                      double within) {
  const std::size_t n = scan.n();
  const auto same_axis = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    const double step = (a.back() - a.front()) / double(a.size() - 1);
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::abs(a[i] - b[i]) > 1e-9 * step) return false;
    return true;
  };
  if (!same_axis(scan.omega_m, reference.omega_m) || !same_axis(scan.sigma_8, reference.sigma_8))
    throw InvalidArgument("grid comparison: the two maps have different axes");
  GridScanComparison c;
  c.points = n * n;
  for (std::size_t p = 0; p < n * n; ++p) {
    const double a = scan.delta_chi2[p], b = reference.delta_chi2[p];
    for (const double level : {kOneSigmaDeltaChi2, kTwoSigmaDeltaChi2}) {
      if ((a <= level) == (b <= level)) continue;
      (level == kOneSigmaDeltaChi2 ? c.differ_one_sigma : c.differ_two_sigma) += 1;
      c.differ_margin =
          std::max(c.differ_margin, std::isfinite(b) ? std::abs(b - level)
                                                     : std::numeric_limits<double>::infinity());
    }
    if (!(a <= within) && !(b <= within)) continue;
    ++c.compared;
    const double d =
        std::isfinite(a - b) ? std::abs(a - b) : std::numeric_limits<double>::infinity();
    if (d > c.largest_difference || (c.compared == 1 && d == 0.0)) {
      c.largest_difference = d;
      c.largest_row = p / n;
      c.largest_column = p % n;
      c.largest_reference = b;
    }
  }
  c.same_maximum =
      scan.maximum.row == reference.maximum.row && scan.maximum.column == reference.maximum.column;
  return c;
}

GridContourExtent grid_contour_extent(const GridScan& scan, double level) {
  GridContourExtent e;
  const std::size_t n = scan.n();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double d = scan.delta_chi2[i * n + j];
      if (!(d <= level)) continue;  // NaN: outside
      const double om = scan.omega_m[j], s8 = scan.sigma_8[i];
      if (e.points == 0) {
        e.omega_m_lo = e.omega_m_hi = om;
        e.sigma_8_lo = e.sigma_8_hi = s8;
      }
      e.omega_m_lo = std::min(e.omega_m_lo, om);
      e.omega_m_hi = std::max(e.omega_m_hi, om);
      e.sigma_8_lo = std::min(e.sigma_8_lo, s8);
      e.sigma_8_hi = std::max(e.sigma_8_hi, s8);
      e.touches_edge = e.touches_edge || i == 0 || j == 0 || i + 1 == n || j + 1 == n;
      ++e.points;
    }
  return e;
}

}  // namespace ds
