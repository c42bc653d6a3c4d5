// run_report (report.h): inputs and their checks and the blocks (resumable, one file each); the
// assembly of report.json, the CSV tables and report.md is report_assembly.cpp.
#include "diffuscope/report/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/pk_baseline.h"
#include "diffuscope/infer/grids/grid_posterior.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/random.h"
#include "diffuscope/report/calibration_summary.h"
#include "diffuscope/runtime.h"
#include "report_internal.h"

namespace fs = std::filesystem;

namespace ds {

using report_detail::Json;
using report_detail::kParameterNames;
using report_detail::num;
using report_detail::nums;

namespace {

// Streams of the report's seed (mix_seed(seed, stream)); a field or cosmology adds its index.
constexpr std::uint64_t kLhMocksStream = 101, kOnePMocksStream = 303, kCvMocksStream = 405,
                        kCvModelStream = 406, kOnePModelStream = 304, kCalibrationStream = 202,
                        kPkBaselineStream = 707,
                        kLhModelStream = 1000;  // VLB noise: report_field.cpp

// "007": the numbers of block and field files.
std::string three_digits(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%03zu", i);
  return buf;
}

// Everything the blocks need, resolved from the settings and checked.
struct Inputs {
  std::shared_ptr<const DiffusionModel2d> model;
  int n = 64;
  double box = kDefaultFieldBoxSize;
  std::string mock_kind;  // built-in kind for generated mocks ("" when none applies)
  FieldKind field_kind = FieldKind::Density;
  bool grf = false;                // the mocks are GRF fields (exact posterior available)
  std::shared_ptr<Dataset> mocks;  // --mocks, when given
  std::string units;
};

Json model_config(const DiffusionModel2d& model) {
  try {
    const Json j = Json::parse(model.net.config());
    return j.is_object() ? j : Json::object();
  } catch (const std::exception&) {
    return Json::object();
  }
}

bool is_built_in_kind(const std::string& kind) {
  for (const auto& e : kFieldKinds.entries())
    if (kind == e.name) return true;
  return false;
}

Inputs resolve_inputs(const ReportSettings& s) {
  Inputs in;
  report_detail::check_counts(s, "fields");
  if (s.one_p_values != 0 && (s.one_p_values < 3 || s.one_p_values % 2 == 0))
    throw InvalidArgument("report: 1P values " + std::to_string(s.one_p_values) +
                          " must be odd and >= 3 (the middle one is the fiducial), or 0");
  if (s.cv_mocks != 0 && (s.cv_mocks < 4 || s.cv_generated < 4))
    throw InvalidArgument("report: the CV set needs >= 4 mocks and >= 4 generated fields, or 0");
  if (s.likelihood == LikelihoodKind::PointElbo)
    throw InvalidArgument(
        "report: --likelihood elbo is the bound of point-cloud models; give one with --model, "
        "or use vlb, exact-grf or pk-baseline with a 2D field model");
  Json config = Json::object();
  if (!s.model.empty()) {
    in.model = report_detail::load_report_model(s);
    config = model_config(*in.model);
  } else if (s.likelihood == LikelihoodKind::Vlb) {
    throw InvalidArgument(
        "report: --model M is required (the vlb likelihood and the emulator block need a "
        "model); without one, choose --likelihood exact-grf or pk-baseline");
  }
  std::string trained_kind;
  if (config.contains("dataset") && config["dataset"].is_object())
    trained_kind = config["dataset"].value("generator", std::string());
  const int model_n = config.value("resolution", 0);
  const double model_box = config.value("box_size", 0.0);

  if (!s.mocks.empty()) {
    in.mocks = std::make_shared<Dataset>(read_dataset_hdf5(s.mocks));
    const Dataset& d = *in.mocks;
    if (d.kind != SampleKind::Fields || d.shape.size() != 3 || d.shape[1] != d.shape[2])
      throw FileError(s.mocks, "the report needs a dataset of square 2D fields");
    if (d.param_count() < 2)
      throw FileError(s.mocks, "the fields carry no (Omega_m, sigma_8) to validate against");
    in.n = int(d.shape[1]);
    in.box = d.box_size > 0 ? d.box_size : kDefaultFieldBoxSize;
    if (s.fields > int(d.count()))
      throw FileError(s.mocks, "--fields " + std::to_string(s.fields) + " exceeds the " +
                                   std::to_string(d.count()) + " fields it holds");
    if (in.model) {
      try {
        require_field_size(*in.model, in.n);
      } catch (const InvalidArgument& e) {
        throw FileError(
            s.mocks, std::string("its fields do not fit the model ") + s.model + ": " + e.what());
      }
      if (model_n > 0 && model_n != in.n)
        throw FileError(s.mocks, "its fields are " + std::to_string(in.n) + " x " +
                                     std::to_string(in.n) + " but the model " + s.model +
                                     " was trained on " + std::to_string(model_n) + " x " +
                                     std::to_string(model_n));
      if (model_box > 0 && std::abs(model_box - in.box) > 1e-6 * model_box)
        throw FileError(s.mocks, "its box is " + report_detail::fixed(in.box, 3) +
                                     " Mpc/h but the model " + s.model + " was trained on " +
                                     report_detail::fixed(model_box, 3) + " Mpc/h");
    }
    in.units = d.units;
    in.field_kind = field_kind_of_units(d.units);
    in.mock_kind = is_built_in_kind(d.generator) ? d.generator : s.mock_kind;
    in.grf = d.generator == "grf" || in.field_kind == FieldKind::Contrast;
  } else {
    in.mock_kind = !s.mock_kind.empty() ? s.mock_kind : trained_kind;
    if (in.mock_kind.empty())
      throw InvalidArgument(
          "report: give --mocks REF.h5 or --mock-kind grf|lognormal|zeldovich (the model does "
          "not say which mocks it was trained on)");
    in.n = s.resolution > 0 ? s.resolution : (model_n > 0 ? model_n : 64);
    in.box = s.box_size > 0 ? s.box_size : (model_box > 0 ? model_box : kDefaultFieldBoxSize);
    if (in.model) {
      try {
        require_field_size(*in.model, in.n);
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("report: --res " + std::to_string(in.n) + ": " + e.what());
      }
    }
    in.units = mock_field_units(kFieldKinds.from_string(in.mock_kind));
    in.field_kind = field_kind_of_units(in.units);
    in.grf = in.mock_kind == "grf";
  }
  if (!in.mock_kind.empty() && !is_built_in_kind(in.mock_kind))
    throw InvalidArgument("report: --mock-kind '" + in.mock_kind +
                          "' is not one of grf, lognormal, zeldovich");
  if (s.likelihood == LikelihoodKind::ExactGrf && in.field_kind != FieldKind::Contrast)
    throw InvalidArgument(
        "report: --likelihood exact-grf needs GRF mocks (density contrast); "
        "these are '" +
        in.units + "'");
  if (s.likelihood == LikelihoodKind::PkBaseline && in.mock_kind.empty())
    throw InvalidArgument(
        "report: --likelihood pk-baseline fits mocks generated here and needs --mock-kind");
  return in;
}

MockFieldSettings mock_settings(const Inputs& in, const ReportSettings& s) {
  MockFieldSettings m;
  m.kind = kFieldKinds.from_string(in.mock_kind);
  m.n = in.n;
  m.box_size = in.box;
  m.slab_thickness = s.slab;
  return m;
}

// head's keys first, then the block's.
Json tagged(Json head, const Json& block) {
  for (auto it = block.begin(); it != block.end(); ++it) head[it.key()] = it.value();
  return head;
}

// A JobContext that only cancels (blocks report their own progress).
JobContext cancel_only(const JobContext& job) {
  return JobContext({}, job.token());
}

}  // namespace

std::string report_settings_json(const ReportSettings& s) {
  Json j;
  j["model"] = s.model;
  j["mocks"] = s.mocks;
  j["mock_kind"] = s.mock_kind;
  j["resolution"] = s.resolution;
  j["box_size"] = s.box_size;
  j["slab"] = s.slab;
  j["ema"] = s.ema;
  j["emulator"] = s.emulator;
  j["cosmologies"] = s.cosmologies;
  j["mocks_per_cosmology"] = s.mocks_per_cosmology;
  j["generated_per_cosmology"] = s.generated_per_cosmology;
  j["one_p_values"] = s.one_p_values;
  j["one_p_seeds"] = s.one_p_seeds;
  j["cv_mocks"] = s.cv_mocks;
  j["cv_generated"] = s.cv_generated;
  j["cv_bins"] = s.cv_bins;
  j["histogram_bins"] = s.histogram_bins;
  j["sampler"] = {{"kind", kDiffusionSamplers.name(s.sampler.kind)},
                  {"steps", s.sampler.steps},
                  {"eta", s.sampler.eta},
                  {"clip_x0", s.sampler.clip_x0 < 0.0 ? Json("auto") : Json(s.sampler.clip_x0)}};
  j["fields"] = s.fields;
  j["likelihood"] = kLikelihoodKinds.name(s.likelihood);
  j["t_max"] = s.t_max;
  j["vlb_draws"] = s.vlb_draws;
  j["vlb_noise"] = "common";
  j["grid"] = {{"coarse_points", s.grid.coarse_points},
               {"window_points", s.grid.window_points},
               {"window_sigmas", s.grid.window_sigmas},
               {"cells_per_sd", s.grid.cells_per_sd},
               {"max_levels", s.grid.max_levels}};
  if (s.grid.climb)  // absent when off, so reports made before the climb existed still match
    j["grid"]["climb"] = {{"iterations", s.grid.climb_iterations}};
  if (s.nuts)  // absent when off, so reports made before NUTS existed still match
    j["nuts"] = {{"chains", s.nuts_chains}, {"warmup", s.nuts_warmup}, {"draws", s.nuts_draws}};
  j["rank_bins"] = s.rank_bins;
  j["coverage_levels"] = s.coverage_levels.empty() ? default_coverage_levels() : s.coverage_levels;
  if (s.likelihood == LikelihoodKind::PointElbo) {  // absent for fields, so older reports match
    j["elbo"] = {{"steps", s.elbo_steps}, {"draws", s.elbo_draws}};
    j["clouds"] = {{"sampler", s.cloud_sampler.empty() ? Json("default") : Json(s.cloud_sampler)},
                   {"steps", s.cloud_steps},
                   {"halo_mesh", s.halo_mesh},
                   {"queries", s.halo_queries}};
  }
  j["pk_baseline"] = {{"cosmologies", s.pk_cosmologies},
                      {"per_cosmology", s.pk_per_cosmology},
                      {"covariance_mocks", s.pk_covariance_mocks}};
  j["seed"] = s.seed;
  return j.dump(2);
}

ReportResult run_report(const ReportSettings& s, const std::string& out_dir,
                        const JobContext& job) {
  const auto start = std::chrono::steady_clock::now();
  if (out_dir.empty()) throw InvalidArgument("report: --out DIR is required");
  if (fs::exists(out_dir) && !fs::is_directory(out_dir))
    throw FileError(out_dir, "exists and is not a directory");
  if (report_detail::is_point_report(s)) return report_detail::run_point_report(s, out_dir, job);
  const Inputs in = resolve_inputs(s);
  const Json settings = Json::parse(report_settings_json(s));
  const fs::path dir(out_dir);
  report_detail::prepare_report_folder(out_dir, settings);

  Json inputs;
  inputs["model"] = s.model.empty() ? Json() : Json(s.model);
  inputs["mocks"] = s.mocks.empty() ? Json() : Json(s.mocks);
  inputs["mock_kind"] = in.mock_kind;
  inputs["resolution"] = in.n;
  inputs["box_size"] = in.box;
  inputs["units"] = in.units;
  inputs["grf"] = in.grf;
  inputs["mocks_description"] = s.mocks.empty() ? "built-in " + in.mock_kind + " mocks, " +
                                                      std::to_string(in.n) + "^2 pixels, " +
                                                      report_detail::fixed(in.box, 1) + " Mpc/h"
                                                : s.mocks;

  const bool emulator = in.model && s.emulator;
  ReportResult result;

  // Work list and progress.
  std::vector<std::string> emulator_files, field_files;
  std::vector<std::vector<double>> lh_thetas;
  std::vector<std::vector<std::size_t>> lh_members;  // indices into --mocks
  std::shared_ptr<Dataset> lh_set;
  if (emulator) {
    report_detail::validation_cosmologies(in.mocks.get(), s.mocks, "fields", "fields", s,
                                          mix_seed(s.seed, kLhMocksStream), lh_thetas, lh_members);
    emulator_files =
        report_detail::numbered_files((dir / "emulator").string(), "lh-", lh_thetas.size());
    if (s.one_p_values > 0 && !in.mock_kind.empty())
      emulator_files.push_back((dir / "emulator" / "1p.json").string());
    if (s.cv_mocks > 0 && !in.mock_kind.empty())
      emulator_files.push_back((dir / "emulator" / "cv.json").string());
  }
  field_files = report_detail::numbered_files((dir / "fields").string(), "", std::size_t(s.fields));
  report_detail::ReportProgress progress;
  progress.job = &job;
  progress.total = std::int64_t(emulator_files.size() + field_files.size());

  // Emulator blocks.
  if (emulator) {
    report_detail::EmulatorContext ctx;
    ctx.model = in.model.get();
    ctx.settings = &s;
    ctx.n = in.n;
    ctx.box = in.box;
    ctx.kind = in.field_kind;
    ctx.cancel = cancel_only(job);
    const Dataset* source = in.mocks.get();
    const std::vector<std::string> lh_files(emulator_files.begin(),
                                            emulator_files.begin() + long(lh_thetas.size()));
    report_detail::write_missing(
        lh_files,
        [&](std::size_t c) {
          if (!source && !lh_set) {
            SetDesign d;
            d.kind = SetKind::LatinHypercube;
            d.n_cosmo = s.cosmologies;
            d.per_cosmo = s.mocks_per_cosmology;
            d.seed = mix_seed(s.seed, kLhMocksStream);
            lh_set =
                std::make_shared<Dataset>(generate_field_set(mock_settings(in, s), d, ctx.cancel));
          }
          const Dataset& set = source ? *source : *lh_set;
          std::vector<const float*> mocks;
          for (std::size_t i : lh_members[c]) mocks.push_back(set.sample(i));
          const Json block = report_detail::emulator_lh_block(ctx, lh_thetas[c], mocks,
                                                              mix_seed(s.seed, kLhModelStream + c));
          return tagged(Json{{"block", "lh"}, {"index", c}}, block);
        },
        [&](std::size_t c) {
          return "emulator: cosmology " + std::to_string(c + 1) + "/" +
                 std::to_string(lh_thetas.size());
        },
        progress, result.blocks_reused, result.blocks_computed);
    for (std::size_t e = lh_thetas.size(); e < emulator_files.size(); ++e) {
      job.check_cancelled();
      const std::string& path = emulator_files[e];
      const bool is_one_p = fs::path(path).filename() == "1p.json";
      if (fs::exists(path)) {
        ++result.blocks_reused;
        job.report(++progress.done, progress.total);
        continue;
      }
      job.report(progress.done, progress.total, is_one_p ? "emulator: 1P set" : "emulator: CV set");
      SetDesign d;
      Json block;
      if (is_one_p) {
        d.kind = SetKind::OneParameter;
        d.n_cosmo = s.one_p_values;
        d.per_cosmo = s.one_p_seeds;
        d.seed = mix_seed(s.seed, kOnePMocksStream);
        const Dataset set = generate_field_set(mock_settings(in, s), d, ctx.cancel);
        block = report_detail::emulator_one_p_block(ctx, set, s.one_p_values, s.one_p_seeds,
                                                    mix_seed(s.seed, kOnePModelStream));
        block = tagged(Json{{"block", "1p"}}, block);
      } else {
        d.kind = SetKind::CosmicVariance;
        d.n_cosmo = 1;
        d.per_cosmo = s.cv_mocks;
        d.seed = mix_seed(s.seed, kCvMocksStream);
        const Dataset set = generate_field_set(mock_settings(in, s), d, ctx.cancel);
        block = report_detail::emulator_cv_block(ctx, set, s.cv_generated,
                                                 mix_seed(s.seed, kCvModelStream));
        block = tagged(Json{{"block", "cv"}}, block);
      }
      report_detail::write_json(path, block);
      ++result.blocks_computed;
      job.report(++progress.done, progress.total);
    }
  }

  // Calibration fields.
  std::shared_ptr<Dataset> calibration_set;
  std::vector<std::size_t> calibration_index;
  if (in.mocks) {
    calibration_index = choose_calibration_fields(in.mocks->count(), std::size_t(s.fields),
                                                  mix_seed(s.seed, kCalibrationStream));
  } else {
    for (int i = 0; i < s.fields; ++i) calibration_index.push_back(std::size_t(i));
  }
  std::shared_ptr<const PkBaseline> baseline;
  const auto calibration_field = [&](std::size_t i) {
    if (in.mocks) {
      calibration_set = in.mocks;
    } else if (!calibration_set) {
      SetDesign d;
      d.kind = SetKind::LatinHypercube;
      d.n_cosmo = s.fields;
      d.per_cosmo = 1;
      d.seed = mix_seed(s.seed, kCalibrationStream);
      calibration_set =
          std::make_shared<Dataset>(generate_field_set(mock_settings(in, s), d, cancel_only(job)));
      calibration_set->units = in.units;
    }
    const std::size_t index = calibration_index[i];
    if (s.likelihood == LikelihoodKind::PkBaseline && !baseline) {
      const std::string bpath = (dir / "pk_baseline.json").string();
      if (fs::exists(bpath)) {
        baseline = std::make_shared<const PkBaseline>(read_pk_baseline_json(bpath));
      } else {
        PkMockPlan plan;
        plan.field = mock_settings(in, s);
        plan.cosmologies = s.pk_cosmologies;
        plan.per_cosmology = s.pk_per_cosmology;
        plan.covariance_mocks = s.pk_covariance_mocks;
        plan.seed = mix_seed(s.seed, kPkBaselineStream);
        baseline = std::make_shared<const PkBaseline>(
            build_pk_baseline(plan, PkBaselineSettings{}, cancel_only(job)));
        write_pk_baseline_json(bpath, *baseline);
      }
    }
    report_detail::FieldRecordInput record;
    record.settings = &s;
    record.model = in.model.get();
    record.baseline = baseline;
    record.field = dataset_field(*calibration_set, index);
    record.origin = (in.mocks ? s.mocks : "calibration mock") + " field " + std::to_string(index);
    record.field_number = i;
    record.dataset_index = index;
    record.truth = {calibration_set->param(index, 0), calibration_set->param(index, 1)};
    record.grf = in.grf;
    record.vlb_seed = report_detail::vlb_noise_seed(s.seed, index);
    record.cancel = cancel_only(job);
    return report_detail::calibration_field_record(record);
  };
  report_detail::write_missing(
      field_files, calibration_field,
      [&](std::size_t i) {
        return "calibration: field " + std::to_string(i + 1) + "/" + std::to_string(s.fields);
      },
      progress, result.fields_reused, result.fields_computed);

  report_detail::finish_report(out_dir, settings, inputs, emulator_files, field_files, start,
                               result);
  job.report(progress.total, progress.total, "done");
  return result;
}

void report_detail::write_missing(const std::vector<std::string>& files,
                                  const std::function<Json(std::size_t)>& compute,
                                  const std::function<std::string(std::size_t)>& what,
                                  ReportProgress& progress, std::size_t& reused,
                                  std::size_t& computed) {
  const JobContext& job = *progress.job;
  for (std::size_t i = 0; i < files.size(); ++i) {
    job.check_cancelled();
    if (fs::exists(files[i])) {
      ++reused;
      job.report(++progress.done, progress.total, what(i) + " (done before)");
      continue;
    }
    job.report(progress.done, progress.total, what(i));
    report_detail::write_json(files[i], compute(i));
    ++computed;
    job.report(++progress.done, progress.total);
  }
}

void report_detail::check_counts(const ReportSettings& s, const std::string& samples) {
  if (s.fields < 2)
    throw InvalidArgument("report: --fields " + std::to_string(s.fields) +
                          " is too few: calibration needs K >= 2 " + samples + " (30 by default)");
  if (s.cosmologies < 1)
    throw InvalidArgument("report: --cosmologies " + std::to_string(s.cosmologies) +
                          " must be at least 1 (10 for a full report)");
  if (s.mocks_per_cosmology < 3 || s.generated_per_cosmology < 2)
    throw InvalidArgument("report: need >= 3 mocks and >= 2 generated " + samples +
                          " per cosmology");
}

std::vector<std::string> report_detail::numbered_files(const std::string& folder,
                                                       const std::string& prefix,
                                                       std::size_t count) {
  std::vector<std::string> files;
  for (std::size_t i = 0; i < count; ++i)
    files.push_back((fs::path(folder) / (prefix + three_digits(i) + ".json")).string());
  return files;
}

void report_detail::validation_cosmologies(const Dataset* mocks, const std::string& mocks_path,
                                           const std::string& samples, const std::string& command,
                                           const ReportSettings& s, std::uint64_t design_seed,
                                           std::vector<std::vector<double>>& thetas,
                                           std::vector<std::vector<std::size_t>>& members) {
  thetas.clear();
  members.clear();
  if (mocks) {
    for (const auto& [theta, group] : group_by_parameters(*mocks, 2)) {
      if (group.size() < 3) continue;
      if (int(thetas.size()) >= s.cosmologies) break;
      thetas.push_back(theta);
      members.push_back(group);
    }
    if (thetas.empty())
      throw FileError(mocks_path, "no cosmology has 3 or more " + samples +
                                      ", so the emulator block has no mocks to compare with "
                                      "(make a set with `mock " +
                                      command + " --set lh --per-cosmo 10`)");
    return;
  }
  SetDesign d;
  d.kind = SetKind::LatinHypercube;
  d.n_cosmo = s.cosmologies;
  d.per_cosmo = s.mocks_per_cosmology;
  d.seed = design_seed;
  const auto design = make_set(d);
  for (int c = 0; c < s.cosmologies; ++c) {
    const auto& smp = design[std::size_t(c * s.mocks_per_cosmology)];
    thetas.push_back({smp.omega_m, smp.sigma_8});
    std::vector<std::size_t> m;
    for (int i = 0; i < s.mocks_per_cosmology; ++i)
      m.push_back(std::size_t(c * s.mocks_per_cosmology + i));
    members.push_back(m);
  }
}

void report_detail::prepare_report_folder(const std::string& out_dir, const Json& settings) {
  const fs::path dir(out_dir);
  fs::create_directories(dir / "fields");
  fs::create_directories(dir / "emulator");
  const std::string settings_path = (dir / "settings.json").string();
  Json previous;
  if (report_detail::read_json(settings_path, previous) && previous != settings) {
    std::string key = "?";
    for (auto it = settings.begin(); it != settings.end(); ++it)
      if (!previous.contains(it.key()) || previous[it.key()] != it.value()) {
        key = it.key();
        break;
      }
    throw FileError(out_dir, "holds a report made with other settings (first difference: '" + key +
                                 "'); choose another --out or remove the folder");
  }
  report_detail::write_json(settings_path, settings);
}

void report_detail::finish_report(const std::string& out_dir, const Json& settings,
                                  const Json& inputs,
                                  const std::vector<std::string>& emulator_files,
                                  const std::vector<std::string>& field_files,
                                  std::chrono::steady_clock::time_point start,
                                  ReportResult& result) {
  const ReportResult written =
      report_detail::write_report_outputs(out_dir, settings, inputs, emulator_files, field_files);
  result.json_path = written.json_path;
  result.markdown_path = written.markdown_path;
  result.figures = written.figures;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Json timings;
  timings["seconds"] = result.seconds;
  timings["field_seconds"] = Json::array();  // of the run that computed each field
  for (const auto& path : field_files) {
    Json f;
    report_detail::read_json(path, f);
    timings["field_seconds"].push_back(f.value("seconds", 0.0));
  }
  timings["threads"] = thread_count();
  timings["blocks_computed"] = result.blocks_computed;
  timings["blocks_reused"] = result.blocks_reused;
  timings["fields_computed"] = result.fields_computed;
  timings["fields_reused"] = result.fields_reused;
  report_detail::write_json((fs::path(out_dir) / "timings.json").string(), timings);
}

ReportResult rebuild_report(const std::string& out_dir) {
  Json report;
  const std::string path = (fs::path(out_dir) / "report.json").string();
  if (!report_detail::read_json(path, report))
    throw FileError(out_dir, "holds no report.json (not a report folder)");
  ReportResult r;
  r.json_path = path;
  r.markdown_path = (fs::path(out_dir) / "report.md").string();
  for (const auto& f : report.at("figures")) r.figures.push_back(f.at("name").get<std::string>());
  return r;
}

}  // namespace ds
