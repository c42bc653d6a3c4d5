// diffuscope-cli report --model M [--mocks REF.h5 | --mock-kind K] [--fields K] --out DIR: the
// validation report of a field model (core/include/diffuscope/report/report.h): emulator
// statistics against mocks, the calibration of the likelihood over K mock fields, and for GRF mocks
// the posterior against the exact one. Writes DIR/report.json, DIR/report.md, DIR/csv/*.csv and,
// when built with the GUI, the figures DIR/figures/*.png|pdf (rendered offscreen). Resumable: a
// rerun with the same options continues where a killed one stopped. --figures-only DIR renders
// the figures of an existing report.
//
// diffuscope-cli report-calibration --field D.h5 --index I --out FIELD.json: the calibration block
// of `report` for one field of a file (ds::run_report_field), the per-field command of the batch
// task report-calibration (`batch plan --task report-calibration`; `batch merge --report DIR`
// assembles the report of the fields).
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "commands/commands.h"
#include "diffuscope/error.h"
#include "diffuscope/report/report.h"

#ifdef DS_HAVE_REPORT_FIGURES
#include <QString>

#include "ui/report/report_figures.h"
#endif

namespace dscli {

namespace {

struct ReportOptions {
  ds::ReportSettings settings;
  std::string likelihood = "vlb", sampler = "ddim", out;
  std::uint64_t seed = 0;
  bool figures_only = false, no_emulator = false;
  int draws = 0;  // --draws: VLB or ELBO draws (0: each bound's default)
  // report-calibration
  ds::ReportFieldRequest field;
};

// The options of the calibration block, shared by `report` and `report-calibration`.
void add_calibration_options(CLI::App* cmd, ReportOptions& o) {
  ds::ReportSettings& s = o.settings;
  cmd->add_option("--likelihood", o.likelihood,
                  "vlb|elbo|exact-grf|pk-baseline: the likelihood calibrated (default: the "
                  "model's bound, the VLB of a field model, the ELBO of a point-cloud model; "
                  "exact-grf and pk-baseline need no model)");
  cmd->add_option("--t-max,--tmax", s.t_max, "VLB terms T_MAX (default 20)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--draws", o.draws,
                  "common-noise draws of the bound: VLB (default 1) or ELBO (default 8)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--elbo-steps", s.elbo_steps,
                  "Riemann steps S of a point-cloud model's ELBO (default 50, as published)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--slab", s.slab, "slab thickness of mocks and exact GRF likelihood (5 Mpc/h)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--coarse", s.grid.coarse_points,
                  "posterior grid: points per axis of the coarse scan of the prior (default 5)")
      ->check(CLI::Range(3, 200));
  cmd->add_option("--window", s.grid.window_points,
                  "posterior grid: points per axis of each window around the maximum (default 9)")
      ->check(CLI::Range(5, 400));
  cmd->add_flag("--climb", s.grid.climb,
                "posterior grid: climb to the maximum (pattern search) before the first window; "
                "for likelihoods far sharper than the coarse scan (always on for a point-cloud "
                "model's ELBO)");
  cmd->add_option("--max-levels", s.grid.max_levels,
                  "posterior grid: at most this many windows (4)")
      ->check(CLI::Range(1, 20));
  cmd->add_flag("--nuts", s.nuts,
                "each field's posterior from NUTS (likelihood x flat prior, chains started at "
                "the grid's maximum) instead of the grid: intervals, z and ranks from the draws, "
                "with R-hat, ESS and divergences in the record (costly with the vlb likelihood "
                "on a CPU: a GPU node's job)");
  cmd->add_option("--nuts-chains", s.nuts_chains, "with --nuts: chains per field (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--nuts-warmup", s.nuts_warmup, "with --nuts: warm-up iterations (default 300)")
      ->check(CLI::Range(10, 100000));
  cmd->add_option("--nuts-draws", s.nuts_draws, "with --nuts: kept draws per chain (default 500)")
      ->check(CLI::Range(10, 1000000));
  cmd->add_flag("--ema", s.ema, "use the model's EMA weights");
  cmd->add_option("--seed", o.seed,
                  "seed of every mock, sample and noise (default: the global --seed)");
}

// The settings of the parsed options.
ds::ReportSettings parsed_settings(const CLI::App* cmd, const ReportOptions& o,
                                   const GlobalOptions& options) {
  ds::ReportSettings s = o.settings;
  s.device = options.parsed_device();
  s.seed = cmd->count("--seed") ? o.seed : options.seed;
  s.likelihood = ds::kLikelihoodKinds.from_string(o.likelihood);
  if (o.draws > 0) s.vlb_draws = s.elbo_draws = o.draws;
  // The sampler names of both kinds: a field model takes ddim|ancestral|ode, a point-cloud model
  // ancestral|ode (its default when --sampler is not given).
  const auto given = [cmd](const char* name) {  // report-calibration has no sampler options
    const CLI::Option* option = cmd->get_option_no_throw(name);
    return option != nullptr && option->count() > 0;
  };
  if (given("--sampler")) s.cloud_sampler = o.sampler;
  if (given("--steps")) s.cloud_steps = s.sampler.steps;
  s.sampler.kind = ds::kDiffusionSamplers.from_string(o.sampler);
  s.emulator = !o.no_emulator;
  if (!s.nuts &&
      (cmd->count("--nuts-chains") || cmd->count("--nuts-warmup") || cmd->count("--nuts-draws")))
    throw ds::InvalidArgument("--nuts-chains, --nuts-warmup and --nuts-draws need --nuts");
  return s;
}

}  // namespace

// Renders the figures when this build can; returns how many were written (-1: cannot).
int render_report_figures(const std::string& dir, bool quiet) {
#ifdef DS_HAVE_REPORT_FIGURES
  try {
    const dsui::ReportFigureResult r =
        dsui::render_report_figures_offscreen(QString::fromStdString(dir));
    if (!quiet)
      std::fprintf(stderr, "report: rendered %d figures (PNG and PDF) into %s/figures\n",
                   int(r.figures.size()), dir.c_str());
    return int(r.figures.size());
  } catch (const std::runtime_error& e) {
    throw ds::Error(std::string("report figures: ") + e.what());
  }
#else
  (void)quiet;
  std::fprintf(stderr,
               "report: figures not rendered (this diffuscope-cli was built without the GUI, "
               "DS_BUILD_GUI=OFF); the numbers are in %s/report.json and csv/. Render them later "
               "with a GUI build: diffuscope-cli report --figures-only --out %s\n",
               dir.c_str(), dir.c_str());
  return -1;
#endif
}

Action add_report_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<ReportOptions>();
  ds::ReportSettings& s = o->settings;
  CLI::App* cmd = app.add_subcommand(
      "report",
      "validation report of a model. A 2D field model: emulated P(k), one-point PDF, 1P and CV "
      "statistics against mocks; a point-cloud model: kNN-CDF, 2PCF, mass function and pairwise "
      "velocity of generated catalogues against lognormal halo mocks. Both: coverage, z-scores, "
      "rank histograms and expected coverage of the likelihood's posterior over K mocks (grid "
      "posteriors); for GRF mocks the posterior against the exact one. Writes DIR/report.json, "
      "report.md, csv/ and figures/ (PNG, PDF); resumable and deterministic for a seed");
  cmd->add_option("--model", s.model, "M: the model (a 2D field or point-cloud model)");
  cmd->add_option(
      "--mocks", s.mocks,
      "REF.h5: mock fields with parameters (emulator: its cosmologies with >= 3 fields; "
      "calibration: K fields chosen by the seed); default: generate --mock-kind mocks");
  cmd->add_option("--mock-kind", s.mock_kind,
                  "grf|lognormal|zeldovich: mocks generated here (default: the kind the model was "
                  "trained on)");
  cmd->add_option("--res", s.resolution,
                  "pixels per side of generated mocks (default: the model's)")
      ->check(CLI::Range(8, 1024));
  cmd->add_option("--box", s.box_size, "box of generated mocks, Mpc/h (default: the model's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--fields", s.fields, "K calibration fields (default 30)");
  cmd->add_option("--cosmologies", s.cosmologies,
                  "validation cosmologies of the emulator block, a Latin hypercube (default 10)");
  cmd->add_option("--mocks-per-cosmo", s.mocks_per_cosmology, "mocks per cosmology (default 10)");
  cmd->add_option("--generated-per-cosmo", s.generated_per_cosmology,
                  "generated fields per cosmology (default 10)");
  cmd->add_option("--one-p-values", s.one_p_values,
                  "1P values per parameter, odd (default 5; 0: no 1P block)");
  cmd->add_option("--one-p-seeds", s.one_p_seeds, "1P seeds (default 4)")
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--cv-mocks", s.cv_mocks,
                  "CV mocks at the fiducial (default 32; 0: no CV block)");
  cmd->add_option("--cv-generated", s.cv_generated, "generated CV fields (default 32)");
  cmd->add_flag("--no-emulator", o->no_emulator, "skip the emulator block (calibration only)");
  cmd->add_option("--halo-mesh", s.halo_mesh,
                  "lognormal mesh per axis of the halo mocks of a point-cloud model (default 128)")
      ->check(CLI::Range(16, 256));
  cmd->add_option("--queries", s.halo_queries,
                  "uniform query points of the kNN-CDFs of a point-cloud model (default 10000)")
      ->check(CLI::Range(100, 10000000));
  add_calibration_options(cmd, *o);
  cmd->add_option("--sampler", o->sampler,
                  "emulator sampler: ddim (default), ancestral, ode; a point-cloud model: "
                  "ancestral or ode (default: the model's)");
  cmd->add_option("--steps", s.sampler.steps,
                  "sampler steps (default 50; a point-cloud model: the model's default)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--clip", s.sampler.clip_x0,
                  "clip predicted x0 to +-this (0: off; default: 1 for a log10-minmax model, whose "
                  "maps live in [-1, 1], off for others)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", o->out, "DIR: the report folder (created; a rerun resumes)")->required();
  cmd->add_flag("--figures-only", o->figures_only,
                "only render the figures of the report in --out (from its report.json and CSVs)");

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    if (o->figures_only) {
      ds::rebuild_report(o->out);  // FileError when --out holds no report
      return render_report_figures(o->out, options.quiet) >= 0 ? 0 : 1;
    }
    const ds::ReportSettings s = parsed_settings(cmd, *o, options);
    ds::ReportResult r;
    try {
      r = ds::run_report(s, o->out, progress_context(options, "report"));
    } catch (const ds::Cancelled&) {
      std::fprintf(stderr,
                   "diffuscope-cli: cancelled; finished fields are kept: rerun the same command "
                   "to resume\n");
      return cancelled_exit_status();
    }
    std::printf(
        "report: %zu calibration fields computed, %zu reused; %zu emulator blocks "
        "computed, %zu reused; %.1f s\n",
        r.fields_computed, r.fields_reused, r.blocks_computed, r.blocks_reused, r.seconds);
    std::printf("wrote %s and %s (%zu figures listed)\n", r.json_path.c_str(),
                r.markdown_path.c_str(), r.figures.size());
    render_report_figures(o->out, options.quiet);
    return 0;
  };
}

Action add_report_calibration_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report-calibration",
      "the calibration block of `report` for one field of a file: its posterior on a grid "
      "refined around the maximum (and the exact GRF posterior for a GRF field), its truth, "
      "z-scores, intervals and rank, as one JSON record; the per-field command of `batch plan "
      "--task report-calibration`, whose `batch merge --report DIR` writes the report");
  cmd->add_option("--model", o->settings.model, "M: the 2D field model (the vlb likelihood)");
  cmd->add_option("--field", o->field.fields_file,
                  "D.h5 | CAMELS Maps_*.npy | D.npy: the fields (truths from the file)")
      ->required();
  cmd->add_option("--index", o->field.index, "the field of the file (default 0)");
  cmd->add_flag("--physical", o->field.physical,
                "a plain .npy holds physical densities (HDF5 datasets and CAMELS maps say so)");
  cmd->add_option("--pk-load", o->field.pk_baseline_file,
                  "B.json: the P(k) baseline of --likelihood pk-baseline");
  add_calibration_options(cmd, *o);
  cmd->add_option("--out", o->out, "FIELD.json: the record (written atomically)")->required();

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    const ds::ReportSettings s = parsed_settings(cmd, *o, options);
    const ds::ReportFieldResult r =
        ds::run_report_field(s, o->field, o->out, progress_context(options, "report-calibration"));
    for (int p = 0; p < 2; ++p) {
      const char* name = p == 0 ? "Omega_m" : "sigma_8";
      if (r.has_truth)
        std::printf("%-8s %.5f +- %.5f (truth %.5f, z %+.2f)\n", name, r.mean[p], r.sd[p],
                    r.truth[p], (r.mean[p] - r.truth[p]) / r.sd[p]);
      else
        std::printf("%-8s %.5f +- %.5f\n", name, r.mean[p], r.sd[p]);
    }
    std::printf("wrote %s%s (%.2f s)\n", o->out.c_str(),
                r.exact ? " with the exact GRF posterior" : "", r.seconds);
    return 0;
  };
}

}  // namespace dscli
