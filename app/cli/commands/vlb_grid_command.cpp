// diffuscope-cli vlb-grid --model M --field FILE [--index I] --tmax 20 --grid 50 --center 0.3,0.8
// --half-width 0.06 [--full-prior] --noise common --draws 4 --seed S --out grid.h5: a likelihood
// map over (Omega_m, sigma_8) from the truncated VLB (core/infer/grids/grid_scan.h; --adaptive:
// only where the posterior is), every per-step term map kept, written to HDF5; prints the maximum
// and the extent of the 1-sigma region. For a point-cloud model, --cloud FILE (or --field naming a
// cloud file) and the ELBO (--elbo-steps,
// --draws, --seed) replace the field and the VLB; the map is log L only.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "diffuscope/pointcloud/point_model.h"
#include "model_input.h"

namespace dscli {

namespace {

struct GridOptions {
  ModelInputOptions input;
  int grid = 50;
  std::string center = "0.3,0.8";
  double half_width = 0.06;
  bool full_prior = false;
  bool adaptive = false;
  std::string refine = "region";
  double contour_safety = 2.0;
  double contour_tolerance = 0.0;
  std::string replay;
  int coarse_stride = 0;
  std::size_t batch = 0;
  std::uint64_t seed = 0;
  std::string out;
};

std::pair<double, double> parse_center(const std::string& text) {
  const std::vector<double> values = parse_numbers(text, "vlb-grid: --center");
  if (values.size() != 2)
    throw ds::InvalidArgument("vlb-grid: --center '" + text +
                              "' must be two numbers Omega_m,sigma_8");
  return {values[0], values[1]};
}

// The output's folder must exist before minutes of evaluation, not after.
void require_output_folder(const std::string& out) {
  const std::filesystem::path folder = std::filesystem::path(out).parent_path();
  if (!folder.empty() && !std::filesystem::is_directory(folder))
    throw ds::FileError(out, "directory " + folder.string() + " does not exist");
  if (std::filesystem::is_directory(out)) throw ds::FileError(out, "is a directory");
}

// The model, observation and settings of a likelihood into the provenance a scan recorded (the
// scan fills in a VLB's own settings: T_MAX, noise mode).
void record_source(ds::GridScanProvenance& into, const ds::GridScanProvenance& source) {
  into.model = source.model;
  into.field = source.field;
  into.index = source.index;
  into.added_noise = source.added_noise;
  if (source.draws > 0) into.draws = source.draws;
  if (source.seed != 0) into.seed = source.seed;
}

// The scan so far, kept in OUT.partial.h5 while it runs: rewritten atomically after the coarse
// pass, after each refinement level and at most every 2 s in between, so that a crash or kill -9
// leaves the points computed so far as a readable grid (attribute complete = 0, NaN where unknown).
// Removed when OUT has been written, and on any error or cancellation (nothing partial is left
// by a command that stopped on its own terms). One left by a crash is never overwritten: the
// next scan to the same OUT refuses to start until it is moved away.
class PartialGridFile {
 public:
  PartialGridFile(std::string out, const ds::LogDensity& likelihood,
                  const ds::GridScanSettings& settings, const ds::GridScanProvenance& provenance)
      : path_(std::move(out) + ".partial.h5"),
        scan_(ds::start_partial_grid_scan(likelihood, settings)) {
    // Such a file holds the points of a scan that crashed: never overwrite them.
    if (std::filesystem::exists(path_))
      throw ds::FileError(path_,
                          "holds the points of an interrupted scan (the app opens it as a partial "
                          "map); move or delete it before scanning to the same --out");
    record_source(scan_.provenance, provenance);
  }
  PartialGridFile(const PartialGridFile&) = delete;
  PartialGridFile& operator=(const PartialGridFile&) = delete;
  ~PartialGridFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::string& path() const { return path_; }

  void update(const ds::GridScanUpdate& u) {
    ds::apply_grid_update(scan_, u);
    const auto now = std::chrono::steady_clock::now();
    scan_.seconds = std::chrono::duration<double>(now - start_).count();
    const bool stage_done = u.stage != ds::GridScanStage::Row;
    if (!std::isfinite(scan_.maximum.log_like) ||
        (!stage_done && now - written_ < std::chrono::seconds(2)))
      return;
    written_ = now;
    try {
      ds::write_grid_scan(path_, scan_);
    } catch (const ds::Error& e) {  // the scan goes on; only its crash insurance is lost
      if (!warned_) std::fprintf(stderr, "warning: %s (the scan continues)\n", e.what());
      warned_ = true;
    }
  }

 private:
  std::string path_;
  ds::GridScan scan_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point written_{};
  bool warned_ = false;
};

void print_summary(const ds::GridScan& scan, const std::string& likelihood_name) {
  const std::size_t n = scan.n();
  std::printf("grid %zu x %zu (Omega_m [%.6g, %.6g], sigma_8 [%.6g, %.6g]), %s, %.2f s\n", n, n,
              scan.omega_m.front(), scan.omega_m.back(), scan.sigma_8.front(), scan.sigma_8.back(),
              likelihood_name.c_str(), scan.seconds);
  std::printf("maximum log_like %.10g at Omega_m %.6g sigma_8 %.6g (row %zu, column %zu)\n",
              scan.maximum.log_like, scan.maximum.omega_m, scan.maximum.sigma_8, scan.maximum.row,
              scan.maximum.column);
  if (!scan.evaluated.empty())
    std::printf("adaptive (%s): %zu of %zu points evaluated, the rest interpolated\n",
                ds::refine_target_name(scan.settings.refine_target), scan.exact_points(), n * n);
  const ds::GridContourExtent e = ds::grid_contour_extent(scan);
  std::printf(
      "1-sigma (-2 Delta ln L <= %.2f): Omega_m [%.6g, %.6g] sigma_8 [%.6g, %.6g], %zu "
      "points%s\n",
      scan.contour_level, e.omega_m_lo, e.omega_m_hi, e.sigma_8_lo, e.sigma_8_hi, e.points,
      e.touches_edge ? " (reaches the grid edge: widen --half-width)" : "");
}

// --replay: the scan on a complete map's values, compared with that map.
int replay_grid(const ds::GridScanSettings& settings, const std::string& map_path,
                const std::string& out) {
  const ds::GridScan full = ds::read_grid_scan(map_path);
  if (!full.complete || full.exact_points() != full.n() * full.n())
    throw ds::FileError(map_path,
                        "is not a complete map (every point evaluated); cannot replay it");
  const auto density = ds::grid_map_density(full);
  ds::GridScan scan;
  try {
    scan = ds::scan_likelihood_grid(*density, settings);
  } catch (const ds::InvalidArgument& e) {
    throw ds::FileError(map_path, std::string("has other axes than this scan (") + e.what() +
                                      "); give the same --grid, --center and --half-width");
  }
  scan.provenance = full.provenance;
  ds::write_grid_scan(out, scan);
  print_summary(scan, "replayed on " + map_path);
  const ds::GridScanComparison c = ds::compare_grid_scans(scan, full);
  std::printf(
      "against %s: 1-sigma region differs at %zu points, 2-sigma at %zu (each within %.3g of its "
      "level in the map); largest |difference| of -2 Delta ln L within 11.83 of either maximum "
      "%.4g (%zu points; at row %zu, column %zu, where the map has %.4g); maximum %s\n",
      map_path.c_str(), c.differ_one_sigma, c.differ_two_sigma, c.differ_margin,
      c.largest_difference, c.compared, c.largest_row, c.largest_column, c.largest_reference,
      c.same_maximum ? "the same point" : "a different point");
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

Action add_vlb_grid_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<GridOptions>();
  CLI::App* cmd = app.add_subcommand(
      "vlb-grid",
      "likelihood map over (Omega_m, sigma_8) from the truncated VLB of a diffusion model: n x n "
      "points (coarse pass first, then row by row), each L_t map kept; writes HDF5 "
      "(/omega_m, /sigma_8, /terms [T,n,n], /log_like, /delta_chi2 = -2 Delta ln L; maps are "
      "[sigma_8, Omega_m]) and prints the maximum and the 1-sigma (2.30) extent");
  add_model_input_options(cmd, o->input, "common", "--draws", true);
  cmd->add_option("--grid", o->grid, "points per axis (default 50)")->check(CLI::Range(2, 4096));
  cmd->add_option("--center", o->center, "centre 'Omega_m,sigma_8' (default 0.3,0.8)");
  cmd->add_option("--half-width", o->half_width,
                  "each axis spans centre +- this, clipped to the prior box (default 0.06)");
  cmd->add_flag("--full-prior", o->full_prior,
                "span the whole prior box [0.1, 0.5] x [0.6, 1.0] instead of centre +- width");
  cmd->add_flag("--adaptive", o->adaptive,
                "evaluate only where the posterior is: a coarse grid, then cells within the "
                "3-sigma region (-2 Delta ln L <= 11.83) refined level by level down to the grid "
                "step; the rest interpolated and marked in /evaluated (1- and 2-sigma contours "
                "stay exact)");
  cmd->add_option("--refine", o->refine,
                  "what --adaptive makes exact: region (every point of the 3-sigma region; "
                  "default) or contours (the 1- and 2-sigma contours and the maximum: cells are "
                  "halved while a contour level can cross them, judged with the error of a smooth "
                  "interpolation measured at each cell size, then every point that could be on "
                  "the other side of a contour evaluated; inside and outside interpolated)")
      ->check(CLI::IsMember({"region", "contours"}));
  cmd->add_option("--contour-safety", o->contour_safety,
                  "with --refine contours: the measured interpolation error is multiplied by this "
                  "(>= 1, default 2) before a cell is judged clear of a contour");
  cmd->add_option("--contour-tolerance", o->contour_tolerance,
                  "with --refine contours: accept the contours to within this much -2 Delta ln L "
                  "(default 0: the full scan's contours exactly); a cell a contour crosses is then "
                  "left whole, and interpolated, once its size's measured interpolation error is "
                  "within it (0.1 moves a Gaussian's 1-sigma contour by 0.03 sigma)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--replay", o->replay,
                  "instead of a model, take the values of a complete map written by vlb-grid "
                  "with the same axes (e.g. a full scan from a GPU node): the scan costs no "
                  "evaluation, and its differences from that map are printed (how many points "
                  "--adaptive and its settings need, and how accurate their map is)");
  cmd->add_option("--coarse-stride", o->coarse_stride,
                  "k of the coarse first pass (every k-th row and column; default max(2, n/10); "
                  "1: rows only)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", o->batch,
                  "grid points per evaluation (one network batch, chunked to memory; default: a "
                  "row)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed,
                  "seed of the VLB noise and of --add-noise (default: the global --seed)");
  cmd->add_option("--out", o->out,
                  "HDF5 file to write (atomically); while the scan runs, OUT.partial.h5 holds the "
                  "points computed so far (what a crash leaves; removed at the end)")
      ->required();

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    ds::GridScanSettings settings;
    settings.n = o->grid;
    std::tie(settings.center_omega_m, settings.center_sigma_8) = parse_center(o->center);
    settings.half_width = o->half_width;
    settings.full_prior = o->full_prior;
    settings.adaptive = o->adaptive;
    settings.refine_target = ds::parse_refine_target(o->refine);
    settings.contour_safety = o->contour_safety;
    settings.contour_tolerance = o->contour_tolerance;
    if ((cmd->count("--refine") || cmd->count("--contour-safety") ||
         cmd->count("--contour-tolerance")) &&
        !o->adaptive)
      throw ds::InvalidArgument(
          "--refine, --contour-safety and --contour-tolerance need --adaptive");
    if (cmd->count("--contour-tolerance") &&
        settings.refine_target != ds::GridScanSettings::RefineTarget::Contours)
      throw ds::InvalidArgument("--contour-tolerance needs --refine contours");
    settings.coarse_stride = o->coarse_stride;
    settings.batch_points = o->batch;
    ds::validate_grid_settings(settings);  // before loading anything
    require_output_folder(o->out);

    if (!o->replay.empty()) return replay_grid(settings, o->replay, o->out);
    if (o->input.model.empty())
      throw ds::InvalidArgument("vlb-grid: --model MODEL (or --replay MAP) is required");
    const std::uint64_t seed = cmd->count("--seed") ? o->seed : options.seed;
    ds::GridScan scan;
    std::string likelihood_name;               // "20 terms" or "ELBO, S = 50, K = 8"
    std::unique_ptr<PartialGridFile> partial;  // removed when it goes, however the command ends
    const auto on_update = [&](const ds::GridScanUpdate& u) { partial->update(u); };
    if (o->input.field.empty() && o->input.cloud.empty())
      throw ds::InvalidArgument("vlb-grid: --field FILE (the observed field) is required");
    const LikelihoodInput input =
        load_likelihood_input(o->input, seed, options.parsed_device(), "common");
    const ds::ModelLikelihood& likelihood = input.likelihood;
    partial = std::make_unique<PartialGridFile>(o->out, *likelihood.likelihood, settings,
                                                likelihood.provenance);
    scan = ds::scan_likelihood_grid(*likelihood.likelihood, settings,
                                    progress_context(options, "vlb-grid"), on_update);
    record_source(scan.provenance, likelihood.provenance);
    likelihood_name = likelihood.name;
    ds::write_grid_scan(o->out, scan);
    partial.reset();

    print_summary(scan, likelihood_name);
    std::printf("wrote %s\n", o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
