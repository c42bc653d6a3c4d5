// Likelihood grid files (HDF5, grid_scan.h) and the maps derived from a grid's values; apart from
// the scan itself so that the reader links without the likelihood code (tests/fuzz).
#include <algorithm>
#include <cmath>
#include <limits>

#include "data/hdf5_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "infer/grids/grid_scan_format.h"

namespace ds {

using detail::grid_coarse_stride;
using detail::kGridFormat;
using detail::kGridLayout;

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
    file.set_attribute("/", "format", std::string(kGridFormat));
    file.set_attribute("/", "map_layout", std::string(kGridLayout));
    file.set_attribute("/", "version", scan.version);
    file.set_attribute("/", "grid_size", std::uint64_t(n));
    file.set_attribute("/", "full_prior", std::uint64_t(s.full_prior ? 1 : 0));
    file.set_attribute("/", "center_omega_m", s.center_omega_m);
    file.set_attribute("/", "center_sigma_8", s.center_sigma_8);
    file.set_attribute("/", "half_width", s.half_width);
    file.set_attribute("/", "coarse_stride", std::uint64_t(grid_coarse_stride(s)));
    file.set_attribute("/", "adaptive", std::uint64_t(s.adaptive ? 1 : 0));
    file.set_attribute("/", "refine_level", s.refine_level);
    file.set_attribute("/", "refine_target", std::string(refine_target_name(s.refine_target)));
    file.set_attribute("/", "contour_safety", s.contour_safety);
    file.set_attribute("/", "contour_tolerance", s.contour_tolerance);
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
    file.set_attribute("/", "complete", std::uint64_t(scan.complete ? 1 : 0));
    file.set_attribute("/", "known_points",
                       std::uint64_t(scan.complete ? n * n : scan.known_points));
    file.close();
  });
}

GridScan read_grid_scan(const std::string& path) {
  auto file = detail::Hdf5File::open_read(path);
  if (!file.has_attribute("/", "format") || file.string_attribute("/", "format") != kGridFormat)
    throw FileError(
        path, std::string("is not a likelihood grid (no format attribute '") + kGridFormat + "')");
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
  try {
    s.refine_target =
        parse_refine_target(text("refine_target").empty() ? "region" : text("refine_target"));
  } catch (const InvalidArgument& e) {
    throw FileError(path, std::string("attribute refine_target: ") + e.what());
  }
  s.contour_safety = real("contour_safety", s.contour_safety);
  s.contour_tolerance = real("contour_tolerance", s.contour_tolerance);
  s.prior.omega_m = {real("prior_omega_m_lo", kDefaultPrior.omega_m.lo),
                     real("prior_omega_m_hi", kDefaultPrior.omega_m.hi)};
  s.prior.sigma_8 = {real("prior_sigma_8_lo", kDefaultPrior.sigma_8.lo),
                     real("prior_sigma_8_hi", kDefaultPrior.sigma_8.hi)};
  scan.complete = whole("complete", 1) != 0;
  scan.known_points = std::size_t(whole("known_points", n * n));
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
