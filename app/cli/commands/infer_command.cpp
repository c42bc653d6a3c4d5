// diffuscope-cli hmc | nuts | svi | posterior: posterior sampling of a log density (core/infer).
// The log density comes from a pluggable source (load_density()): --target FILE.json:NAME (an
// analytic test density shaped like shared/testdata/goldens/hmc_targets_a.json), --exact-grf FILE
// (the exact GRF likelihood of one field times the flat cosmology prior) or --model M --field
// FILE (the truncated VLB of a diffusion model times the flat prior, model_input.h). Chains go to
// GetDist files under ROOT and to ROOT.nc (ArviZ), optionally ROOT.csv; a one-line summary per
// parameter goes to stderr. While hmc / nuts / posterior sample, the kept draws are appended to
// ROOT.partial.csv (chain_progress.h), so that a killed run keeps them; it is removed once the
// outputs are written, or when the command fails or is cancelled.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/field.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/exact_grf.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/chains/chain_progress.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"
#include "diffuscope/infer/mcmc/hmc.h"
#include "diffuscope/infer/mcmc/nuts.h"
#include "diffuscope/infer/mcmc/surrogate_hmc.h"
#include "diffuscope/infer/mcmc/svi.h"
#include "diffuscope/infer/mcmc/targets.h"
#include "model_input.h"
#include "pk_baseline_input.h"
#include "stats_input.h"

namespace dscli {

namespace {

struct InferOptions {
  // Log-density source.
  std::string target, exact_grf;
  ModelInputOptions model;  // --model M --field FILE ...
  PkPosteriorOptions pk;    // posterior --pk-baseline --field FILE ... (pk_baseline_input.h)
  long index = -1;          // -1: 0 for --exact-grf, the only field for --model
  double box = 0.0;         // Mpc/h; 0: the file's, else 25
  double slab = ds::ProjectedPowerSpectrum::kDefaultSlabThickness;
  // MCMC.
  std::size_t chains = 4, samples = 300, burn_in = 100;
  double step = 0.0;  // 0: the sampler's default
  int leapfrog = 5, max_depth = 10;
  std::string inv_mass, start = "0.3,0.8";
  bool adapt = false, dense = false;
  double target_accept = 0.8;
  std::string boundary = "auto";
  double step_jitter = -1.0;  // negative: the sampler's automatic choice
  // Surrogate HMC.
  int min_leapfrog = 6, max_leapfrog = 18;
  std::size_t design_rounds = 3;
  double length_scale = 1.0;
  // SVI.
  std::size_t steps = 2000, draws = 1000, per_step = 16;
  double learning_rate = 0.05;
  // Output.
  std::uint64_t seed = 0;
  std::string out, formats = "getdist,arviz";
};

// "0.3,0.8" or "0.3,0.8;0.11,0.62" (one point per chain).
std::vector<std::vector<double>> parse_starts(const std::string& text) {
  std::vector<std::vector<double>> out;
  std::stringstream s(text);
  std::string point;
  while (std::getline(s, point, ';')) out.push_back(parse_numbers(point, "--start"));
  return out;
}

struct LoadedDensity {
  std::shared_ptr<const ds::LogDensity> density;
  std::string description;
};

// The VLB noise a command uses unless --noise says otherwise: hmc reproduces the published
// (fresh) configuration; NUTS's U-turn criterion and SVI's gradient steps need a deterministic
// density (common).
std::string default_vlb_noise(const std::string& command) {
  return command == "hmc" ? "fresh" : "common";
}

// The one place a log-density source plugs in.
LoadedDensity load_density(const InferOptions& o, const std::string& command, std::uint64_t seed,
                           ds::Device device) {
  if (o.pk.enabled) {
    if (!o.target.empty() || !o.exact_grf.empty())
      throw ds::InvalidArgument(command + ": --pk-baseline takes no other log-density source");
    const PkPosterior pk =
        load_pk_posterior(o.pk, o.index < 0 ? 0 : std::size_t(o.index), o.box, o.slab, seed);
    return {pk.density, pk.description};
  }
  const int given = int(!o.target.empty()) + int(!o.exact_grf.empty()) +
                    int(!o.model.model.empty() || !o.model.field.empty() || !o.model.cloud.empty());
  if (given != 1)
    throw ds::InvalidArgument(command +
                              ": give exactly one log-density source: --target "
                              "FILE.json:NAME, --exact-grf FILE, --model M --field FILE or "
                              "--model M --cloud FILE");
  if (!o.target.empty()) {
    const auto [path, name] = ds::split_target_spec(o.target);
    return {ds::load_test_target(path, name), "target " + name + " of " + path};
  }
  if (o.exact_grf.empty()) {
    ModelInputOptions options = o.model;
    options.index = o.index;
    if (command == "surrogate-hmc" && options.noise == "fresh")
      throw ds::InvalidArgument(
          "surrogate-hmc: --noise fresh makes the VLB a different function at every "
          "evaluation; delayed acceptance needs the deterministic one (--noise common)");
    LikelihoodInput input =
        load_likelihood_input(options, seed, device, default_vlb_noise(command));
    return {input.likelihood.posterior, input.likelihood.description};
  }
  const std::size_t index = o.index < 0 ? 0 : std::size_t(o.index);
  const bool npy =
      o.exact_grf.size() >= 4 && o.exact_grf.compare(o.exact_grf.size() - 4, 4, ".npy") == 0;
  const FieldInput input = read_field_input(
      o.exact_grf, index, o.box > 0.0 ? o.box : (npy ? ds::kDefaultFieldBoxSize : 0.0));
  ds::GrfSettings settings;
  settings.n = input.field.n;
  settings.box_size = input.field.box_size;
  settings.slab_thickness = o.slab;
  try {
    // The values are the density contrast, as `mock fields --kind grf` writes them.
    auto likelihood =
        std::make_shared<const ds::GrfLikelihood>(input.field.values.data(), settings);
    return {ds::exact_grf_posterior(likelihood),
            "exact GRF posterior of field " + std::to_string(index) + " of " + o.exact_grf};
  } catch (const ds::InvalidArgument& e) {
    throw ds::FileError(o.exact_grf, e.what());
  }
}

// with_model: --model M --field FILE ... (the VLB noise draws under draws_flags).
void add_source_options(CLI::App* cmd, InferOptions& o, bool with_targets, bool with_model,
                        const std::string& command, const std::string& draws_flags = "--draws") {
  if (with_targets)
    cmd->add_option("--target", o.target,
                    "FILE.json:NAME: an analytic test density (correlated_gaussian, "
                    "banana_rosenbrock_like, box_truncated_gaussian) with the params in FILE");
  cmd->add_option("--exact-grf", o.exact_grf,
                  "FILE: a GRF density-contrast field (.npy [N,N] / [M,N,N] or HDF5 dataset); "
                  "samples its exact GRF likelihood times the flat prior on the cosmology box");
  if (with_model)
    add_model_input_options(cmd, o.model, default_vlb_noise(command), draws_flags, false);
  cmd->add_option("--index", o.index,
                  "which field (or cloud) of a stack (default: 0 for --exact-grf, the only one "
                  "for --field / --cloud)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--box", o.box, "box size of the field in Mpc/h (default: the file's, else 25)");
  cmd->add_option("--slab", o.slab, "slab thickness of the GRF model in Mpc/h (default 5)");
}

void add_chain_options(CLI::App* cmd, InferOptions& o) {
  cmd->add_option("--chains", o.chains, "number of chains (default 4)")->check(CLI::Range(1, 256));
  cmd->add_option("--samples", o.samples,
                  "draws per chain in total, burn-in included (default 300: with --burn-in 100, "
                  "200 are kept, as published)");
  cmd->add_option("--burn-in", o.burn_in,
                  "draws per chain discarded first; adaptation happens there (default 100)");
  cmd->add_option("--start", o.start,
                  "start point 'x,y' for every chain, or 'x,y;x,y;...' one per chain (default "
                  "0.3,0.8, the published start)");
  cmd->add_option("--inv-mass", o.inv_mass,
                  "inverse mass matrix M^-1: D values (diagonal) or D*D (dense, row-major); hmc "
                  "default 1,5 (as published), nuts/posterior default unit (then adapted)");
  cmd->add_option("--target-accept", o.target_accept,
                  "target acceptance of the step-size adaptation (default 0.8)")
      ->check(CLI::Range(0.05, 0.999));
  cmd->add_flag("--dense", o.dense, "adapt a dense metric instead of a diagonal one");
  cmd->add_option("--boundary", o.boundary,
                  "at the prior box's walls: reject (stop the trajectory, reject its proposal; "
                  "as published), reflect (bounce off the wall; exact), or auto (default: "
                  "reflect when adapting, reject for fixed hmc)")
      ->check(CLI::IsMember({"auto", "reject", "reflect"}));
}

void add_output_options(CLI::App* cmd, InferOptions& o) {
  cmd->add_option("--seed", o.seed, "seed of the chains (default: the global --seed)");
  const bool chains_in_progress = cmd->get_name() != "svi";
  cmd->add_option("--out", o.out,
                  std::string("ROOT: writes ROOT_1.txt... + ROOT.paramnames/.ranges (GetDist), "
                              "ROOT.nc (ArviZ), ROOT.csv with --formats csv") +
                      (chains_in_progress
                           ? "; while sampling, kept draws are appended to ROOT.partial.csv "
                             "(a killed run keeps them: `diagnose` reads it), removed once the "
                             "outputs are written or the command fails or is cancelled"
                           : ""))
      ->required();
  cmd->add_option("--formats", o.formats,
                  "comma-separated outputs among getdist, arviz, csv (default getdist,arviz)");
}

ds::McmcRun mcmc_run(const InferOptions& o, std::uint64_t seed, const std::string& command) {
  if (o.samples <= o.burn_in)
    throw ds::InvalidArgument(command + ": --samples " + std::to_string(o.samples) +
                              " must exceed --burn-in " + std::to_string(o.burn_in) +
                              " (samples count the burn-in)");
  ds::McmcRun run;
  run.chains = o.chains;
  run.warmup = o.burn_in;
  run.draws = o.samples - o.burn_in;
  run.seed = seed;
  run.starts = parse_starts(o.start);
  return run;
}

// The --formats list, checked before any sampling.
std::vector<std::string> parse_formats(const std::string& text) {
  std::vector<std::string> formats;
  std::stringstream s(text);
  std::string format;
  while (std::getline(s, format, ',')) {
    if (format != "getdist" && format != "arviz" && format != "csv")
      throw ds::InvalidArgument("--formats: unknown format '" + format +
                                "' (choose among getdist, arviz, csv)");
    formats.push_back(format);
  }
  if (formats.empty()) throw ds::InvalidArgument("--formats: no output format given");
  return formats;
}

// GetDist roots usually live in a chains/ folder: create the folder of ROOT.
void create_root_folder(const std::string& root) {
  const std::filesystem::path folder = std::filesystem::path(root).parent_path();
  std::error_code ignored;
  if (!folder.empty()) std::filesystem::create_directories(folder, ignored);
}

// The kept draws of hmc / nuts / posterior, appended to ROOT.partial.csv while they sample (the
// writer removes the file when it goes out of scope: on an error or a cancellation too).
void start_chains_in_progress(std::optional<ds::ChainProgressWriter>& writer,
                              const std::string& root, const LoadedDensity& loaded,
                              const ds::McmcRun& run, const std::string& sampler) {
  const std::string path = root + ".partial.csv";
  // Such a file holds the draws of a run that crashed: never overwrite them.
  if (std::filesystem::exists(path))
    throw ds::FileError(path,
                        "holds the draws of an interrupted run (read them with `diffuscope-cli "
                        "diagnose`); move or delete it before sampling to the same --out");
  create_root_folder(root);
  writer.emplace(path, loaded.density->names(), run.chains, sampler, run.seed);
}

void write_outputs(const ds::Chains& chains, const std::string& root,
                   const std::vector<std::string>& formats) {
  create_root_folder(root);
  for (const auto& f : formats) {
    if (f == "getdist") ds::write_getdist(root, chains);
    if (f == "arviz") ds::write_arviz_netcdf(root + ".nc", chains);
    if (f == "csv") ds::write_chains_csv(root + ".csv", chains);
  }
}

// One line per parameter and one for the sampler statistics, on stderr.
void print_summary(const ds::Chains& chains, double seconds, const std::string& what) {
  const ds::ChainsSummary summary = ds::summarize(chains);
  std::fprintf(stderr, "%s: %zu chains x %zu draws in %.2f s (%s)\n", chains.sampler.c_str(),
               chains.chains, chains.draws, seconds, what.c_str());
  for (const auto& p : summary.parameters)
    std::fprintf(stderr, "  %-10s mean %.6g  sd %.4g  ess_bulk %.0f  r_hat %.3f\n", p.name.c_str(),
                 p.mean, p.sd, p.ess_bulk, p.r_hat);
  if (summary.divergences)
    std::fprintf(stderr, "  divergences %zu of %zu draws; mean acceptance %.3f\n",
                 *summary.divergences, chains.chains * chains.draws,
                 summary.acceptance_rate.value_or(std::nan("")));
}

enum class Command { Hmc, Nuts, Svi, Posterior, SurrogateHmc };

int run_command(Command which, const InferOptions& o, std::uint64_t seed,
                const GlobalOptions& options, const std::string& name) {
  apply_global_options(options);
  if (o.out.empty()) throw ds::InvalidArgument(name + ": --out ROOT is required");
  const std::vector<std::string> formats = parse_formats(o.formats);
  const LoadedDensity loaded = load_density(o, name, seed, options.parsed_device());
  const ds::JobContext job = progress_context(options, name);
  ds::AdaptationSettings adaptation;
  adaptation.target_acceptance = o.target_accept;
  adaptation.metric = o.dense ? ds::MetricKind::Dense : ds::MetricKind::Diagonal;
  ds::Chains chains;
  double seconds = 0.0;
  std::optional<ds::ChainProgressWriter> in_progress;
  if (which == Command::Hmc) {
    ds::HmcSettings s;
    s.run = mcmc_run(o, seed, name);
    if (o.step > 0.0) s.step_size = o.step;
    s.leapfrog_steps = o.leapfrog;
    if (!o.inv_mass.empty()) s.inverse_mass = parse_numbers(o.inv_mass, "--inv-mass");
    s.adapt = o.adapt;
    s.adaptation = adaptation;
    s.boundary = ds::parse_boundary(o.boundary);
    s.step_jitter = o.step_jitter;
    start_chains_in_progress(in_progress, o.out, loaded, s.run, "hmc");
    ds::McmcResult r = ds::sample_hmc(*loaded.density, s, job, in_progress->callback());
    chains = std::move(r.chains);
    seconds = r.seconds;
  } else if (which == Command::Nuts || which == Command::Posterior) {
    ds::NutsSettings s;
    s.run = mcmc_run(o, seed, name);
    s.step_size = o.step;
    s.max_tree_depth = o.max_depth;
    if (!o.inv_mass.empty()) s.inverse_mass = parse_numbers(o.inv_mass, "--inv-mass");
    s.adaptation = adaptation;
    s.boundary = ds::parse_boundary(o.boundary);
    start_chains_in_progress(in_progress, o.out, loaded, s.run, "nuts");
    ds::McmcResult r = ds::sample_nuts(*loaded.density, s, job, in_progress->callback());
    chains = std::move(r.chains);
    seconds = r.seconds;
  } else if (which == Command::SurrogateHmc) {
    ds::SurrogateHmcSettings s;
    s.run = mcmc_run(o, seed, name);
    if (o.step > 0.0) s.step_size = o.step;
    s.min_leapfrog = o.min_leapfrog;
    s.max_leapfrog = o.max_leapfrog;
    s.design_rounds = o.design_rounds;
    s.length_scale = o.length_scale;
    start_chains_in_progress(in_progress, o.out, loaded, s.run, "surrogate_hmc");
    ds::SurrogateHmcReport report;
    ds::McmcResult r =
        ds::sample_surrogate_hmc(*loaded.density, s, job, in_progress->callback(), &report);
    chains = std::move(r.chains);
    seconds = r.seconds;
    std::fprintf(stderr,
                 "surrogate-hmc: %zu exact evaluations (%zu for the design), value only; stage 1 "
                 "accepted %.3f, stage 2 %.3f of the kept transitions; surrogate of %zu points\n",
                 report.exact_evaluations, report.design_evaluations, report.stage1_acceptance,
                 report.stage2_acceptance, report.surrogate_points);
  } else {
    ds::SviSettings s;
    const auto starts = parse_starts(o.start);
    if (starts.size() != 1) throw ds::InvalidArgument("svi: --start takes one point");
    s.start = starts[0];
    s.steps = o.steps;
    s.samples_per_step = o.per_step;
    s.learning_rate = o.learning_rate;
    s.draws = o.draws;
    s.seed = seed;
    ds::SviResult r = ds::fit_svi(*loaded.density, s, job);
    chains = std::move(r.chains);
  }
  write_outputs(chains, o.out, formats);
  if (in_progress) in_progress->remove();
  print_summary(chains, seconds, loaded.description);
  return 0;
}

}  // namespace

Action add_infer_commands(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<InferOptions>();
  CLI::App* hmc = app.add_subcommand(
      "hmc",
      "Hamiltonian Monte Carlo on a log density; defaults are the published configuration "
      "(step 5e-4, 5 leapfrog steps, inverse mass diag(1,5), start 0.3,0.8, 300 draws with "
      "100 burn-in); proposals leaving the prior box are rejected");
  add_source_options(hmc, *o, true, true, "hmc");
  add_chain_options(hmc, *o);
  hmc->add_option("--step", o->step, "leapfrog step size (default 5e-4)");
  hmc->add_option("--step-jitter", o->step_jitter,
                  "draw each transition's step uniformly from (1 +- J) x step (default: 0.5 with "
                  "--adapt, 0 without, as published)")
      ->check(CLI::Range(0.0, 0.99));
  hmc->add_option("--leapfrog", o->leapfrog, "leapfrog steps per transition (default 5)")
      ->check(CLI::Range(1, 100000));
  hmc->add_flag("--adapt", o->adapt,
                "adapt the step size (dual averaging) and metric during burn-in (Stan windows)");
  add_output_options(hmc, *o);

  CLI::App* nuts = app.add_subcommand(
      "nuts", "No-U-Turn sampler on a log density, with step size and metric adaptation");
  add_source_options(nuts, *o, true, true, "nuts");
  add_chain_options(nuts, *o);
  nuts->add_option("--step", o->step, "initial step size (default: Stan's heuristic)");
  nuts->add_option("--max-depth", o->max_depth, "maximum tree depth (default 10)")
      ->check(CLI::Range(1, 30));
  add_output_options(nuts, *o);

  CLI::App* surrogate = app.add_subcommand(
      "surrogate-hmc",
      "delayed-acceptance HMC: trajectories on a cheap surrogate of log p (a fitted quadratic, "
      "Gaussian-process residuals, a defensive Student-t tail), each proposal the surrogate "
      "accepts screened once by the exact density, value only; exact draws for at most one "
      "density evaluation per iteration and chain (the surrogate is fitted during burn-in, then "
      "frozen); for smooth, deterministic densities: a model's VLB with --noise common");
  add_source_options(surrogate, *o, true, true, "surrogate-hmc");
  add_chain_options(surrogate, *o);
  surrogate->add_option("--step", o->step,
                        "surrogate leapfrog step in fitted standard deviations (default 0.2)");
  surrogate
      ->add_option("--min-leapfrog", o->min_leapfrog,
                   "fewest leapfrog steps of a trajectory (default 6)")
      ->check(CLI::Range(1, 100000));
  surrogate
      ->add_option("--max-leapfrog", o->max_leapfrog,
                   "most leapfrog steps of a trajectory (default 18)")
      ->check(CLI::Range(1, 100000));
  surrogate
      ->add_option("--design-rounds", o->design_rounds,
                   "rounds of exact evaluations that place the surrogate before the chains "
                   "start (default 3)")
      ->check(CLI::Range(1, 20));
  surrogate
      ->add_option("--length-scale", o->length_scale,
                   "correlation length of the surrogate's Gaussian process in standard "
                   "deviations (default 1)")
      ->check(CLI::PositiveNumber);
  add_output_options(surrogate, *o);

  CLI::App* svi = app.add_subcommand(
      "svi", "variational fit of a full-rank Gaussian (reparameterised ELBO, Adam); writes draws");
  add_source_options(svi, *o, true, true, "svi", "--noise-draws");
  svi->add_option("--start", o->start, "initial mean 'x,y' (default 0.3,0.8)");
  svi->add_option("--steps", o->steps, "Adam steps (default 2000)")->check(CLI::PositiveNumber);
  svi->add_option("--samples-per-step", o->per_step, "ELBO draws per step (default 16)")
      ->check(CLI::PositiveNumber);
  svi->add_option("--learning-rate", o->learning_rate, "initial Adam learning rate (default 0.05)");
  svi->add_option("--draws", o->draws, "draws of the fitted q written out (default 1000)")
      ->check(CLI::PositiveNumber);
  add_output_options(svi, *o);

  CLI::App* posterior = app.add_subcommand(
      "posterior",
      "reference posteriors to draw others against: --exact-grf FILE samples the exact GRF "
      "likelihood of a field (flat prior on the cosmology box) with adapted NUTS; "
      "--pk-baseline --field FILE the power-spectrum baseline (Gaussian likelihood of binned "
      "ln P(k) from mocks)");
  add_source_options(posterior, *o, false, false, "posterior");
  add_pk_posterior_options(posterior, o->pk);
  add_chain_options(posterior, *o);
  add_output_options(posterior, *o);

  return [=, &options]() -> int {
    const auto seed_of = [&](CLI::App* cmd) {
      return cmd->count("--seed") ? o->seed : options.seed;
    };
    if (hmc->parsed()) return run_command(Command::Hmc, *o, seed_of(hmc), options, "hmc");
    if (nuts->parsed()) return run_command(Command::Nuts, *o, seed_of(nuts), options, "nuts");
    if (svi->parsed()) return run_command(Command::Svi, *o, seed_of(svi), options, "svi");
    if (surrogate->parsed())
      return run_command(Command::SurrogateHmc, *o, seed_of(surrogate), options, "surrogate-hmc");
    if (posterior->parsed()) {
      if (o->exact_grf.empty() && !o->pk.enabled)
        throw ds::InvalidArgument(
            "posterior: --exact-grf FILE or --pk-baseline --field FILE is required");
      return run_command(Command::Posterior, *o, seed_of(posterior), options, "posterior");
    }
    return -1;
  };
}

}  // namespace dscli
