// Pieces shared by the report's sources: JSON files written atomically and read back with NaN
// kept (nlohmann writes NaN as null), and the figure specifications report.json lists (the figure
// module of the GUI, ui/report/report_figures.h, draws them from these and the CSV files).
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/infer/baselines/pk_baseline.h"
#include "diffuscope/report/report.h"
#include "diffuscope/stats/power_spectrum_2d.h"

namespace ds::report_detail {

using Json = nlohmann::ordered_json;

inline constexpr const char* kParameterNames[2] = {"Omega_m", "sigma_8"};

inline double num(const Json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}
inline std::vector<double> nums(const Json& j) {
  std::vector<double> v;
  for (const auto& x : j) v.push_back(num(x));
  return v;
}

void write_json(const std::string& path, const Json& j);
// Returns false when the file does not exist; throws FileError for a malformed one.
bool read_json(const std::string& path, Json& j);

// One figure: columns of a CSV table and panels of series drawn from them.
//   style: line | dashed | points | band (y_lo..y_hi filled) | errorbars (y +- y_lo/y_hi as
//   absolute bounds) | step (histogram: x = left edges) | map (x = column, y = row, z = value of a
//   size x size matrix; one per panel)
class FigureBuilder {
 public:
  FigureBuilder(std::string name, std::string title, std::string caption);
  // Adds a column (padded with empty cells in the CSV); returns its name.
  std::string column(const std::string& name, const std::vector<double>& values);
  // Starts a panel; series added next belong to it.
  void panel(const std::string& title, const std::string& x_label, const std::string& y_label,
             bool log_x = false, bool log_y = false);
  void series(const std::string& label, const std::string& style, const std::string& x,
              const std::string& y, int color, const std::string& y_lo = {},
              const std::string& y_hi = {});
  void map(const std::string& label, const std::string& x, const std::string& y,
           const std::string& z, int size, double z_lo, double z_hi);
  void panel_range(double x_lo, double x_hi, double y_lo, double y_hi);
  // Where the panel's legend goes: top_right (default), top_left, bottom_right.
  void legend(const std::string& corner);
  // "columns" (panels side by side, the default) or "rows" (stacked).
  void layout(const std::string& layout) { layout_ = layout; }

  // Writes DIR/csv/<name>.csv and returns the figure's JSON (name, title, caption, csv, png, pdf,
  // panels).
  Json finish(const std::string& out_dir) const;

 private:
  std::string name_, title_, caption_, layout_ = "columns";
  std::vector<std::string> column_names_;
  std::vector<std::vector<double>> columns_;
  Json panels_ = Json::array();
};

// P(k) of one field up to Nyquist (Pylians conventions), the field read as `kind`.
PowerSpectrum field_spectrum(const float* values, int n, double box, FieldKind kind);
// The values a histogram of a field shows: log10 of a density (positive pixels), the contrast
// itself.
void histogram_values(const float* values, std::size_t count, FieldKind kind,
                      std::vector<double>& out);

std::string fixed(double v, int digits);

// The emulator blocks (report_emulator.cpp). Each returns the block's JSON, written as one file.
struct EmulatorContext {
  const DiffusionModel2d* model = nullptr;
  const ReportSettings* settings = nullptr;
  int n = 0;
  double box = 0.0;
  FieldKind kind = FieldKind::Density;
  JobContext cancel;  // cancellation only (no progress)
};
// One validation cosmology: mocks[m] points to an n x n field.
Json emulator_lh_block(const EmulatorContext& c, const std::vector<double>& theta,
                       const std::vector<const float*>& mocks, std::uint64_t seed);
// The 1P set of sets.h (C values per parameter, M seeds, [(p C + v) M + m]).
Json emulator_one_p_block(const EmulatorContext& c, const Dataset& mocks, int values, int seeds,
                          std::uint64_t seed);
Json emulator_cv_block(const EmulatorContext& c, const Dataset& mocks, int generated,
                       std::uint64_t seed);

// One calibration field (report_field.cpp): what run_report computes K times and run_report_field
// once. The record is the report's fields/NNN.json.
struct FieldRecordInput {
  const ReportSettings* settings = nullptr;
  const DiffusionModel2d* model = nullptr;       // the vlb likelihood
  std::shared_ptr<const PkBaseline> baseline;    // the pk-baseline likelihood
  std::shared_ptr<const LogDensity> likelihood;  // the elbo likelihood (a point model's, made)
  Field2D field;                                 // physical units
  std::string origin;                            // names the field in errors
  std::size_t field_number = 0, dataset_index = 0;
  std::array<double, 2> truth{};  // NaN when the file records none
  bool grf = false;               // also the exact GRF posterior (a GRF field)
  std::uint64_t vlb_seed = 0;     // the VLB's common noise
  JobContext cancel;
};
Json calibration_field_record(const FieldRecordInput& in);
// The settings a calibration field depends on (the record's "settings"; a merged batch run
// checks that its fields agree on them).
Json calibration_settings_json(const ReportSettings& s);
// settings.model loaded (device, EMA) and checked: a 2D field model of (Omega_m, sigma_8). Throws
// FileError naming the file: missing, a point-cloud model, other parameters.
std::shared_ptr<const DiffusionModel2d> load_report_model(const ReportSettings& settings);
// The seed of the VLB noise of dataset field `index` under the report seed.
std::uint64_t vlb_noise_seed(std::uint64_t seed, std::size_t index);

// folder/<prefix>000.json .. folder/<prefix>(count - 1).json: a report's block or field files.
std::vector<std::string> numbered_files(const std::string& folder, const std::string& prefix,
                                        std::size_t count);

// The counts every report needs (K >= 2, >= 1 cosmology, >= 3 mocks and >= 2 generated samples per
// cosmology); InvalidArgument naming the option, `samples` wording the message ("fields").
void check_counts(const ReportSettings& s,
                  const std::string& samples);  // "007": the names of block and field files

// The validation cosmologies of the emulator block and the mocks of each: with `mocks` (a --mocks
// file, mocks_path), its first s.cosmologies cosmologies with >= 3 samples (FileError naming the
// file when none has; `samples` and `command` word the message: "fields", "fields"); without, a
// Latin hypercube of s.cosmologies x s.mocks_per_cosmology drawn with design_seed, as make_set
// orders it.
void validation_cosmologies(const Dataset* mocks, const std::string& mocks_path,
                            const std::string& samples, const std::string& command,
                            const ReportSettings& s, std::uint64_t design_seed,
                            std::vector<std::vector<double>>& thetas,
                            std::vector<std::vector<std::size_t>>& members);

// Progress of a report's resumable work: one unit per block or field file.
struct ReportProgress {
  const JobContext* job = nullptr;
  std::int64_t done = 0, total = 0;
};
// For i in [0, files.size()) in order: a file that exists is reused (counted in `reused`), else
// compute(i) is written to it atomically (counted in `computed`); what(i) names item i in the
// progress ("emulator: cosmology 3/10"). Cancellation is checked before each item.
void write_missing(const std::vector<std::string>& files,
                   const std::function<Json(std::size_t)>& compute,
                   const std::function<std::string(std::size_t)>& what, ReportProgress& progress,
                   std::size_t& reused, std::size_t& computed);

// The report folder out_dir: created (with fields/ and emulator/), or one of the same settings
// (resumed); settings.json written. Throws FileError when it holds a report of other settings.
void prepare_report_folder(const std::string& out_dir, const Json& settings);
// The end of a run: report.json, the CSVs and report.md (write_report_outputs) and
// DIR/timings.json (the run's wall time from `start`, each field's of the run that computed it);
// result's paths, figures and seconds filled in.
void finish_report(const std::string& out_dir, const Json& settings, const Json& inputs,
                   const std::vector<std::string>& emulator_files,
                   const std::vector<std::string>& field_files,
                   std::chrono::steady_clock::time_point start, ReportResult& result);

// The report of a point-cloud model (report_points.cpp); is_point_report: settings.model names
// one.
bool is_point_report(const ReportSettings& settings);
ReportResult run_point_report(const ReportSettings& settings, const std::string& out_dir,
                              const JobContext& job);

// The emulator section of a point-cloud model's report from its halo_lh blocks: report.json's
// "emulator" (the blocks and a summary per statistic), the headlines and the figures (halo_knn,
// halo_xi, halo_hmf, halo_v12, halo_chi2) appended; report.md's table.
void halo_emulator_section(const std::string& dir, const std::vector<Json>& blocks, Json& report,
                           Json& figures, std::vector<std::string>& headlines);
std::string halo_emulator_markdown(const Json& emulator);

// report.json, the CSV tables and report.md from the block files (emulator_files) and the
// calibration field files of a report folder, written atomically (report_assembly.cpp).
ReportResult write_report_outputs(const std::string& dir, const Json& settings, const Json& inputs,
                                  const std::vector<std::string>& emulator_files,
                                  const std::vector<std::string>& field_files);

}  // namespace ds::report_detail
