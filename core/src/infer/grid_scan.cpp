#include "diffuscope/infer/grid_scan.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "data/hdf5_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/runtime.h"

namespace ds {

namespace {

constexpr const char* kFormat = "diffuscope-likelihood-grid";
constexpr const char* kLayout =
    "maps are [sigma_8, Omega_m]: row i = sigma_8[i], column j = Omega_m[j]; terms are "
    "[T, sigma_8, Omega_m]";

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

int coarse_stride(const GridScanSettings& s) {
  if (s.coarse_stride > 0) return s.coarse_stride;
  return std::max(2, s.n / 10);
}

// Evaluates a batch of grid points; the terms come from a VLB's last evaluation.
class BatchEvaluator {
 public:
  explicit BatchEvaluator(const LogDensity& density)
      : density_(density), vlb_(dynamic_cast<const VlbLogLikelihood*>(&density)) {}

  std::size_t terms_per_point() const {
    if (!vlb_) return 0;
    const auto& s = vlb_->vlb().settings();
    return std::size_t(s.t_max) + (s.include_prior_term ? 1 : 0);
  }

  void fill_provenance(GridScanProvenance& p) const {
    if (!vlb_) return;
    const auto& s = vlb_->vlb().settings();
    p.t_max = s.t_max;
    p.prior_term = s.include_prior_term;
    p.noise = kVlbNoiseModes.name(s.noise);
    p.draws = s.draws;
    p.seed = s.seed;
  }

  // thetas [batch, 2] -> log_like [batch], terms [batch, terms_per_point].
  void evaluate(const std::vector<double>& thetas, std::vector<double>& log_like,
                std::vector<double>& terms) const {
    const std::size_t batch = thetas.size() / 2;
    density_.evaluate(thetas, batch, log_like, nullptr);
    terms.clear();
    if (!vlb_) return;
    const VlbEvaluation last = vlb_->last_evaluation();
    const std::size_t t = terms_per_point();
    if (last.points == batch && last.terms.size() == batch * t) {
      terms = last.terms;
    } else {
      // Not evaluated (a non-finite point): its terms are unknown.
      terms.assign(batch * t, std::numeric_limits<double>::quiet_NaN());
    }
  }

 private:
  const LogDensity& density_;
  const VlbLogLikelihood* vlb_;
};

}  // namespace

void validate_grid_settings(const GridScanSettings& s) {
  if (s.n < 2 || s.n > 4096)
    throw InvalidArgument("grid scan: " + std::to_string(s.n) +
                          " points per axis; choose between 2 and 4096");
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

void finish_grid_maps(GridScan& scan) {
  const std::size_t n = scan.n();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  bool found = false;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = scan.log_like[i * n + j];
      if (std::isfinite(v) && (!found || v > scan.maximum.log_like)) {
        scan.maximum = {i, j, scan.omega_m[j], scan.sigma_8[i], v};
        found = true;
      }
    }
  if (!found) throw InvalidArgument("grid scan: no grid point has a finite log-likelihood");
  scan.delta_chi2.assign(n * n, nan);
  for (std::size_t k = 0; k < n * n; ++k)
    if (std::isfinite(scan.log_like[k]))
      scan.delta_chi2[k] = 2.0 * (scan.maximum.log_like - scan.log_like[k]);
}

std::size_t GridScan::exact_points() const {
  if (evaluated.empty()) return log_like.size();
  return std::size_t(std::count(evaluated.begin(), evaluated.end(), std::uint8_t(1)));
}

namespace {

// The adaptive scan of grid_scan.h: coarse sub-grid, then cells near the best value halved level
// by level, the rest interpolated. `evaluate` and `update_for` are scan_likelihood_grid's.
template <class Evaluate, class UpdateFor>
void scan_adaptively(GridScan& scan, const GridScanSettings& settings, std::size_t batch,
                     std::vector<char>& known, std::size_t& known_count, Evaluate& evaluate,
                     UpdateFor& update_for, const JobContext& job,
                     const PartialResultCallback<GridScanUpdate>& on_update) {
  const std::size_t n = scan.n(), total = n * n, tp = scan.terms_per_point;
  std::size_t stride = 2;
  while (stride * 2 <= (n - 1) / 6) stride *= 2;
  std::vector<std::size_t> marks;  // coarse indices per axis
  for (std::size_t i = 0; i < n - 1; i += stride) marks.push_back(i);
  marks.push_back(n - 1);

  struct Cell {
    std::size_t i0, i1, j0, j1;  // rows i0..i1, columns j0..j1 (corners included)
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

  while (!cells.empty()) {
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < total; ++p)
      if (known[p] && std::isfinite(scan.log_like[p])) best = std::max(best, scan.log_like[p]);
    std::vector<Cell> next;
    points.clear();
    // A cell is refined when a corner lies within refine_level, or when it shares a corner with
    // such a cell: the one-cell margin catches ridges narrower than a cell that pass between the
    // corners of a neighbour of the cells they are seen in.
    std::vector<char> near(total, 0);
    std::vector<char> flagged(cells.size(), 0);
    for (std::size_t k = 0; k < cells.size(); ++k) {
      const Cell& c = cells[k];
      for (std::size_t i : {c.i0, c.i1})
        for (std::size_t j : {c.j0, c.j1}) {
          const double v = scan.log_like[i * n + j];
          if (std::isfinite(v) && 2.0 * (best - v) <= settings.refine_level) flagged[k] = 1;
        }
      if (flagged[k])
        for (std::size_t i : {c.i0, c.i1})
          for (std::size_t j : {c.j0, c.j1}) near[i * n + j] = 1;
    }
    for (std::size_t k = 0; k < cells.size(); ++k) {
      const Cell& c = cells[k];
      if (c.i1 - c.i0 <= 1 && c.j1 - c.j0 <= 1) {
        leaves.push_back(c);
        continue;
      }
      bool refine = flagged[k] != 0;
      for (std::size_t i : {c.i0, c.i1})
        for (std::size_t j : {c.j0, c.j1}) refine = refine || near[i * n + j];
      if (!refine) {
        leaves.push_back(c);
        continue;
      }
      const std::size_t im = (c.i0 + c.i1) / 2, jm = (c.j0 + c.j1) / 2;
      std::vector<std::pair<std::size_t, std::size_t>> rows{{c.i0, c.i1}}, columns{{c.j0, c.j1}};
      if (c.i1 - c.i0 >= 2) rows = {{c.i0, im}, {im, c.i1}};
      if (c.j1 - c.j0 >= 2) columns = {{c.j0, jm}, {jm, c.j1}};
      for (const auto& r : rows)
        for (const auto& col : columns) {
          next.push_back({r.first, r.second, col.first, col.second});
          for (std::size_t i : {r.first, r.second})
            for (std::size_t j : {col.first, col.second})
              if (!known[i * n + j]) points.push_back(i * n + j);
        }
    }
    run(points, GridScanStage::Refine, "adaptive likelihood grid: refining");
    cells = std::move(next);
  }

  // Interpolate what was not evaluated from the corners of its leaf cell (bilinear in index).
  scan.evaluated.assign(total, 0);
  for (std::size_t p = 0; p < total; ++p) scan.evaluated[p] = known[p] ? 1 : 0;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const Cell& c : leaves) {
    const double di = double(c.i1 - c.i0), dj = double(c.j1 - c.j0);
    for (std::size_t i = c.i0; i <= c.i1; ++i)
      for (std::size_t j = c.j0; j <= c.j1; ++j) {
        const std::size_t p = i * n + j;
        if (known[p]) continue;
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
  const auto k = std::size_t(coarse_stride(settings));
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
  if (!coarse.empty() && on_update) on_update(update_for(GridScanStage::Coarse, 0, coarse));

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
      for (std::size_t j = 0; j < n; ++j) points[j] = row * n + j;
      on_update(update_for(GridScanStage::Row, row, std::move(points)));
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

void write_grid_scan(const std::string& path, const GridScan& scan) {
  const std::size_t n = scan.n();
  if (n < 2 || scan.sigma_8.size() != n || scan.log_like.size() != n * n ||
      scan.delta_chi2.size() != n * n || scan.terms.size() != scan.terms_per_point * n * n)
    throw InvalidArgument("grid scan: the maps do not match the axes (" + std::to_string(n) +
                          " points per axis); nothing written to " + path);
  write_path_atomically(path, [&](const std::string& temporary) {
    auto file = detail::Hdf5File::create(temporary);
    file.write("/omega_m", {n}, scan.omega_m.data());
    file.write("/sigma_8", {n}, scan.sigma_8.data());
    if (scan.terms_per_point > 0) {
      file.write("/terms", {scan.terms_per_point, n, n}, scan.terms.data());
      std::vector<std::string> names;
      for (std::size_t t = 0; t < scan.terms_per_point; ++t)
        names.push_back(scan.provenance.prior_term && t + 1 == scan.terms_per_point
                            ? std::string("L_T")
                            : "L_" + std::to_string(t));
      file.set_attribute("/terms", "names", names);
    }
    file.write("/log_like", {n, n}, scan.log_like.data());
    file.write("/delta_chi2", {n, n}, scan.delta_chi2.data());
    if (!scan.evaluated.empty()) {
      const std::vector<std::int64_t> mask(scan.evaluated.begin(), scan.evaluated.end());
      file.write("/evaluated", {n, n}, mask.data());
    }

    const GridScanSettings& s = scan.settings;
    const GridScanProvenance& p = scan.provenance;
    file.set_attribute("/", "format", std::string(kFormat));
    file.set_attribute("/", "map_layout", std::string(kLayout));
    file.set_attribute("/", "version", scan.version);
    file.set_attribute("/", "grid_size", std::uint64_t(n));
    file.set_attribute("/", "full_prior", std::uint64_t(s.full_prior ? 1 : 0));
    file.set_attribute("/", "center_omega_m", s.center_omega_m);
    file.set_attribute("/", "center_sigma_8", s.center_sigma_8);
    file.set_attribute("/", "half_width", s.half_width);
    file.set_attribute("/", "coarse_stride", std::uint64_t(coarse_stride(s)));
    file.set_attribute("/", "adaptive", std::uint64_t(s.adaptive ? 1 : 0));
    file.set_attribute("/", "refine_level", s.refine_level);
    file.set_attribute("/", "batch_points", std::uint64_t(s.batch_points > 0 ? s.batch_points : n));
    file.set_attribute("/", "prior_omega_m_lo", s.prior.omega_m.lo);
    file.set_attribute("/", "prior_omega_m_hi", s.prior.omega_m.hi);
    file.set_attribute("/", "prior_sigma_8_lo", s.prior.sigma_8.lo);
    file.set_attribute("/", "prior_sigma_8_hi", s.prior.sigma_8.hi);
    file.set_attribute("/", "model", p.model);
    file.set_attribute("/", "field", p.field);
    file.set_attribute("/", "index", p.index);
    file.set_attribute("/", "t_max", std::uint64_t(std::max(p.t_max, 0)));
    file.set_attribute("/", "prior_term", std::uint64_t(p.prior_term ? 1 : 0));
    file.set_attribute("/", "noise", p.noise);
    file.set_attribute("/", "draws", std::uint64_t(std::max(p.draws, 0)));
    file.set_attribute("/", "seed", p.seed);
    file.set_attribute("/", "added_noise_sigma", p.added_noise);
    file.set_attribute("/", "contour_level", scan.contour_level);
    file.set_attribute("/", "contour_note",
                       std::string("delta_chi2 = -2 Delta ln L; delta_chi2 <= 2.30 is the 68.3% "
                                   "(1-sigma) region of two parameters"));
    file.set_attribute("/", "maximum_omega_m", scan.maximum.omega_m);
    file.set_attribute("/", "maximum_sigma_8", scan.maximum.sigma_8);
    file.set_attribute("/", "maximum_log_like", scan.maximum.log_like);
    file.set_attribute("/", "maximum_row", std::uint64_t(scan.maximum.row));
    file.set_attribute("/", "maximum_column", std::uint64_t(scan.maximum.column));
    file.set_attribute("/", "seconds", scan.seconds);
    file.close();
  });
}

GridScan read_grid_scan(const std::string& path) {
  auto file = detail::Hdf5File::open_read(path);
  if (!file.has_attribute("/", "format") || file.string_attribute("/", "format") != kFormat)
    throw FileError(
        path, std::string("is not a likelihood grid (no format attribute '") + kFormat + "')");
  for (const char* name : {"/omega_m", "/sigma_8", "/log_like", "/delta_chi2"})
    if (!file.exists(name)) throw FileError(path, std::string("has no ") + name + " dataset");
  GridScan scan;
  scan.omega_m = file.read_doubles("/omega_m");
  scan.sigma_8 = file.read_doubles("/sigma_8");
  const std::size_t n = scan.omega_m.size();
  if (n < 2 || scan.sigma_8.size() != n)
    throw FileError(path, "axes /omega_m and /sigma_8 must have the same length >= 2");
  const std::vector<std::size_t> square{n, n};
  for (const char* name : {"/log_like", "/delta_chi2"})
    if (file.shape(name) != square)
      throw FileError(path, std::string(name) + " is not [" + std::to_string(n) + ", " +
                                std::to_string(n) + "]");
  scan.log_like = file.read_doubles("/log_like");
  scan.delta_chi2 = file.read_doubles("/delta_chi2");
  if (file.exists("/terms")) {
    const auto shape = file.shape("/terms");
    if (shape.size() != 3 || shape[1] != n || shape[2] != n)
      throw FileError(path,
                      "/terms is not [T, " + std::to_string(n) + ", " + std::to_string(n) + "]");
    scan.terms_per_point = shape[0];
    scan.terms = file.read_doubles("/terms");
  }
  if (file.exists("/evaluated")) {
    if (file.shape("/evaluated") != square)
      throw FileError(path,
                      "/evaluated is not [" + std::to_string(n) + ", " + std::to_string(n) + "]");
    for (std::int64_t v : file.read_int64("/evaluated")) {
      if (v != 0 && v != 1) throw FileError(path, "/evaluated holds a value other than 0 and 1");
      scan.evaluated.push_back(std::uint8_t(v));
    }
  }
  auto text = [&](const char* key) {
    return file.has_attribute("/", key) ? file.string_attribute("/", key) : std::string();
  };
  auto real = [&](const char* key, double fallback) {
    return file.has_attribute("/", key) ? file.double_attribute("/", key) : fallback;
  };
  auto whole = [&](const char* key, std::uint64_t fallback) {
    return file.has_attribute("/", key) ? file.uint_attribute("/", key) : fallback;
  };
  GridScanSettings& s = scan.settings;
  s.n = int(n);
  s.full_prior = whole("full_prior", 0) != 0;
  s.center_omega_m = real("center_omega_m", 0.5 * (scan.omega_m.front() + scan.omega_m.back()));
  s.center_sigma_8 = real("center_sigma_8", 0.5 * (scan.sigma_8.front() + scan.sigma_8.back()));
  s.half_width = real("half_width", 0.5 * (scan.omega_m.back() - scan.omega_m.front()));
  s.coarse_stride = int(whole("coarse_stride", 0));
  s.batch_points = std::size_t(whole("batch_points", 0));
  s.adaptive = whole("adaptive", 0) != 0;
  s.refine_level = real("refine_level", s.refine_level);
  s.prior.omega_m = {real("prior_omega_m_lo", kDefaultPrior.omega_m.lo),
                     real("prior_omega_m_hi", kDefaultPrior.omega_m.hi)};
  s.prior.sigma_8 = {real("prior_sigma_8_lo", kDefaultPrior.sigma_8.lo),
                     real("prior_sigma_8_hi", kDefaultPrior.sigma_8.hi)};
  GridScanProvenance& p = scan.provenance;
  p.model = text("model");
  p.field = text("field");
  p.index = whole("index", 0);
  p.t_max = int(whole("t_max", 0));
  p.prior_term = whole("prior_term", 0) != 0;
  p.noise = text("noise");
  p.draws = int(whole("draws", 0));
  p.seed = whole("seed", 0);
  p.added_noise = real("added_noise_sigma", 0.0);
  scan.contour_level = real("contour_level", kOneSigmaDeltaChi2);
  scan.version = text("version");
  scan.seconds = real("seconds", 0.0);
  try {
    // The maximum from the map itself, so that it always agrees with delta_chi2's zero.
    std::vector<double> stored = scan.delta_chi2;
    finish_grid_maps(scan);
    scan.delta_chi2 = std::move(stored);
  } catch (const InvalidArgument&) {
    throw FileError(path, "/log_like holds no finite value");
  }
  return scan;
}

}  // namespace ds
