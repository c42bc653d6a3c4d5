// diffuscope-cli calibrate: coverage of credible intervals over many mock fields with known
// parameters (core/infer/baselines/calibration.h). The posterior of each field comes from one
// source:
// --exact-grf (the exact GRF likelihood), --pk-baseline (the power-spectrum baseline,
// core/infer/baselines/pk_baseline.h) or --model M (the truncated VLB of a diffusion model with
// common noise: the slow path). For GRF mocks the exact posterior is also sampled as the reference
// of the width ratios. Table on stdout; everything per field in --out FILE.json.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/calibration.h"
#include "diffuscope/infer/baselines/exact_grf.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"
#include "diffuscope/infer/baselines/pk_baseline.h"
#include "diffuscope/random.h"
#include "diffuscope/registries.h"
#include "pk_baseline_input.h"

namespace dscli {

namespace {

struct CalibrateOptions {
  std::string mocks, model, out, reference = "auto";
  std::size_t n_fields = 0;
  bool exact_grf = false, pk_baseline = false;
  double slab = ds::ProjectedPowerSpectrum::kDefaultSlabThickness;
  // Sampler.
  std::size_t chains = 4, samples = 500, burn_in = 200;
  int max_depth = 10;
  double target_accept = 0.8;
  bool dense = false;
  // Model source.
  int tmax = 20, draws = 4;
  std::string noise = "common";
  bool ema = false;
  std::uint64_t seed = 0;
  PkBaselineOptions pk;
};

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void print_table(const ds::CalibrationResult& r, const std::string& title) {
  std::printf("%s\n", title.c_str());
  std::printf("%6s", "field");
  for (const auto& name : r.names)
    std::printf("  %10s %8s %8s %7s %3s", (name + " truth").c_str(), "mean", "sd", "z", "in");
  std::printf("\n");
  for (const auto& f : r.fields) {
    std::printf("%6zu", f.index);
    for (const auto& c : f.parameters)
      std::printf("  %10.4f %8.4f %8.4f %7.2f %3s", c.truth, c.mean, c.sd, c.z,
                  c.inside_inner ? "68" : (c.inside_outer ? "95" : "-"));
    std::printf("\n");
  }
  std::printf("\n%-10s %6s %8s %6s %8s %6s %7s %6s %12s\n", "parameter", "fields", "cover68",
              "+-se", "cover95", "+-se", "z_mean", "z_sd", "width_ratio");
  for (const auto& s : r.summary) {
    const std::string ratio = std::isfinite(s.width_ratio_mean)
                                  ? fixed(s.width_ratio_mean, 3) + "+-" + fixed(s.width_ratio_sd, 3)
                                  : "-";
    std::printf("%-10s %6zu %8s %6s %8s %6s %7s %6s %12s\n", s.name.c_str(), s.fields,
                fixed(s.inner_coverage, 3).c_str(), fixed(s.inner_nominal_se, 3).c_str(),
                fixed(s.outer_coverage, 3).c_str(), fixed(s.outer_nominal_se, 3).c_str(),
                fixed(s.z_mean, 3).c_str(), fixed(s.z_sd, 3).c_str(), ratio.c_str());
  }
  std::printf(
      "(+-se: binomial error of the nominal coverage, sqrt(q (1 - q) / K); in: the "
      "narrowest interval holding the truth)\n");
}

int run_calibrate(const CalibrateOptions& o, std::uint64_t seed, const GlobalOptions& options) {
  apply_global_options(options);
  const int sources = int(o.exact_grf) + int(o.pk_baseline) + int(!o.model.empty());
  if (sources != 1)
    throw ds::InvalidArgument(
        "calibrate: give exactly one posterior source: --exact-grf, --pk-baseline or --model M");
  if (o.samples <= o.burn_in)
    throw ds::InvalidArgument("calibrate: --samples " + std::to_string(o.samples) +
                              " must exceed --burn-in " + std::to_string(o.burn_in) +
                              " (samples count the burn-in)");
  if (o.reference != "auto" && o.reference != "exact-grf" && o.reference != "none")
    throw ds::InvalidArgument("calibrate: --reference '" + o.reference +
                              "' is not one of auto, exact-grf, none");
  const ds::Dataset set = ds::read_dataset_hdf5(o.mocks);
  if (set.kind != ds::SampleKind::Fields || set.shape.size() != 3 || set.shape[1] != set.shape[2])
    throw ds::FileError(o.mocks, "calibration needs a dataset of square 2D fields");
  if (set.param_count() < 2)
    throw ds::FileError(o.mocks, "the fields carry no (Omega_m, sigma_8) to calibrate against");
  if (o.n_fields > set.count())
    throw ds::FileError(o.mocks, "--n-fields " + std::to_string(o.n_fields) + " exceeds the " +
                                     std::to_string(set.count()) + " fields it holds");
  const int n = int(set.shape[1]);
  const bool contrast = ds::field_kind_of_units(set.units) == ds::FieldKind::Contrast;
  const bool grf_mocks = set.generator == "grf";
  if (o.exact_grf && !contrast)
    throw ds::FileError(o.mocks,
                        "--exact-grf needs density-contrast fields (GRF mocks); its "
                        "units are '" +
                            set.units + "'");
  if (o.reference == "exact-grf" && !contrast)
    throw ds::FileError(o.mocks,
                        "--reference exact-grf needs density-contrast fields (GRF "
                        "mocks); its units are '" +
                            set.units + "'");
  const bool with_reference =
      !o.exact_grf && (o.reference == "exact-grf" || (o.reference == "auto" && grf_mocks));

  std::vector<ds::CalibrationField> fields;
  for (std::size_t i : ds::choose_calibration_fields(set.count(), o.n_fields, seed))
    fields.push_back({i, {set.param(i, 0), set.param(i, 1)}});

  ds::GrfSettings grf;
  grf.n = n;
  grf.box_size = set.box_size;
  grf.slab_thickness = o.slab;
  const ds::PosteriorFactory exact = [&](const ds::CalibrationField& f) {
    const ds::Field2D field = ds::dataset_field(set, f.index);
    try {
      return std::static_pointer_cast<const ds::LogDensity>(ds::exact_grf_posterior(
          std::make_shared<const ds::GrfLikelihood>(field.values.data(), grf)));
    } catch (const ds::InvalidArgument& e) {
      throw ds::FileError(o.mocks, "field " + std::to_string(f.index) + ": " + e.what());
    }
  };

  const ds::JobContext job = progress_context(options, "calibrate");
  ds::PosteriorFactory posterior;
  std::string source, details;
  std::shared_ptr<const ds::DiffusionModel2d> model;
  if (o.exact_grf) {
    posterior = exact;
    source = "exact GRF posterior";
  } else if (o.pk_baseline) {
    PkTarget target;
    target.n = n;
    target.box_size = set.box_size;
    target.slab = o.slab;
    target.mock_kind = mock_kind_of_units(set.units);
    for (const auto& e : ds::kFieldKinds.entries())
      if (set.generator == e.name) target.mock_kind = e.name;
    const std::shared_ptr<const ds::PkBaseline> baseline =
        obtain_pk_baseline(o.pk, target, seed, job, details);
    if ((baseline->field_kind == ds::FieldKind::Contrast) != contrast)
      throw ds::FileError(o.mocks, "its fields ('" + set.units +
                                       "') are not of the kind the baseline was fitted to");
    posterior = [&, baseline](const ds::CalibrationField& f) {
      return std::static_pointer_cast<const ds::LogDensity>(
          ds::pk_baseline_posterior(baseline, ds::dataset_field(set, f.index)));
    };
    source = "power-spectrum baseline posterior";
  } else {
    model = std::make_shared<const ds::DiffusionModel2d>(
        ds::DiffusionModel2d::load(o.model, options.parsed_device(), o.ema));
    ds::VlbSettings vlb;
    vlb.t_max = o.tmax;
    vlb.noise = ds::kVlbNoiseModes.from_string(o.noise);
    vlb.draws = o.draws;
    if (vlb.noise == ds::VlbNoiseMode::Fresh)
      std::fprintf(stderr,
                   "calibrate: warning: fresh VLB noise makes the target stochastic; "
                   "NUTS expects --noise common\n");
    posterior = [&, vlb, model](const ds::CalibrationField& f) {
      const ds::ObservedField x0 = ds::load_observed_field(o.mocks, *model, long(f.index), true);
      ds::VlbSettings s = vlb;
      s.seed = ds::mix_seed(seed, f.index);  // noise of field f: independent of the other fields
      return std::static_pointer_cast<const ds::LogDensity>(
          ds::vlb_posterior(*model, x0.values, x0.n, s));
    };
    source = "truncated-VLB posterior of " + o.model + " (T_MAX " + std::to_string(o.tmax) + ", " +
             o.noise + " noise, " + std::to_string(o.draws) + " draws)";
  }
  if (!details.empty() && !options.quiet) std::fprintf(stderr, "%s\n", details.c_str());

  ds::CalibrationSettings settings;
  settings.nuts.run.chains = o.chains;
  settings.nuts.run.warmup = o.burn_in;
  settings.nuts.run.draws = o.samples - o.burn_in;
  settings.nuts.run.seed = seed;
  settings.nuts.max_tree_depth = o.max_depth;
  settings.nuts.adaptation.target_acceptance = o.target_accept;
  settings.nuts.adaptation.metric = o.dense ? ds::MetricKind::Dense : ds::MetricKind::Diagonal;
  const ds::CalibrationResult result = ds::run_calibration(
      fields, posterior, with_reference ? exact : ds::PosteriorFactory{}, settings, job);

  const std::string title =
      "calibration of the " + source + " on " + std::to_string(fields.size()) + " of " +
      std::to_string(set.count()) + " fields of " + o.mocks + " (NUTS " + std::to_string(o.chains) +
      " chains x " + std::to_string(o.samples - o.burn_in) + " draws after " +
      std::to_string(o.burn_in) + ", seed " + std::to_string(seed) + "; " +
      (with_reference ? "width ratios against the exact GRF posterior" : "no reference") + "; " +
      fixed(result.seconds, 1) + " s, " + std::to_string(result.divergences) + " divergences)";
  print_table(result, title);

  if (!o.out.empty()) {
    nlohmann::ordered_json s;
    s["source"] = o.exact_grf ? "exact-grf" : (o.pk_baseline ? "pk-baseline" : "model");
    s["description"] = source;
    if (!o.model.empty()) s["model"] = o.model;
    if (!details.empty()) s["baseline"] = details;
    s["mocks"] = o.mocks;
    s["mocks_count"] = set.count();
    s["n_fields"] = fields.size();
    s["reference"] = with_reference ? "exact-grf" : "none";
    s["sampler"] = {{"name", "nuts"},
                    {"chains", o.chains},
                    {"warmup", o.burn_in},
                    {"draws", o.samples - o.burn_in},
                    {"max_tree_depth", o.max_depth},
                    {"target_acceptance", o.target_accept},
                    {"metric", o.dense ? "dense" : "diagonal"}};
    s["seed"] = seed;
    ds::write_calibration_json(o.out, result, s.dump());
  }
  return 0;
}

}  // namespace

Action add_calibrate_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<CalibrateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "coverage of the 68% and 95% credible intervals and z-scores over mock fields with known "
      "parameters, for one posterior source (--exact-grf, --pk-baseline or --model M)");
  cmd->add_option("--mocks", o->mocks, "D.h5: dataset of mock fields with their parameters")
      ->required();
  cmd->add_option("--n-fields", o->n_fields,
                  "K: fields to calibrate on, chosen from the dataset by the seed")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--exact-grf", o->exact_grf,
                "source: the exact GRF likelihood of each field (GRF mocks) with the flat prior");
  cmd->add_flag("--pk-baseline", o->pk_baseline,
                "source: the power-spectrum baseline (--pk-* options; default: mocks of the "
                "dataset's kind and grid generated here)");
  cmd->add_option("--model", o->model,
                  "M: source: the truncated VLB of this diffusion model (slow: a network pass "
                  "per leapfrog step)");
  cmd->add_option("--reference", o->reference,
                  "auto|exact-grf|none: also sample the exact GRF posterior for width ratios "
                  "(auto: for GRF mocks)");
  cmd->add_option("--slab", o->slab,
                  "slab thickness of the GRF model and of generated mocks, Mpc/h (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--chains", o->chains, "chains per field (default 4)")->check(CLI::Range(1, 256));
  cmd->add_option("--samples", o->samples,
                  "draws per chain in total, burn-in included (default 500)");
  cmd->add_option("--burn-in", o->burn_in, "adaptation draws per chain (default 200)");
  cmd->add_option("--max-depth", o->max_depth, "maximum NUTS tree depth (default 10)")
      ->check(CLI::Range(1, 30));
  cmd->add_option("--target-accept", o->target_accept, "step-size adaptation target (0.8)")
      ->check(CLI::Range(0.05, 0.999));
  cmd->add_flag("--dense", o->dense, "adapt a dense metric");
  cmd->add_option("--tmax", o->tmax, "--model: truncated-VLB steps T_MAX (default 20)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--noise", o->noise, "--model: VLB noise, common (default) or fresh");
  cmd->add_option("--draws", o->draws, "--model: common noise draws averaged (default 4)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--ema", o->ema, "--model: use the EMA weights of the checkpoint");
  add_pk_baseline_options(cmd, o->pk);
  cmd->add_option("--seed", o->seed,
                  "seed of the field choice, the chains and generated mocks (default: the "
                  "global --seed)");
  cmd->add_option("--out", o->out, "FILE.json: the checks per field and the summary");
  return [=, &options]() -> int {
    if (!cmd->parsed()) return -1;
    return run_calibrate(*o, cmd->count("--seed") ? o->seed : options.seed, options);
  };
}

}  // namespace dscli
