// One calibration field (report_internal.h: calibration_field_record), run_report_field for a
// field of a file (the batch task report-calibration) and the calibration report of such records
// (write_calibration_report, `batch merge --report`).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "diffuscope/data/observation.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/calibration.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"
#include "diffuscope/infer/field_likelihood.h"
#include "diffuscope/infer/grids/grid_posterior.h"
#include "diffuscope/infer/mcmc/nuts.h"
#include "diffuscope/pointcloud/point_model.h"
#include "diffuscope/random.h"
#include "diffuscope/report/posterior_grid.h"
#include "diffuscope/report/report.h"
#include "report_internal.h"

namespace fs = std::filesystem;

namespace ds {

using report_detail::Json;
using report_detail::kParameterNames;

namespace {

// The stream of the VLB noise (report.cpp's streams: a field adds its dataset index).
constexpr std::uint64_t kVlbNoiseStream = 1u << 20;

Json grid_json(const GridScan& scan) {
  return Json{{"omega_m", scan.omega_m}, {"sigma_8", scan.sigma_8}, {"log_like", scan.log_like}};
}

// One parameter's posterior as the summary reads it (report_assembly.cpp read_parameter): the
// checks and the posterior CDF at the truth (rank).
Json parameter_json(std::size_t p, const ParameterCheck& c, double rank) {
  Json pj;
  pj["name"] = kParameterNames[p];
  pj["truth"] = c.truth;
  pj["mean"] = c.mean;
  pj["sd"] = c.sd;
  pj["z"] = c.z;
  pj["rank"] = rank;
  pj["inner"] = {c.inner_lo, c.inner_hi};
  pj["outer"] = {c.outer_lo, c.outer_hi};
  pj["inside_inner"] = c.inside_inner;
  pj["inside_outer"] = c.inside_outer;
  return pj;
}

Json posterior_json(const CalibrationField& field, const PosteriorGrid& grid) {
  const FieldCalibration check = check_grid(field, grid.scan);
  Json j;
  j["levels"] = grid.levels;
  j["evaluations"] = grid.evaluations;
  if (grid.climb_evaluations > 0) j["climb_evaluations"] = grid.climb_evaluations;
  j["resolved"] = grid.resolved;
  j["parameters"] = Json::array();
  for (std::size_t p = 0; p < 2; ++p) {
    const ParameterCheck& c = check.parameters[p];
    const GridMarginal m = grid_marginal(grid.scan, p);
    Json pj = parameter_json(p, c, grid_marginal_cdf(m, c.truth));
    pj["grid_step"] = (m.axis.back() - m.axis.front()) / double(m.axis.size() - 1);
    pj["marginal"] = m.weights;
    j["parameters"].push_back(pj);
  }
  j["grid"] = grid_json(grid.scan);
  return j;
}

// The stream of a field's NUTS chains (added to its dataset index).
constexpr std::uint64_t kNutsStream = 1u << 21;

// NUTS on request (ReportSettings::nuts): the posterior of the record from the pooled draws, with
// the same keys as posterior_json's (what the summary reads) plus the sampler's diagnostics.
Json nuts_posterior_json(const CalibrationField& field, const LogDensity& likelihood,
                         const PosteriorGrid& grid, const ReportSettings& s,
                         const report_detail::FieldRecordInput& in) {
  const auto posterior = std::make_shared<const BoxPrior>(
      std::shared_ptr<const LogDensity>(&likelihood, [](const LogDensity*) {}), kDefaultPrior);
  NutsSettings nuts;
  nuts.run.chains = std::size_t(s.nuts_chains);
  nuts.run.warmup = std::size_t(s.nuts_warmup);
  nuts.run.draws = std::size_t(s.nuts_draws);
  nuts.run.seed = mix_seed(s.seed, kNutsStream + in.dataset_index);
  nuts.run.starts = {{grid.scan.maximum.omega_m, grid.scan.maximum.sigma_8}};
  const McmcResult r = sample_nuts(*posterior, nuts, in.cancel);
  const FieldCalibration check = check_field(field, r.chains, nullptr);
  Json j;
  j["method"] = "nuts";
  j["chains"] = s.nuts_chains;
  j["warmup"] = s.nuts_warmup;
  j["draws"] = s.nuts_draws;
  j["divergences"] = check.divergences;
  j["density_points"] = r.density_points;
  j["parameters"] = Json::array();
  for (std::size_t p = 0; p < 2; ++p) {
    const ParameterCheck& c = check.parameters[p];
    const std::vector<double> v = parameter_draws(r.chains, p).values;
    std::size_t below = 0;
    for (double x : v) below += x < c.truth ? 1 : 0;
    Json pj = parameter_json(
        p, c,
        v.empty() ? std::numeric_limits<double>::quiet_NaN() : double(below) / double(v.size()));
    pj["r_hat"] = c.r_hat;
    pj["ess_bulk"] = c.ess_bulk;
    j["parameters"].push_back(pj);
  }
  return j;
}

}  // namespace

std::shared_ptr<const DiffusionModel2d> report_detail::load_report_model(const ReportSettings& s) {
  if (!fs::exists(s.model)) throw FileError(s.model, "no such model file");
  if (PointCloudModel::is_point_model(s.model))
    throw FileError(s.model,
                    "is a point-cloud model: `report --model` makes its report (kNN-CDF, 2PCF, "
                    "HMF, pairwise velocities, ELBO calibration); report-calibration of one "
                    "catalogue is for 2D field models only");
  auto model =
      std::make_shared<const DiffusionModel2d>(DiffusionModel2d::load(s.model, s.device, s.ema));
  if (model->parameter_count() != 2)
    throw FileError(s.model, "the model takes " + std::to_string(model->parameter_count()) +
                                 " parameters; the report needs (Omega_m, sigma_8)");
  return model;
}

std::uint64_t report_detail::vlb_noise_seed(std::uint64_t seed, std::size_t index) {
  return mix_seed(seed, kVlbNoiseStream + index);
}

Json report_detail::calibration_settings_json(const ReportSettings& s) {
  Json j;
  j["model"] = s.model;
  j["ema"] = s.ema;
  j["likelihood"] = kLikelihoodKinds.name(s.likelihood);
  j["t_max"] = s.t_max;
  j["vlb_draws"] = s.vlb_draws;
  j["vlb_noise"] = "common";
  j["slab"] = s.slab;
  j["grid"] = {{"coarse_points", s.grid.coarse_points},
               {"window_points", s.grid.window_points},
               {"window_sigmas", s.grid.window_sigmas},
               {"cells_per_sd", s.grid.cells_per_sd},
               {"max_levels", s.grid.max_levels}};
  if (s.grid.climb)  // absent when off, so reports made before the climb existed still match
    j["grid"]["climb"] = {{"iterations", s.grid.climb_iterations}};
  if (s.nuts)
    j["nuts"] = {{"chains", s.nuts_chains}, {"warmup", s.nuts_warmup}, {"draws", s.nuts_draws}};
  if (s.likelihood == LikelihoodKind::PointElbo)
    j["elbo"] = {{"steps", s.elbo_steps}, {"draws", s.elbo_draws}};
  return j;
}

Json report_detail::calibration_field_record(const FieldRecordInput& in) {
  const ReportSettings& s = *in.settings;
  const auto start = std::chrono::steady_clock::now();
  const CalibrationField truth{in.dataset_index, {in.truth[0], in.truth[1]}};
  std::shared_ptr<const LogDensity> likelihood;
  switch (s.likelihood) {
    case LikelihoodKind::Vlb: {
      VlbSettings v;
      v.t_max = s.t_max;
      v.noise = VlbNoiseMode::Common;
      v.draws = s.vlb_draws;
      v.seed = in.vlb_seed;
      likelihood = vlb_likelihood(*in.model, in.field, v, in.origin);
      break;
    }
    case LikelihoodKind::ExactGrf:
      likelihood = exact_grf_likelihood(in.field, in.origin, s.slab);
      break;
    case LikelihoodKind::PkBaseline:
      likelihood = pk_baseline_likelihood(in.baseline, in.field, in.origin);
      break;
    case LikelihoodKind::PointElbo:
      if (!in.likelihood)
        throw InvalidArgument("report: the elbo likelihood is for point-cloud models");
      likelihood = in.likelihood;
      break;
  }
  const PosteriorGrid grid = refine_posterior_grid(*likelihood, s.grid, in.cancel);
  Json fj;
  fj["field"] = in.field_number;
  fj["dataset_index"] = in.dataset_index;
  fj["truth"] = truth.truth;
  fj["likelihood"] = kLikelihoodKinds.name(s.likelihood);
  if (s.nuts) {
    fj["posterior"] = nuts_posterior_json(truth, *likelihood, grid, s, in);
    fj["grid_posterior"] = posterior_json(truth, grid);
  } else {
    fj["posterior"] = posterior_json(truth, grid);
  }
  if (in.grf && s.likelihood != LikelihoodKind::ExactGrf) {
    const auto exact = exact_grf_likelihood(in.field, in.origin, s.slab);
    fj["exact"] = posterior_json(truth, refine_posterior_grid(*exact, s.grid, in.cancel));
  } else {
    fj["exact"] = Json();
  }
  fj["settings"] = calibration_settings_json(s);
  fj["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return fj;
}

ReportFieldResult run_report_field(const ReportSettings& s, const ReportFieldRequest& request,
                                   const std::string& out_path, const JobContext& job) {
  const auto start = std::chrono::steady_clock::now();
  if (out_path.empty()) throw InvalidArgument("report-calibration: --out FILE.json is required");
  if (s.likelihood == LikelihoodKind::PointElbo)
    throw InvalidArgument(
        "report-calibration: --likelihood elbo is for point-cloud models, whose calibration "
        "report is not implemented yet; use vlb, exact-grf or pk-baseline");
  // The model (vlb) before the field, so a wrong model is named before a long read.
  std::shared_ptr<const DiffusionModel2d> model;
  if (s.likelihood == LikelihoodKind::Vlb) {
    if (s.model.empty())
      throw InvalidArgument(
          "report-calibration: --model M is required for the vlb likelihood (exact-grf and "
          "pk-baseline need none)");
    model = report_detail::load_report_model(s);
  }
  std::shared_ptr<const PkBaseline> baseline;
  if (s.likelihood == LikelihoodKind::PkBaseline) {
    if (request.pk_baseline_file.empty())
      throw InvalidArgument(
          "report-calibration: --likelihood pk-baseline needs --pk-load B.json (a baseline "
          "saved by `posterior --pk-baseline --pk-save B.json`, or a report's pk_baseline.json)");
    baseline = std::make_shared<const PkBaseline>(read_pk_baseline_json(request.pk_baseline_file));
  }

  ObservationRequest what;
  what.index = long(request.index);
  what.kind = SampleKind::Fields;
  const ObservedSample sample = read_observation(request.fields_file, what);
  if (!sample.physical && !request.physical)
    throw FileError(request.fields_file,
                    "a plain .npy does not say whether its values are physical densities; the "
                    "calibration scores physical fields: give --physical if they are");
  Field2D field = sample.field();
  if (field.box_size <= 0) {
    double box = kDefaultFieldBoxSize;
    if (model) {
      try {
        const Json config = Json::parse(model->net.config());
        if (config.is_object() && config.value("box_size", 0.0) > 0) box = config["box_size"];
      } catch (const std::exception&) {
        // a config that is no JSON object records no box
      }
    }
    field.box_size = box;
  }
  if (model) {
    try {
      require_field_size(*model, field.n);
    } catch (const InvalidArgument& e) {
      throw FileError(request.fields_file, std::string("field ") + std::to_string(request.index) +
                                               " does not fit the model " + s.model + ": " +
                                               e.what());
    }
  }
  if (s.likelihood == LikelihoodKind::ExactGrf && field.kind != FieldKind::Contrast)
    throw FileError(request.fields_file,
                    "--likelihood exact-grf needs GRF fields (density contrast); its units are '" +
                        sample.units + "'");

  report_detail::FieldRecordInput in;
  in.settings = &s;
  in.model = model.get();
  in.baseline = baseline;
  in.field = field;
  in.origin = request.fields_file + " field " + std::to_string(request.index);
  in.field_number = request.index;
  in.dataset_index = request.index;
  const auto truth = sample.truth();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  in.truth =
      truth ? std::array<double, 2>{(*truth)[0], (*truth)[1]} : std::array<double, 2>{nan, nan};
  in.grf = sample.generator == "grf" || field.kind == FieldKind::Contrast;
  in.vlb_seed = report_detail::vlb_noise_seed(s.seed, request.index);
  in.cancel = JobContext({}, job.token());
  job.report(0, 1, "calibration: " + in.origin);
  Json record = report_detail::calibration_field_record(in);
  job.check_cancelled();
  report_detail::write_json(out_path, record);
  job.report(1, 1, "done");

  ReportFieldResult r;
  r.has_truth = bool(truth);
  for (std::size_t p = 0; p < 2; ++p) {
    const Json& pj = record["posterior"]["parameters"][p];
    r.truth[p] = in.truth[p];
    r.mean[p] = report_detail::num(pj["mean"]);
    r.sd[p] = report_detail::num(pj["sd"]);
  }
  r.exact = !record["exact"].is_null();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

ReportResult write_calibration_report(const std::vector<std::string>& field_files,
                                      const std::string& out_dir,
                                      const std::string& fields_description, std::uint64_t seed) {
  if (field_files.empty()) throw InvalidArgument("calibration report: no field records");
  if (field_files.size() < 2)
    throw InvalidArgument("calibration report: 1 field is too few (calibration needs K >= 2)");
  if (fs::exists(out_dir) && !fs::is_directory(out_dir))
    throw FileError(out_dir, "exists and is not a directory");
  Json settings;
  for (const auto& path : field_files) {
    Json record;
    if (!report_detail::read_json(path, record)) throw FileError(path, "no such field record");
    if (!record.contains("settings") || !record.contains("posterior") || !record.contains("truth"))
      throw FileError(path, "is not a calibration field record (report-calibration writes them)");
    for (const auto& t : record["truth"])
      if (!std::isfinite(report_detail::num(t)))
        throw FileError(path,
                        "records no truth: the fields file carries no (Omega_m, sigma_8), so "
                        "there is nothing to calibrate against");
    if (settings.is_null()) {
      settings = record["settings"];
    } else if (record["settings"] != settings) {
      throw FileError(path, "was computed with other settings than " + field_files.front() +
                                " (a calibration report needs one likelihood and grid)");
    }
  }
  settings["fields"] = field_files.size();
  settings["seed"] = seed;
  Json inputs;
  inputs["model"] = settings.value("model", std::string()).empty() ? Json() : settings["model"];
  inputs["mocks"] = fields_description;
  inputs["mocks_description"] = fields_description;
  fs::create_directories(out_dir);
  report_detail::write_json((fs::path(out_dir) / "settings.json").string(), settings);
  return report_detail::write_report_outputs(out_dir, settings, inputs, {}, field_files);
}

}  // namespace ds
