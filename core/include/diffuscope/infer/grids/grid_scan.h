// Likelihood maps over the (Omega_m, sigma_8) plane (issue 6, item 2): n x n points centred on a
// point with a half-width (the paper: 50 x 50, +-0.06) or spanning the whole prior box,
// evaluated through one LogDensity (the likelihood, no prior) in batches of grid points, so that
// a diffusion model's VLB costs one network batch per call. For a VlbLogLikelihood every per-step
// term map L_t is kept (from VlbLogLikelihood::last_evaluation()); any other density gives the
// log L map only.
//
// Map layout (every map: log_like, delta_chi2 and each term):
//   [n_sigma_8, n_omega_m] row-major: map[i * n + j] is the value at
//   (Omega_m = omega_m[j], sigma_8 = sigma_8[i]). A ROW is one sigma_8 value, a COLUMN one
//   Omega_m value: an image with Omega_m along x and sigma_8 along y, row 0 at the smallest
//   sigma_8. terms is [T_terms, n, n]: term t's map starts at terms[t * n * n].
//
// Evaluation order (coarse to fine): first the coarse sub-grid (rows and columns 0, k, 2k, ...),
// reported as one partial result; then the remaining points row by row, each row streamed as soon
// as all its points are known.
//
// Adaptive scans (settings.adaptive, issue 15 item 4) evaluate only where the posterior is: the
// coarse sub-grid (stride s, a power of two, about 7 points per axis, plus the last row and
// column), then level by level every cell whose four corners include a value within
// refine_level of the best value so far (-2 Delta ln L <= 11.83: the 3-sigma region of two
// parameters), and every cell sharing a corner with such a cell (a margin that catches ridges
// narrower than a cell), is halved in both directions and its new grid points evaluated, until
// the cells are single grid steps. The remaining points are bilinear interpolations of their cell's
// corners and marked so (GridScan::evaluated = 0): every point inside the 3-sigma region of the map
// is an exact evaluation, so its 1- and 2-sigma contours are exact. (A peak narrower than a coarse
// cell whose corners all lie beyond refine_level is missed: choose a smaller stride for such maps.)
//
// refine_target = Contours asks less: exact values where the 1- and 2-sigma contours run and at
// the maximum, interpolated values inside and outside them. The interpolant is a smooth spline
// through every exact value (the polyharmonic r^3 spline with a quadratic; it reproduces a
// Gaussian posterior's log L exactly), refitted at each level. Its error is measured, not
// assumed: before the points a level gains are evaluated, the spline through the points known so
// far predicts them, and the largest miss within refine_level of the best value, per size of the
// cell halved, times contour_safety, is that size's tolerance (the coarse level: each coarse
// point predicted from the others; a size not halved yet takes the next larger size's, scaled by
// the square of the size ratio). After the coarse level, a cell is halved when the interpolated
// -2 Delta ln L of its grid points, widened by its size's tolerance, could reach the maximum (0)
// or a contour level (2.30 or 6.18) while that tolerance exceeds the cell tolerance:
// contour_tolerance, or 0.1 for exact contours. Cells not yet at single grid steps are judged
// again at each level against the current best value, so a better maximum found later re-opens
// cells.
//  - contour_tolerance > 0: the rest is interpolated; a point can be on the other side of a
//    contour than in the full scan only within contour_tolerance of it (in -2 Delta ln L).
//  - contour_tolerance = 0 (exact contours): then every point whose interpolated value, widened
//    by its cell's tolerance, could lie on the other side of a contour or be the maximum is
//    evaluated, pass by pass (each refits the spline and measures its error at what it adds),
//    until none is left. Every grid point then lies on the side of each contour it lies on in the
//    full scan, and the maximum is the full scan's, unless the likelihood bends faster between
//    grid points than anywhere it was measured.
// The per-timestep maps (the sum up to t) are interpolated with the same spline.
// Each level is streamed as one partial result (stage Refine). Cancellation is checked between
// batches (throws Cancelled, nothing is returned). -2 Delta ln L = 2 (max log L - log L) >= 0, 0 at
// the maximum; the 68.3% region of two parameters is -2 Delta ln L <= 2.30.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/jobs/job.h"

namespace ds {

// -2 Delta ln L of the 68.3% (1-sigma) region for two parameters (chi^2 quantile, 2 dof).
inline constexpr double kOneSigmaDeltaChi2 = 2.30;

struct GridScanSettings {
  int n = 50;  // points per axis, >= 2
  double center_omega_m = 0.3, center_sigma_8 = 0.8;
  double half_width = 0.06;  // both axes span centre +- half_width, clipped to the prior box
  bool full_prior = false;   // the axes span the prior box instead (centre and width unused)
  Prior prior = kDefaultPrior;
  // k of the coarse pass (rows and columns 0, k, 2k, ...): 0 = automatic (max(2, n / 10), so a
  // 50 x 50 grid starts with 10 x 10 points); 1 = no coarse pass (rows only).
  int coarse_stride = 0;
  // Grid points per LogDensity call (for the VLB: points x draws x T_MAX network rows, chunked
  // to its memory budget); 0 = one row (n points).
  std::size_t batch_points = 0;
  // Evaluate only where the posterior is (see above); refine cells within refine_level of the
  // best -2 Delta ln L.
  bool adaptive = false;
  double refine_level = 11.83;
  // What an adaptive scan makes exact: every point within refine_level (Region), or the 1- and
  // 2-sigma contours and the maximum (Contours; see above), with contour_safety times the
  // measured interpolation error as margin.
  enum class RefineTarget { Region, Contours };
  RefineTarget refine_target = RefineTarget::Region;
  double contour_safety = 2.0;
  // Contours: the accuracy accepted along the contours, in -2 Delta ln L. 0: none (every point
  // that could be on the other side of a contour is evaluated: the full scan's classification).
  // > 0: a cell whose size's measured interpolation error (times contour_safety) is within it is
  // left whole, its points interpolated, so a contour drawn there is the full scan's to within
  // that much -2 Delta ln L (0.1 moves a Gaussian's 1-sigma contour by 0.03 sigma).
  double contour_tolerance = 0.0;
};

// "region" | "contours"; parse_refine_target throws InvalidArgument naming other text.
const char* refine_target_name(GridScanSettings::RefineTarget target);
GridScanSettings::RefineTarget parse_refine_target(const std::string& text);

// -2 Delta ln L of the 95.45% (2-sigma) region for two parameters (-2 ln 0.0455; the paper's
// figures and many codes round it to 6.17).
inline constexpr double kTwoSigmaDeltaChi2 = 6.18;

// Where a likelihood came from, written next to the maps. The scan fills t_max, noise, draws and
// seed from a VlbLogLikelihood; the caller fills the paths.
struct GridScanProvenance {
  std::string model, field;  // paths ("" for an analytic density)
  std::uint64_t index = 0;   // field of the stack
  int t_max = 0;             // 0 when the density is no VLB
  bool prior_term = false;   // the last term is L_T
  std::string noise;         // "fresh" | "common" | ""
  int draws = 0;
  std::uint64_t seed = 0;
  double added_noise = 0.0;  // sigma of the noise added to log10 of the field (0: none)
};

struct GridMaximum {
  std::size_t row = 0, column = 0;  // sigma_8 index, Omega_m index
  double omega_m = 0.0, sigma_8 = 0.0, log_like = 0.0;
};

struct GridScan {
  GridScanSettings settings;
  GridScanProvenance provenance;
  std::vector<double> omega_m, sigma_8;  // the axes, [n] each, ascending
  std::size_t terms_per_point = 0;       // T_terms (0: no term maps)
  std::vector<double> terms;             // [T_terms, n, n]
  std::vector<double> log_like;          // [n, n]
  std::vector<double> delta_chi2;        // [n, n], -2 Delta ln L; NaN where log L is not finite
  // [n, n]: 1 where log_like (and the terms) are exact evaluations, 0 where an adaptive scan
  // interpolated them; empty when every point was evaluated.
  std::vector<std::uint8_t> evaluated;
  GridMaximum maximum;  // over the finite log L values
  double contour_level = kOneSigmaDeltaChi2;
  std::string version;   // Diffuscope version that computed it
  double seconds = 0.0;  // wall time of the scan (so far, for a partial scan)
  // false for a scan in progress (the partial file vlb-grid keeps while it runs, what a crash
  // leaves): NaN where no point is known yet; known_points of n * n are.
  bool complete = true;
  std::size_t known_points = 0;

  std::size_t n() const { return omega_m.size(); }
  bool exact(std::size_t row, std::size_t column) const {
    return evaluated.empty() || evaluated[row * n() + column] != 0;
  }
  std::size_t exact_points() const;  // evaluations made (n * n for a full scan)
  double log_like_at(std::size_t row, std::size_t column) const {
    return log_like[row * n() + column];
  }
  double term_at(std::size_t t, std::size_t row, std::size_t column) const {
    return terms[(t * n() + row) * n() + column];
  }
};

enum class GridScanStage { Coarse, Row, Refine };

// A partial result: the coarse pass (all its points at once), then one complete row at a time
// (an adaptive scan: one refinement level at a time, stage Refine).
struct GridScanUpdate {
  GridScanStage stage = GridScanStage::Coarse;
  std::size_t row = 0;              // Row: the sigma_8 index now complete
  std::vector<std::size_t> points;  // flat map indices (row * n + column); a Row: the whole row
  std::vector<double> log_like;     // [points]
  std::vector<double> terms;        // [points, terms_per_point]
  std::size_t terms_per_point = 0;
  std::size_t known = 0, total = 0;  // points delivered by this and earlier updates / n * n
};

// The ascending axes of a grid, [n] each: centre +- half_width clipped to the prior box, or the
// box. Throws InvalidArgument for n < 2 (or > 4096), a non-positive or non-finite half-width, or
// a centre outside the prior box (naming the parameter, its value and the box).
std::vector<double> grid_axis_omega_m(const GridScanSettings& settings);
std::vector<double> grid_axis_sigma_8(const GridScanSettings& settings);
void validate_grid_settings(const GridScanSettings& settings);

// Evaluates `likelihood` (dimension 2: Omega_m, sigma_8) over the grid. The density must not be
// evaluated from another thread during the scan (its last evaluation holds the terms). Throws
// InvalidArgument for bad settings, Cancelled when cancelled.
GridScan scan_likelihood_grid(const LogDensity& likelihood, const GridScanSettings& settings,
                              const JobContext& job = {},
                              const PartialResultCallback<GridScanUpdate>& on_update = {});

// Fills delta_chi2 and maximum from log_like (what the scan does at the end). Throws
// InvalidArgument when no log L value is finite.
void finish_grid_maps(GridScan& scan);

// A scan in progress as its updates describe it (the partial file of a long scan, live views):
// the axes and settings of `settings`, the likelihood's part of the provenance (a VLB's T_MAX,
// noise, draws, seed), NaN maps, complete = false. apply_grid_update copies an
// update's points (and terms) in, counts them, and refreshes delta_chi2 and the maximum over the
// points known so far (left NaN / unset while none is finite).
GridScan start_partial_grid_scan(const LogDensity& likelihood, const GridScanSettings& settings);
void apply_grid_update(GridScan& partial, const GridScanUpdate& update);

// The bounding box of the grid points with -2 Delta ln L <= level.
struct GridContourExtent {
  std::size_t points = 0;  // grid points inside
  double omega_m_lo = 0.0, omega_m_hi = 0.0, sigma_8_lo = 0.0, sigma_8_hi = 0.0;
  bool touches_edge = false;  // a point inside lies on the grid's border: the region is cut
};
GridContourExtent grid_contour_extent(const GridScan& scan, double level = kOneSigmaDeltaChi2);

// The values of a complete map as a density of its grid points, for replaying a scan on a map
// computed elsewhere (vlb-grid --replay): an adaptive scan with the same axes then costs no
// evaluation. A point that is not a grid point of the map (to 1e-9 of a step) throws
// InvalidArgument naming it. Throws InvalidArgument for an incomplete map.
std::unique_ptr<LogDensity> grid_map_density(const GridScan& complete);

// How far a scan's map (an adaptive one, typically) is from a reference map of the same axes:
// the points one map puts inside a region and the other outside, per level, the largest
// difference of -2 Delta ln L where either map is within `within` of its maximum, and whether
// the maxima are the same grid point. Throws InvalidArgument when the axes differ.
struct GridScanComparison {
  std::size_t points = 0;
  std::size_t differ_one_sigma = 0, differ_two_sigma = 0;
  // The largest |reference - level| at a point on the other side of a level (0 when none): how
  // far from its contour in the reference a point the scan misplaces can lie.
  double differ_margin = 0.0;
  std::size_t compared = 0;  // points within `within` in either map
  double largest_difference = 0.0;
  std::size_t largest_row = 0, largest_column = 0;  // where it is
  double largest_reference = 0.0;                   // the reference's -2 Delta ln L there
  bool same_maximum = false;
};
GridScanComparison compare_grid_scans(const GridScan& scan, const GridScan& reference,
                                      double within = 11.83);

// HDF5, written atomically: /omega_m [n], /sigma_8 [n], /terms [T_terms, n, n] (absent when
// T_terms = 0; attribute names "L_0", ...), /log_like [n, n], /delta_chi2 [n, n] (float64), and
// root attributes: format "diffuscope-likelihood-grid", map_layout, version, every setting
// (grid_size, full_prior, center_omega_m, center_sigma_8, half_width, coarse_stride,
// batch_points, adaptive, refine_level, refine_target, contour_safety, contour_tolerance, the
// prior box), /evaluated
// [n, n] (int64 0/1, adaptive scans only), the provenance (model, field, index, t_max, prior_term,
// noise, draws, seed, added_noise_sigma), contour_level 2.30 with a note, the maximum and seconds;
// complete (1, or 0 for a scan in progress) and known_points.
void write_grid_scan(const std::string& path, const GridScan& scan);
// Reads what write_grid_scan wrote; FileError naming the file and the missing or malformed item.
GridScan read_grid_scan(const std::string& path);

}  // namespace ds
