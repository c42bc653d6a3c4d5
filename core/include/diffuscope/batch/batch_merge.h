// Merging a batch run folder (run_folder.h) into one HDF5 file: every field's complete output and
// a table of per-field posteriors with their truths, ready for calibration plots.
//
// Layout of the merged file (written atomically):
//   /fields/<index>     a copy of field <index>'s output (the grid scan, or the ArviZ groups
//                       /posterior and /sample_stats of its chains), attributes included; for
//                       report-calibration a string dataset holding the field's JSON record
//   /posterior/index    [K] int64, the merged fields in the run's order
//   /posterior/mean, sd, lo68, hi68, lo95, hi95   [K, 2] float64, (Omega_m, sigma_8); the 68% and
//                       95% central intervals (calibration.h for chains, grid_posterior.h for
//                       grids under the flat prior on the grid, the record's final grid for
//                       report-calibration)
//   /posterior/r_hat, ess_bulk [K, 2], divergences [K]  (chains only)
//   /posterior/truth, z [K, 2], inside68, inside95 [K, 2] int64 0/1   (when the fields file
//                       carries truths, field_file.h)
//   /calibration/coverage_68, coverage_95, z_mean, z_sd [2]   (with truths)
//   /manifest           the run's manifest.json text
//   root attributes: format "diffuscope-batch-merge", task, fields_file, fields_planned,
//   fields_merged, missing (index list, "" when complete), version, parameter_names.
#pragma once

#include <string>
#include <vector>

#include "diffuscope/batch/run_folder.h"
#include "diffuscope/infer/baselines/calibration.h"

namespace ds {

struct BatchMerge {
  std::vector<std::string> names;  // Omega_m, sigma_8
  bool has_truth = false;
  std::vector<FieldCalibration> fields;       // merged fields, the run's order
  std::vector<ParameterCalibration> summary;  // with truths only
  std::vector<std::size_t> missing;           // planned fields not merged (allow_missing)
};

// The per-field posteriors of the done fields. Unless allow_missing, throws FileError naming the
// run folder and the failed and missing indices when a field is not done; always when none is.
BatchMerge summarize_batch_run(const std::string& run_folder, const BatchManifest& manifest,
                               bool allow_missing);

// Writes the merged file of the layout above (the summary from summarize_batch_run).
void write_batch_merge(const std::string& path, const std::string& run_folder,
                       const BatchManifest& manifest, const BatchMerge& merge);

// A merged file read back (the app's Batch results window): the table and, with truths, the
// calibration summary recomputed from it (summarize_calibration, so the standard errors are
// there too).
struct BatchMergeFile {
  std::string path;
  std::string task;         // vlb-grid | nuts | hmc | report-calibration
  bool chains = false;      // r_hat, ess_bulk and divergences are filled
  std::string fields_file;  // as planned (absolute)
  std::size_t fields_planned = 0;
  std::string missing;  // index list of planned fields not merged ("" when complete)
  std::string version;
  BatchMerge merge;  // names, has_truth, fields (index, parameters), summary
};

// Whether path is an HDF5 file whose root says format "diffuscope-batch-merge". Never throws.
bool is_batch_merge_file(const std::string& path);

// Throws FileError naming the path and the problem (not a merged file, a table of the wrong
// shape).
BatchMergeFile read_batch_merge(const std::string& path);

}  // namespace ds
