// The validation report of a model (issue 17): can its emulated fields (or halo catalogues) and
// its posterior be trusted? One call writes everything under an output folder:
//
//   DIR/report.json     every number (below), and the list of figures with the CSV behind each
//   DIR/report.md       the headline figures in words, the figures embedded (DIR/figures/*.png)
//   DIR/csv/<figure>.csv one table per figure (the columns the figure plots)
//   DIR/settings.json   the settings the report was made with (a rerun must match them)
//   DIR/timings.json    wall times of this run (the only output that differs between runs)
//   DIR/emulator/*.json one file per finished emulator block (LH cosmology c, 1P, CV)
//   DIR/fields/NNN.json one file per finished calibration field
//
// Blocks:
//  - emulator (needs a model): at N validation cosmologies (a Latin hypercube drawn by the seed,
//    or the cosmologies of --mocks with >= 3 fields) the P(k) of generated fields against the
//    mocks' (stats/ensemble.h compare_ensembles: envelopes, ratio, the reduced chi^2 of eq. 10
//    next to the mocks' leave-one-out value) and the histograms of log10 density (of the value
//    for density-contrast fields); the 1P set (P(k) / P(k) at the fiducial, seed by seed, for each
//    value of each parameter; the model with shared noise across parameters); a CV set at the
//    fiducial (std of P(k) and its ratio to the mocks', correlation matrices of both).
//  - calibration: K mock fields with known truth (one per cosmology of a second Latin hypercube,
//    or K fields of --mocks chosen by the seed); each field's posterior on a grid (report/
//    posterior_grid.h: a coarse scan of the prior box, then windows around the maximum until the
//    posterior spans several cells per sd), the checks of infer/grids/grid_posterior.h, and a
//    summary per parameter (report/calibration_summary.h).
//  - exact comparison (GRF mocks, a likelihood other than exact-grf): each field's exact GRF
//    posterior on its own grid, and the model posterior against it.
//
// A point-cloud (halo) model gets the same report with its own statistics (report_points.cpp):
//  - emulator: at N validation cosmologies (a Latin hypercube, or those of --mocks, a Points set),
//    kNN-CDFs (k = 1, 5, 9), the 2PCF, the cumulative mass function and the pairwise velocity
//    v12(r) of generated catalogues against lognormal halo mocks: envelopes and the reduced chi^2
//    of each statistic next to the mocks' leave-one-out value (stats/halo_statistics.h). No 1P,
//    CV or one-point blocks.
//  - calibration: K mock catalogues with known truth, each's posterior on a grid of the model's
//    ELBO (S = elbo_steps, K = elbo_draws common draws), summarised as for fields.
//  The likelihood is the ELBO whatever `likelihood` says (vlb or elbo; others are refused).
//
// Resumable: a finished block or field is written atomically (temporary + rename) to its own
// file and read back on a rerun with the same settings, so a killed report continues where it
// stopped and ends with the same report.json. Deterministic: every random draw derives from the
// seed and the block or field index (ds::mix_seed), never from the order of work. Cancellable
// between fields, grid rows and sampler steps (throws Cancelled; finished files stay).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/infer/field_likelihood.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"
#include "diffuscope/report/posterior_grid.h"

namespace ds {

struct ReportSettings {
  // Inputs. model: a 2D field model (required for the emulator block and the vlb likelihood).
  // mocks: a dataset of fields with parameters; "" = generate mocks of mock_kind here.
  std::string model, mocks;
  std::string mock_kind;  // grf | lognormal | zeldovich; "" = the model's training generator
  int resolution = 0;     // pixels per side of generated mocks; 0 = the model's (else 64)
  double box_size = 0.0;  // Mpc/h; 0 = the model's (else 25)
  double slab = 5.0;      // Mpc/h, slab of generated mocks and of the exact GRF likelihood
  Device device = Device::Cpu;
  bool ema = false;

  // Emulator block.
  bool emulator = true;  // false: calibration only (always off without a model)
  int cosmologies = 10;  // validation cosmologies (>= 10 for a full report)
  int mocks_per_cosmology = 10;
  int generated_per_cosmology = 10;
  int one_p_values = 5;  // values per parameter (odd: the middle one is the fiducial); 0 = none
  int one_p_seeds = 4;   // seeds shared by all values
  int cv_mocks = 32;     // CV set; 0 = none
  int cv_generated = 32;
  int cv_bins = 12;  // log bins of P(k) for the correlation matrices
  int histogram_bins = 50;
  DiffusionSamplerSettings sampler;  // DDIM 50 steps, clip_x0 1 (set in the constructor below)

  // Calibration block.
  int fields = 30;  // K >= 2
  LikelihoodKind likelihood = LikelihoodKind::Vlb;
  int t_max = 20;     // VLB terms
  int vlb_draws = 1;  // common-noise draws of the VLB (the noise of field i from (seed, i))
  PosteriorGridSettings grid;
  // NUTS on request: each field's posterior from NUTS on likelihood x flat prior over the prior
  // box, its chains started at the grid's maximum (the grid is still made, and kept in the
  // record as "grid_posterior"); intervals, z and rank from the pooled draws
  // (infer/baselines/calibration.h check_field), with R-hat, bulk ESS and divergences. Chains
  // of field i are seeded with mix_seed(seed, 2^21 + i). Off: the grid posterior alone.
  bool nuts = false;
  int nuts_chains = 4, nuts_warmup = 300, nuts_draws = 500;
  int rank_bins = 10;
  std::vector<double> coverage_levels;  // credibility levels of the expected-coverage curve
                                        // (empty: 0.05, 0.10, ..., 0.95, 0.99)
  // A point-cloud model (the halo report): its ELBO with S Riemann steps and K common draws (the
  // draws of catalogue i from (seed, i)); generated catalogues from the model's default sampler
  // and steps unless given; lognormal halo mocks on a mesh of halo_mesh^3; kNN-CDFs from
  // halo_queries uniform query points.
  int elbo_steps = 50, elbo_draws = 8;
  std::string cloud_sampler;  // "": the model's default (ancestral | ode)
  int cloud_steps = 0;        // 0: the model's default
  int halo_mesh = 128;
  int halo_queries = 10000;

  // pk-baseline likelihood: mocks generated here of the mock kind (infer/baselines/pk_baseline.h).
  int pk_cosmologies = 60, pk_per_cosmology = 4, pk_covariance_mocks = 150;

  std::uint64_t seed = 0;

  ReportSettings() {
    sampler.kind = DiffusionSamplerKind::Ddim;
    sampler.steps = 50;
    sampler.clip_x0 = -1.0;  // automatic: 1 for a log10-minmax model, off otherwise
  }
};

struct ReportResult {
  std::string json_path, markdown_path;
  std::vector<std::string> figures;  // names of the figures report.json lists
  std::size_t fields_computed = 0, fields_reused = 0;
  std::size_t blocks_computed = 0, blocks_reused = 0;
  double seconds = 0.0;
};

// Checks the settings and the inputs (model file, mocks file, their compatibility) before any
// work; throws InvalidArgument / FileError naming the option, file and value. Then runs the
// report as described above. out_dir is created when missing; a folder holding a report made with
// other settings is refused (FileError naming the folder and the first differing setting).
ReportResult run_report(const ReportSettings& settings, const std::string& out_dir,
                        const JobContext& job = {});

// The settings as JSON text (what settings.json holds; a rerun must match them).
std::string report_settings_json(const ReportSettings& settings);

// One calibration field of a file (the batch task report-calibration, `diffuscope-cli
// report-calibration`): the calibration block of run_report for field `index` of `fields_file`,
// read through read_observation (an HDF5 dataset or CAMELS stack: physical values, box and truth
// as recorded; a plain .npy only with physical = true, box from the model or 25 Mpc/h, no truth).
// Its posterior on a grid under settings.likelihood (vlb: settings.model, T_MAX, draws and the VLB
// noise of run_report for this index under settings.seed; exact-grf; pk-baseline: the baseline in
// pk_baseline_file) and, for a GRF field scored by another likelihood, the exact GRF posterior.
// Writes out_path (the record of a report's fields/NNN.json, plus the settings it depends on)
// atomically. Throws InvalidArgument / FileError naming the option, file and value before any
// work; Cancelled when cancelled (nothing written).
struct ReportFieldRequest {
  std::string fields_file;
  std::size_t index = 0;
  bool physical = false;         // a plain .npy holds physical values
  std::string pk_baseline_file;  // B.json (pk_baseline.h's JSON) for --likelihood pk-baseline
};
struct ReportFieldResult {
  bool has_truth = false;
  double truth[2] = {0.0, 0.0};
  double mean[2] = {0.0, 0.0}, sd[2] = {0.0, 0.0};
  bool exact = false;  // the exact GRF posterior was computed too
  double seconds = 0.0;
};
ReportFieldResult run_report_field(const ReportSettings& settings,
                                   const ReportFieldRequest& request, const std::string& out_path,
                                   const JobContext& job = {});

// A calibration report from field records written by run_report_field (`batch merge --report`):
// report.json, report.md and csv/ under out_dir, as run_report writes them without the emulator
// block (the figures are the GUI's, ui/report/report_figures.h). The records must agree on their
// settings and carry truths; throws FileError naming the first record that does not.
// fields_description names the fields in report.md; seed is the run's.
ReportResult write_calibration_report(const std::vector<std::string>& field_files,
                                      const std::string& out_dir,
                                      const std::string& fields_description, std::uint64_t seed);

// The paths and figure list of a finished report folder (for rendering its figures later).
// Throws FileError when the folder holds no report.json.
ReportResult rebuild_report(const std::string& out_dir);

}  // namespace ds
