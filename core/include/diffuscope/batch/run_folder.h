// A batch run folder (issue 19, part 1): one task (a likelihood grid, a posterior sampler or the
// validation report's calibration block) run over many fields of one file, as independent SLURM
// array tasks or local worker processes.
//
// Layout of RUN/:
//   manifest.json        every setting (BatchManifest), written once by `batch plan`
//   array.sbatch         the SLURM array script (slurm_script.h)
//   logs/                one log per array task (SLURM writes them; local runs too)
//   out/field-<i>.<ext>  the complete output of field i (ext: h5 for grids, nc for chains, json
//                        for report calibration records),
//                        renamed into place only once complete
//   out/field-<i>.failed the error of the last failed attempt at field i (one line)
//   out/.field-<i>.partial/  scratch of an attempt in progress, removed by the next attempt
// Array task t runs fields t * chunk .. (t + 1) * chunk - 1 of the manifest's list; a field whose
// output exists is skipped, so re-submitting an array finishes only what is missing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "diffuscope/registry.h"

namespace ds {

enum class BatchTask { VlbGrid, Nuts, Hmc, ReportCalibration };
inline constexpr Registry<BatchTask, 4> kBatchTasks{
    "batch task",
    {{{BatchTask::VlbGrid, "vlb-grid", "Likelihood grid",
       "truncated-VLB likelihood map over (Omega_m, sigma_8), as `vlb-grid`"},
      {BatchTask::Nuts, "nuts", "NUTS posterior", "NUTS chains of the VLB posterior, as `nuts`"},
      {BatchTask::Hmc, "hmc", "HMC posterior", "HMC chains of the VLB posterior, as `hmc`"},
      {BatchTask::ReportCalibration, "report-calibration", "Report calibration",
       "the validation report's calibration block per field (refined grid posterior, z, rank; "
       "the exact GRF posterior for GRF fields), as `report-calibration`"}}}};

// The extension of a task's per-field output: "h5" (grid scan), "nc" (ArviZ chains) or "json"
// (a report's calibration field record, report/report.h run_report_field).
std::string batch_output_extension(BatchTask task);
// Whether a task's outputs are MCMC chains (nuts, hmc): the merged table then has R-hat, ESS and
// divergences.
bool batch_task_has_chains(BatchTask task);

// SLURM resources of one array task; empty strings / 0 leave SLURM's defaults.
struct SlurmResources {
  std::string partition;
  std::string time = "01:00:00";  // [D-]HH:MM:SS, MM:SS or minutes
  int cpus_per_task = 1;
  std::string mem;  // e.g. 4G (per node); "" = the partition's default
  int gpus = 0;     // GPUs per task (--gres=gpu:G)
};

struct BatchField {
  std::size_t index = 0;   // in the fields file
  std::uint64_t seed = 0;  // the task's --seed for this field: mix_seed(run seed, index)
};

struct BatchManifest {
  std::string fields_file;  // absolute path
  std::size_t fields_in_file = 0;
  BatchTask task = BatchTask::VlbGrid;
  // Options of the task command (`vlb-grid` / `nuts` / `hmc` / `report-calibration`), paths made
  // absolute; the batch adds
  // --field, --index, --seed and --out per field.
  std::vector<std::string> task_arguments;
  // Global options placed before the command (--device ...).
  std::vector<std::string> global_arguments;
  std::uint64_t seed = 0;
  std::size_t fields_per_task = 1;
  std::vector<BatchField> fields;
  SlurmResources slurm;
  std::string cli;         // the program array.sbatch calls
  std::string version;     // Diffuscope version that planned the run
  std::string created_at;  // ISO 8601, UTC

  std::size_t task_count() const;
  // Positions in `fields` of array task t; throws InvalidArgument when t >= task_count().
  std::vector<std::size_t> task_fields(std::size_t task) const;
};

// "0,3,5-9" -> 0 3 5 6 7 8 9 (order kept, duplicates refused); "" or "all" -> 0 .. count - 1.
// Throws InvalidArgument naming the text and the bad item (not a number, a reversed range, an
// index >= count, a repeated index).
std::vector<std::size_t> parse_index_list(const std::string& text, std::size_t count);
// The inverse: ascending runs written as ranges ("0,3,5-9"); "" for none.
std::string format_index_list(const std::vector<std::size_t>& indices);

// Fields (indices, each seeded with mix_seed(seed, index)).
std::vector<BatchField> seed_fields(const std::vector<std::size_t>& indices, std::uint64_t seed);

// RUN/manifest.json, written atomically / read back. read throws FileError naming the file and
// the problem (missing: "not a batch run folder"; malformed JSON; a missing or invalid key).
void write_batch_manifest(const std::string& run_folder, const BatchManifest& manifest);
BatchManifest read_batch_manifest(const std::string& run_folder);
std::string batch_manifest_path(const std::string& run_folder);

// Paths of field `index` in a run folder (see the layout above).
std::string batch_output_path(const std::string& run_folder, const BatchManifest& manifest,
                              std::size_t index);
std::string batch_failure_path(const std::string& run_folder, std::size_t index);
std::string batch_partial_folder(const std::string& run_folder, std::size_t index);

// Done / failed / missing fields of a run (indices ascending within each list).
struct BatchStatus {
  std::vector<std::size_t> done, failed, missing;
  std::map<std::size_t, std::string> errors;  // failed index -> its error line
  std::vector<std::size_t> unfinished_tasks;  // array task ids with a failed or missing field
};
BatchStatus batch_status(const std::string& run_folder, const BatchManifest& manifest);

}  // namespace ds
