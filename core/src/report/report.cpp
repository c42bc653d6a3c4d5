// run_report (report.h): inputs and their checks, the blocks (resumable, one file each), and the
// assembly of report.json, the CSV tables and report.md from those files.
#include "diffuscope/report/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/grid_posterior.h"
#include "diffuscope/infer/pk_baseline.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/pointcloud/point_model.h"
#include "diffuscope/random.h"
#include "diffuscope/report/calibration_summary.h"
#include "diffuscope/runtime.h"
#include "report_internal.h"

namespace fs = std::filesystem;

namespace ds {

using report_detail::Json;
using report_detail::num;
using report_detail::nums;

namespace {

// Streams of the report's seed (mix_seed(seed, stream)); a field or cosmology adds its index.
constexpr std::uint64_t kLhMocksStream = 101, kOnePMocksStream = 303, kCvMocksStream = 405,
                        kCvModelStream = 406, kOnePModelStream = 304, kCalibrationStream = 202,
                        kPkBaselineStream = 707, kLhModelStream = 1000, kVlbNoiseStream = 1u << 20;

const char* const kParameterNames[2] = {"Omega_m", "sigma_8"};

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
  if (s.fields < 2)
    throw InvalidArgument("report: --fields " + std::to_string(s.fields) +
                          " is too few: calibration needs K >= 2 fields (30 by default)");
  if (s.cosmologies < 1)
    throw InvalidArgument("report: --cosmologies " + std::to_string(s.cosmologies) +
                          " must be at least 1 (10 for a full report)");
  if (s.one_p_values != 0 && (s.one_p_values < 3 || s.one_p_values % 2 == 0))
    throw InvalidArgument("report: 1P values " + std::to_string(s.one_p_values) +
                          " must be odd and >= 3 (the middle one is the fiducial), or 0");
  if (s.mocks_per_cosmology < 3 || s.generated_per_cosmology < 2)
    throw InvalidArgument("report: need >= 3 mocks and >= 2 generated fields per cosmology");
  if (s.cv_mocks != 0 && (s.cv_mocks < 4 || s.cv_generated < 4))
    throw InvalidArgument("report: the CV set needs >= 4 mocks and >= 4 generated fields, or 0");
  if (s.likelihood == LikelihoodKind::PointElbo)
    throw InvalidArgument(
        "report: --likelihood elbo is for point-cloud models, whose report is not implemented "
        "yet; use vlb, exact-grf or pk-baseline with a 2D field model");
  Json config = Json::object();
  if (!s.model.empty()) {
    if (!fs::exists(s.model)) throw FileError(s.model, "no such model file");
    if (PointCloudModel::is_point_model(s.model))
      throw FileError(s.model,
                      "is a point-cloud model: the report of point models (kNN-CDF, 2PCF, HMF, "
                      "pairwise velocities, ELBO calibration) is not implemented yet; only 2D "
                      "field models are supported");
    in.model =
        std::make_shared<const DiffusionModel2d>(DiffusionModel2d::load(s.model, s.device, s.ema));
    if (in.model->parameter_count() != 2)
      throw FileError(s.model, "the model takes " + std::to_string(in.model->parameter_count()) +
                                   " parameters; the report needs (Omega_m, sigma_8)");
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

Json grid_json(const GridScan& scan) {
  return Json{{"omega_m", scan.omega_m}, {"sigma_8", scan.sigma_8}, {"log_like", scan.log_like}};
}

Json posterior_json(const CalibrationField& field, const PosteriorGrid& grid) {
  const FieldCalibration check = check_grid(field, grid.scan);
  Json j;
  j["levels"] = grid.levels;
  j["evaluations"] = grid.evaluations;
  j["resolved"] = grid.resolved;
  j["parameters"] = Json::array();
  for (std::size_t p = 0; p < 2; ++p) {
    const ParameterCheck& c = check.parameters[p];
    const GridMarginal m = grid_marginal(grid.scan, p);
    Json pj;
    pj["name"] = kParameterNames[p];
    pj["truth"] = c.truth;
    pj["mean"] = c.mean;
    pj["sd"] = c.sd;
    pj["z"] = c.z;
    pj["rank"] = grid_marginal_cdf(m, c.truth);
    pj["inner"] = {c.inner_lo, c.inner_hi};
    pj["outer"] = {c.outer_lo, c.outer_hi};
    pj["inside_inner"] = c.inside_inner;
    pj["inside_outer"] = c.inside_outer;
    pj["grid_step"] = (m.axis.back() - m.axis.front()) / double(m.axis.size() - 1);
    pj["marginal"] = m.weights;
    j["parameters"].push_back(pj);
  }
  j["grid"] = grid_json(grid.scan);
  return j;
}

ReportParameterPosterior read_parameter(const Json& f, std::size_t p) {
  const Json& pj = f.at("posterior").at("parameters").at(p);
  ReportParameterPosterior r;
  r.truth = num(pj.at("truth"));
  r.mean = num(pj.at("mean"));
  r.sd = num(pj.at("sd"));
  r.z = num(pj.at("z"));
  r.rank = num(pj.at("rank"));
  r.inner_lo = num(pj.at("inner")[0]);
  r.inner_hi = num(pj.at("inner")[1]);
  r.outer_lo = num(pj.at("outer")[0]);
  r.outer_hi = num(pj.at("outer")[1]);
  r.inside_inner = pj.at("inside_inner").get<bool>();
  r.inside_outer = pj.at("inside_outer").get<bool>();
  if (f.contains("exact") && !f["exact"].is_null()) {
    const Json& ej = f["exact"].at("parameters").at(p);
    r.exact_mean = num(ej.at("mean"));
    r.exact_sd = num(ej.at("sd"));
    r.exact_inner_lo = num(ej.at("inner")[0]);
    r.exact_inner_hi = num(ej.at("inner")[1]);
  }
  return r;
}

Json summary_json(const ParameterCalibrationSummary& s) {
  Json j;
  j["name"] = s.name;
  j["fields"] = s.fields;
  j["coverage_68"] = s.inner_coverage;
  j["coverage_68_se"] = s.inner_se;
  j["coverage_68_nominal_se"] = s.inner_nominal_se;
  j["coverage_95"] = s.outer_coverage;
  j["coverage_95_se"] = s.outer_se;
  j["coverage_95_nominal_se"] = s.outer_nominal_se;
  j["mean_abs_z"] = s.mean_abs_z;
  j["z_mean"] = s.z_mean;
  j["z_sd"] = s.z_sd;
  j["bias"] = s.bias;
  j["relative_bias"] = s.relative_bias;
  j["mean_sd"] = s.mean_sd;
  j["rank_histogram"] = s.rank_histogram;
  j["expected_coverage"] = {{"levels", s.expected_coverage.levels},
                            {"coverage", s.expected_coverage.coverage},
                            {"nominal_se", s.expected_coverage.se}};
  j["exact_width_ratio_mean"] = s.width_ratio_mean;
  j["exact_width_ratio_sd"] = s.width_ratio_sd;
  j["exact_shift_mean"] = s.shift_mean;
  j["exact_shift_sd"] = s.shift_sd;
  j["exact_overlap_68_mean"] = s.overlap_mean;
  return j;
}

// ---------------------------------------------------------------------------------------------
// Assembly: report.json, CSVs, report.md from the block and field files.

struct Assembled {
  Json report;
  std::vector<std::string> figures;
};

Json load_required(const std::string& path) {
  Json j;
  if (!report_detail::read_json(path, j)) throw FileError(path, "missing report block");
  return j;
}

Assembled assemble(const std::string& dir, const Json& settings, const Json& inputs,
                   const std::vector<std::string>& emulator_files,
                   const std::vector<std::string>& field_files) {
  using report_detail::FigureBuilder;
  Assembled a;
  Json& r = a.report;
  r["format"] = "diffuscope-report";
  r["version"] = 1;
  r["diffuscope_version"] = library_versions().diffuscope;
  r["settings"] = settings;
  r["inputs"] = inputs;
  Json figures = Json::array();
  std::vector<std::string> headlines;

  // Emulator.
  std::vector<Json> lh;
  Json one_p, cv;
  for (const auto& path : emulator_files) {
    Json j = load_required(path);
    const std::string kind = j.value("block", std::string());
    if (kind == "lh") lh.push_back(std::move(j));
    if (kind == "1p") one_p = std::move(j);
    if (kind == "cv") cv = std::move(j);
  }
  if (!lh.empty()) {
    Json e;
    e["cosmologies"] = Json::array();
    std::vector<double> chi2, loo, om, s8, index;
    for (const auto& b : lh) {
      e["cosmologies"].push_back(b);
      chi2.push_back(num(b["reduced_chi2"]));
      loo.push_back(num(b["loo_reduced_chi2"]));
      om.push_back(num(b["theta"][0]));
      s8.push_back(num(b["theta"][1]));
      index.push_back(double(index.size()));
    }
    auto mean_of = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return s / double(v.size());
    };
    auto worst_of = [](const std::vector<double>& v) {
      return *std::max_element(v.begin(), v.end());
    };
    e["summary"] = {{"reduced_chi2_mean", mean_of(chi2)},
                    {"loo_reduced_chi2_mean", mean_of(loo)},
                    {"reduced_chi2_worst", worst_of(chi2)},
                    {"chi2_over_loo_worst", [&] {
                       double w = 0;
                       for (std::size_t i = 0; i < chi2.size(); ++i)
                         w = std::max(w, chi2[i] / loo[i]);
                       return w;
                     }()}};
    r["emulator"] = e;
    headlines.push_back(
        "Emulator P(k): reduced chi^2 of generated fields against the mocks, averaged over " +
        std::to_string(lh.size()) + " validation cosmologies, is " +
        report_detail::fixed(mean_of(chi2), 2) +
        " (the mocks' own leave-one-out value: " + report_detail::fixed(mean_of(loo), 2) +
        "; worst cosmology " + report_detail::fixed(worst_of(chi2), 2) + ").");
    {  // The stricter test: the ratio of mean spectra at the first, middle and last k bin.
      std::string text = "Emulator P(k) ratio generated / mocks (range over cosmologies):";
      const std::size_t bins = std::max<std::size_t>(1, lh[0]["ratio"].size());
      const std::pair<const char*, std::size_t> at[] = {
          {" first k bin ", 0}, {", middle ", bins / 2}, {", last ", bins - 1}};
      for (const auto& [label, b] : at) {
        double lo = 1e300, hi = -1e300;
        for (const auto& c : lh) {
          const double v = b < c["ratio"].size() ? num(c["ratio"][b]) : NAN;
          if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
        text += label + (lo <= hi ? report_detail::fixed(lo, 2) + "-" + report_detail::fixed(hi, 2)
                                  : std::string("n/a"));
      }
      headlines.push_back(text +
                          " (1 for a faithful emulator; the mocks' own 16-84% band is in "
                          "the emulator_pk figure).");
    }

    // Figure: P(k) and ratio per cosmology.
    FigureBuilder pk("emulator_pk", "P(k) of generated fields against mocks",
                     "Mean P(k) of the mocks (solid, 16-84% band) and of the generated fields "
                     "(dashed) at each validation cosmology; lower panel: generated / mock mean "
                     "with the mocks' own 16-84% band divided by their mean.");
    pk.layout("rows");
    const std::string k = pk.column("k", nums(lh[0]["k"]));
    pk.panel("P(k)", "k [h/Mpc]", "P(k) [(Mpc/h)^2]", true, true);
    for (std::size_t c = 0; c < lh.size(); ++c) {
      const std::string tag = "c" + std::to_string(c);
      const auto& b = lh[c];
      const std::string label = "(" + report_detail::fixed(num(b["theta"][0]), 3) + ", " +
                                report_detail::fixed(num(b["theta"][1]), 3) + ")";
      pk.series("mocks " + label, "line", k,
                pk.column(tag + "_mock_mean", nums(b["mock_pk"]["mean"])), int(c));
      if (!b["generated_pk"].is_null())
        pk.series("generated " + label, "dashed", k,
                  pk.column(tag + "_generated_mean", nums(b["generated_pk"]["mean"])), int(c));
      pk.column(tag + "_mock_lower", nums(b["mock_pk"]["lower"]));
      pk.column(tag + "_mock_upper", nums(b["mock_pk"]["upper"]));
    }
    pk.panel("ratio", "k [h/Mpc]", "P_generated / P_mocks", true, false);
    for (std::size_t c = 0; c < lh.size(); ++c) {
      const std::string tag = "c" + std::to_string(c);
      const auto& b = lh[c];
      const std::string lo = pk.column(tag + "_mock_ratio_lower", nums(b["mock_ratio_lower"]));
      const std::string hi = pk.column(tag + "_mock_ratio_upper", nums(b["mock_ratio_upper"]));
      if (c == 0) pk.series("mocks 16-84%", "band", k, "", int(c), lo, hi);
      pk.series("", "line", k, pk.column(tag + "_ratio", nums(b["ratio"])), int(c));
    }
    figures.push_back(pk.finish(dir));

    FigureBuilder ch("emulator_chi2", "Reduced chi^2 per validation cosmology",
                     "Diagonal reduced chi^2 (Diffusion-HMC eq. 10) of the generated fields' P(k) "
                     "against the mocks (mean and sd over fields) and of each mock against the "
                     "others (leave-one-out): a faithful emulator matches the second.");
    std::vector<double> chi2_sd, loo_sd, chi2_lo, chi2_hi, loo_lo, loo_hi, index_shift;
    for (std::size_t c = 0; c < lh.size(); ++c) {
      chi2_sd.push_back(num(lh[c]["reduced_chi2_sd"]));
      loo_sd.push_back(num(lh[c]["loo_reduced_chi2_sd"]));
      chi2_lo.push_back(chi2[c] - chi2_sd[c]);
      chi2_hi.push_back(chi2[c] + chi2_sd[c]);
      loo_lo.push_back(loo[c] - loo_sd[c]);
      loo_hi.push_back(loo[c] + loo_sd[c]);
      index_shift.push_back(double(c) + 0.15);
    }
    ch.column("omega_m", om);
    ch.column("sigma_8", s8);
    const std::string ix = ch.column("cosmology", index);
    const std::string ixs = ch.column("cosmology_shifted", index_shift);
    ch.panel("", "validation cosmology", "reduced chi^2", false, false);
    ch.series("generated", "errorbars", ix, ch.column("reduced_chi2", chi2), 0,
              ch.column("reduced_chi2_lo", chi2_lo), ch.column("reduced_chi2_hi", chi2_hi));
    ch.series("mocks (leave-one-out)", "errorbars", ixs, ch.column("loo_reduced_chi2", loo), 1,
              ch.column("loo_lo", loo_lo), ch.column("loo_hi", loo_hi));
    ch.column("reduced_chi2_sd", chi2_sd);
    ch.column("loo_reduced_chi2_sd", loo_sd);
    figures.push_back(ch.finish(dir));

    // Figure: pooled density histograms (first, middle and last validation cosmology).
    FigureBuilder hist("density_histogram", "One-point distribution",
                       "Density-normalised histograms of " +
                           lh[0]["histogram"]["quantity"].get<std::string>() +
                           " of the mocks (solid) and of the generated fields (dashed) at three "
                           "validation cosmologies (every cosmology is in report.json).");
    hist.panel("", lh[0]["histogram"]["quantity"].get<std::string>(), "density", false, false);
    std::vector<std::size_t> show{0};
    if (lh.size() > 2) show.push_back(lh.size() / 2);
    if (lh.size() > 1) show.push_back(lh.size() - 1);
    for (std::size_t c : show) {
      const std::string tag = "c" + std::to_string(c);
      const auto edges = nums(lh[c]["histogram"]["edges"]);
      std::vector<double> centres;
      for (std::size_t b = 0; b + 1 < edges.size(); ++b)
        centres.push_back(0.5 * (edges[b] + edges[b + 1]));
      const std::string x = hist.column(tag + "_centre", centres);
      const std::string label =
          "(" + report_detail::fixed(om[c], 3) + ", " + report_detail::fixed(s8[c], 3) + ")";
      hist.series("mocks " + label, "line", x,
                  hist.column(tag + "_mocks", nums(lh[c]["histogram"]["mocks"])), int(c));
      hist.series("generated " + label, "dashed", x,
                  hist.column(tag + "_generated", nums(lh[c]["histogram"]["generated"])), int(c));
    }
    figures.push_back(hist.finish(dir));
  }
  if (!one_p.is_null()) {
    r["one_p"] = one_p;
    FigureBuilder f("one_p", "1P: P(k) relative to the fiducial",
                    "P(k) at each value of one parameter divided by P(k) at the fiducial "
                    "(0.3, 0.8), seed by seed, averaged: mocks solid, generated fields dashed "
                    "(the same noise at every parameter value).");
    const std::string k = f.column("k", nums(one_p["k"]));
    for (std::size_t p = 0; p < 2; ++p) {
      const auto& pj = one_p["parameters"][p];
      f.panel(pj["name"].get<std::string>(), "k [h/Mpc]", "P / P_fiducial", true, false);
      int colour = 0;
      for (const auto& curve : pj["curves"]) {
        const std::string tag =
            pj["name"].get<std::string>() + "_" + report_detail::fixed(num(curve["value"]), 3);
        f.series(pj["name"].get<std::string>() + " = " +
                     report_detail::fixed(num(curve["value"]), 3) + " mocks",
                 "line", k, f.column(tag + "_mocks", nums(curve["mock_ratio"]["mean"])), colour);
        if (!curve["generated_ratio"].is_null())
          f.series("generated", "dashed", k,
                   f.column(tag + "_generated", nums(curve["generated_ratio"]["mean"])), colour);
        ++colour;
      }
    }
    figures.push_back(f.finish(dir));
  }
  if (!cv.is_null()) {
    r["cv"] = cv;
    if (cv.contains("std_ratio")) {
      const auto ratio = nums(cv["std_ratio"]);
      double lo = 1e300, hi = -1e300;
      for (double x : ratio) lo = std::min(lo, x), hi = std::max(hi, x);
      headlines.push_back("CV set at the fiducial: the generated std of P(k) is " +
                          report_detail::fixed(lo, 2) + "-" + report_detail::fixed(hi, 2) +
                          " times the mocks' across k (" + std::to_string(cv["mocks"].get<int>()) +
                          " mocks, " + std::to_string(cv["generated_finite"].get<int>()) +
                          " generated fields).");
      FigureBuilder f("cv_std", "CV: scatter of P(k)",
                      "Standard deviation of P(k) at the fiducial cosmology, generated / mocks, "
                      "with jackknife errors; 1 for a faithful emulator.");
      const std::string k = f.column("k", nums(cv["k"]));
      const auto err = nums(cv["std_ratio_error"]);
      std::vector<double> rlo, rhi, one(ratio.size(), 1.0);
      for (std::size_t b = 0; b < ratio.size(); ++b)
        rlo.push_back(ratio[b] - err[b]), rhi.push_back(ratio[b] + err[b]);
      f.panel("", "k [h/Mpc]", "std generated / std mocks", true, false);
      f.series("generated / mocks", "errorbars", k, f.column("std_ratio", ratio), 0,
               f.column("std_ratio_lo", rlo), f.column("std_ratio_hi", rhi));
      f.series("", "dashed", k, f.column("one", one), 7);
      f.column("mock_std", nums(cv["mock_std"]));
      f.column("generated_std", nums(cv["generated_std"]));
      figures.push_back(f.finish(dir));
    }
    if (cv.contains("generated_correlation") && !cv["generated_correlation"].is_null()) {
      FigureBuilder f("cv_correlation", "CV: correlation matrices of P(k)",
                      "Correlation of P(k) between log-spaced k bins at the fiducial cosmology: "
                      "mocks (left) and generated fields (right).");
      const std::size_t b = cv["k_binned"].size();
      std::vector<double> col, row;
      for (std::size_t i = 0; i < b; ++i)
        for (std::size_t j = 0; j < b; ++j) row.push_back(double(i)), col.push_back(double(j));
      const std::string x = f.column("column", col), y = f.column("row", row);
      f.column("k_binned", nums(cv["k_binned"]));
      f.panel("mocks", "k bin", "k bin");
      f.map("mocks", x, y, f.column("mock_correlation", nums(cv["mock_correlation"])), int(b), -1,
            1);
      f.panel("generated", "k bin", "k bin");
      f.map("generated", x, y, f.column("generated_correlation", nums(cv["generated_correlation"])),
            int(b), -1, 1);
      figures.push_back(f.finish(dir));
    }
  }

  // Calibration.
  if (!field_files.empty()) {
    std::vector<Json> fields;
    for (const auto& path : field_files) {
      fields.push_back(load_required(path));
      fields.back().erase("seconds");  // wall time: timings.json (report.json is reproducible)
    }
    Json c;
    c["fields"] = fields;
    c["summary"] = Json::array();
    const std::vector<double> levels = settings.contains("coverage_levels")
                                           ? nums(settings["coverage_levels"])
                                           : default_coverage_levels();
    const int rank_bins = settings.value("rank_bins", 10);
    bool exact = false;
    std::vector<ParameterCalibrationSummary> summaries;
    for (std::size_t p = 0; p < 2; ++p) {
      std::vector<ReportParameterPosterior> values;
      for (const auto& f : fields) values.push_back(read_parameter(f, p));
      exact = exact || std::isfinite(values[0].exact_sd);
      summaries.push_back(summarize_parameter(kParameterNames[p], values, rank_bins, levels));
      c["summary"].push_back(summary_json(summaries.back()));
    }
    c["exact_comparison"] = exact;
    r["calibration"] = c;
    const std::string lik = settings.value("likelihood", std::string());
    for (const auto& s : summaries)
      headlines.push_back(s.name + " (" + lik + " posterior, " + std::to_string(s.fields) +
                          " fields): 68% intervals cover the truth " +
                          report_detail::fixed(100 * s.inner_coverage, 1) + "% of the time (+- " +
                          report_detail::fixed(100 * s.inner_nominal_se, 1) +
                          "% binomial error at nominal), 95% intervals " +
                          report_detail::fixed(100 * s.outer_coverage, 1) + "% (+- " +
                          report_detail::fixed(100 * s.outer_nominal_se, 1) +
                          "%); mean |z| = " + report_detail::fixed(s.mean_abs_z, 2) +
                          " (0.80 if calibrated; the paper: 2.75 for "
                          "Omega_m, 1.14 for sigma_8), sd of z = " +
                          report_detail::fixed(s.z_sd, 2) + ", mean bias " +
                          report_detail::fixed(s.bias, 4) + " (" +
                          report_detail::fixed(100 * s.relative_bias, 2) + "%).");
    if (exact)
      for (const auto& s : summaries)
        headlines.push_back(s.name + " against the exact GRF posterior: width ratio " +
                            report_detail::fixed(s.width_ratio_mean, 2) + " +- " +
                            report_detail::fixed(s.width_ratio_sd, 2) + ", mean shift " +
                            report_detail::fixed(s.shift_mean, 2) + " +- " +
                            report_detail::fixed(s.shift_sd, 2) +
                            " exact sds, overlap of the 68% intervals " +
                            report_detail::fixed(s.overlap_mean, 2) + ".");

    FigureBuilder cov("calibration_coverage", "Expected coverage",
                      "Empirical coverage of central credible intervals against their "
                      "credibility level (SBC-style, from the posterior CDF at the truth), with "
                      "the binomial band of a calibrated posterior; below the diagonal: "
                      "overconfident.");
    const std::string lv = cov.column("level", levels);
    std::vector<double> band_lo, band_hi;  // columns made in order: the CSV's order is fixed
    for (std::size_t i = 0; i < levels.size(); ++i) {
      const double se = summaries[0].expected_coverage.se[i];
      band_lo.push_back(levels[i] - 2 * se);
      band_hi.push_back(levels[i] + 2 * se);
    }
    cov.panel("", "credibility level", "empirical coverage");
    cov.panel_range(0, 1, 0, 1.02);
    cov.legend("bottom_right");
    const std::string blo = cov.column("band_lo", band_lo);
    const std::string bhi = cov.column("band_hi", band_hi);
    cov.series("calibrated +- 2 se", "band", lv, "", 7, blo, bhi);
    cov.series("", "dashed", lv, lv, 7);
    for (std::size_t p = 0; p < 2; ++p)
      cov.series(
          summaries[p].name, "points", lv,
          cov.column(summaries[p].name + "_coverage", summaries[p].expected_coverage.coverage),
          int(p));
    figures.push_back(cov.finish(dir));

    FigureBuilder rank(
        "calibration_rank", "Rank histograms",
        "Histogram of the posterior CDF at the truth (the continuous SBC rank): flat "
        "for a calibrated posterior, U-shaped when overconfident, peaked when "
        "underconfident; the line is the expected count.");
    std::vector<double> left, expect;
    for (int b = 0; b < rank_bins; ++b) {
      left.push_back(double(b) / rank_bins);
      expect.push_back(double(fields.size()) / rank_bins);
    }
    const std::string rl = rank.column("bin_left", left);
    for (std::size_t p = 0; p < 2; ++p) {
      std::vector<double> counts(summaries[p].rank_histogram.begin(),
                                 summaries[p].rank_histogram.end());
      rank.panel(summaries[p].name, "rank (posterior CDF at the truth)", "fields");
      rank.series("", "step", rl, rank.column(summaries[p].name + "_count", counts), int(p));
      rank.series("expected", "dashed", rl, rank.column("expected_" + std::to_string(p), expect),
                  7);
    }
    figures.push_back(rank.finish(dir));

    FigureBuilder bias("calibration_bias", "Posterior mean and 68% interval against the truth",
                       "Each field's posterior mean with its central 68% interval against the "
                       "true value; the diagonal is the truth. The width of the intervals across "
                       "the prior is in the table (csv/calibration_bias.csv).");
    for (std::size_t p = 0; p < 2; ++p) {
      std::vector<double> truth, mean, lo, hi, sd, z;
      for (const auto& f : fields) {
        const ReportParameterPosterior v = read_parameter(f, p);
        truth.push_back(v.truth), mean.push_back(v.mean), lo.push_back(v.inner_lo);
        hi.push_back(v.inner_hi), sd.push_back(v.sd), z.push_back(v.z);
      }
      const std::string n = summaries[p].name;
      const std::string t = bias.column(n + "_truth", truth);
      bias.panel(n, "truth", "posterior mean");
      bias.legend("top_left");
      bias.series("", "errorbars", t, bias.column(n + "_mean", mean), int(p),
                  bias.column(n + "_inner_lo", lo), bias.column(n + "_inner_hi", hi));
      bias.series("", "dashed", t, t, 7);
      bias.column(n + "_sd", sd);
      bias.column(n + "_z", z);
    }
    figures.push_back(bias.finish(dir));

    if (exact) {
      FigureBuilder ex("exact_comparison", "Posterior against the exact GRF posterior",
                       "Per field: sd of the posterior / sd of the exact GRF posterior (left) and "
                       "the shift of the mean in units of the exact sd (right).");
      std::vector<double> index;
      for (std::size_t i = 0; i < fields.size(); ++i) index.push_back(double(i));
      const std::string ix = ex.column("field", index);
      for (std::size_t p = 0; p < 2; ++p) {
        std::vector<double> ratio, shift, overlap;
        for (const auto& f : fields) {
          const ReportParameterPosterior v = read_parameter(f, p);
          ratio.push_back(v.sd / v.exact_sd);
          shift.push_back((v.mean - v.exact_mean) / v.exact_sd);
          overlap.push_back(
              interval_overlap(v.inner_lo, v.inner_hi, v.exact_inner_lo, v.exact_inner_hi));
        }
        const std::string n = summaries[p].name;
        ex.column(n + "_overlap_68", overlap);
        ex.panel(n + ": width ratio", "field", "sd / sd_exact");
        ex.series("", "points", ix, ex.column(n + "_width_ratio", ratio), int(p));
        ex.panel(n + ": shift", "field", "(mean - mean_exact) / sd_exact");
        ex.series("", "points", ix, ex.column(n + "_shift", shift), int(p));
      }
      figures.push_back(ex.finish(dir));
    }
  }
  r["headlines"] = headlines;
  r["figures"] = figures;
  for (const auto& f : figures) a.figures.push_back(f["name"].get<std::string>());
  return a;
}

std::string markdown(const Json& r) {
  std::ostringstream md;
  const Json& in = r["inputs"];
  md << "# Validation report\n\n";
  md << "Model: `" << (in["model"].is_string() ? in["model"].get<std::string>() : "(none)")
     << "`; mocks: " << in.value("mocks_description", std::string())
     << "; likelihood: " << r["settings"].value("likelihood", std::string()) << "; seed "
     << r["settings"].value("seed", std::uint64_t(0)) << "; Diffuscope "
     << r.value("diffuscope_version", std::string()) << ".\n\n";
  md << "## Headline figures\n\n";
  for (const auto& h : r["headlines"]) md << "- " << h.get<std::string>() << "\n";
  if (r.contains("calibration")) {
    md << "\n## Calibration\n\n";
    md << "| parameter | fields | 68% coverage | 95% coverage | mean abs z | sd z | bias |\n";
    md << "|---|---|---|---|---|---|---|\n";
    for (const auto& s : r["calibration"]["summary"])
      md << "| " << s["name"].get<std::string>() << " | " << s["fields"].get<int>() << " | "
         << report_detail::fixed(num(s["coverage_68"]), 3) << " +- "
         << report_detail::fixed(num(s["coverage_68_nominal_se"]), 3) << " | "
         << report_detail::fixed(num(s["coverage_95"]), 3) << " +- "
         << report_detail::fixed(num(s["coverage_95_nominal_se"]), 3) << " | "
         << report_detail::fixed(num(s["mean_abs_z"]), 2) << " | "
         << report_detail::fixed(num(s["z_sd"]), 2) << " | "
         << report_detail::fixed(num(s["bias"]), 4) << " |\n";
    md << "\n(+- : binomial error of the nominal coverage, sqrt(q (1 - q) / K).)\n";
  }
  if (r.contains("emulator")) {
    md << "\n## Emulator\n\n| Omega_m | sigma_8 | reduced chi^2 generated | leave-one-out mocks |\n"
          "|---|---|---|---|\n";
    for (const auto& c : r["emulator"]["cosmologies"])
      md << "| " << report_detail::fixed(num(c["theta"][0]), 3) << " | "
         << report_detail::fixed(num(c["theta"][1]), 3) << " | "
         << report_detail::fixed(num(c["reduced_chi2"]), 2) << " +- "
         << report_detail::fixed(num(c["reduced_chi2_sd"]), 2) << " | "
         << report_detail::fixed(num(c["loo_reduced_chi2"]), 2) << " +- "
         << report_detail::fixed(num(c["loo_reduced_chi2_sd"]), 2) << " |\n";
  }
  md << "\n## Figures\n\n";
  for (const auto& f : r["figures"])
    md << "### " << f["title"].get<std::string>() << "\n\n"
       << f["caption"].get<std::string>() << " Data: `" << f["csv"].get<std::string>() << "`.\n\n!["
       << f["title"].get<std::string>() << "](" << f["png"].get<std::string>() << ")\n\n";
  return md.str();
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

ReportResult write_outputs(const std::string& dir, const Json& settings, const Json& inputs,
                           const std::vector<std::string>& emulator_files,
                           const std::vector<std::string>& field_files) {
  fs::create_directories(fs::path(dir) / "csv");
  const Assembled a = assemble(dir, settings, inputs, emulator_files, field_files);
  ReportResult result;
  result.json_path = (fs::path(dir) / "report.json").string();
  result.markdown_path = (fs::path(dir) / "report.md").string();
  result.figures = a.figures;
  report_detail::write_json(result.json_path, a.report);
  write_text(result.markdown_path, markdown(a.report));
  return result;
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
                  {"clip_x0", s.sampler.clip_x0}};
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
  j["rank_bins"] = s.rank_bins;
  j["coverage_levels"] = s.coverage_levels.empty() ? default_coverage_levels() : s.coverage_levels;
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
  const Inputs in = resolve_inputs(s);
  const Json settings = Json::parse(report_settings_json(s));

  // The folder: new, or a report of the same settings (resumed).
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
    if (in.mocks) {
      for (const auto& [theta, members] : group_by_parameters(*in.mocks, 2)) {
        if (members.size() < 3) continue;
        if (int(lh_thetas.size()) >= s.cosmologies) break;
        lh_thetas.push_back(theta);
        lh_members.push_back(members);
      }
      if (lh_thetas.empty())
        throw FileError(s.mocks,
                        "no cosmology has 3 or more fields, so the emulator block has no mocks to "
                        "compare with (make a set with `mock fields --set lh --per-cosmo 10`)");
    } else {
      SetDesign d;
      d.kind = SetKind::LatinHypercube;
      d.n_cosmo = s.cosmologies;
      d.per_cosmo = s.mocks_per_cosmology;
      d.seed = mix_seed(s.seed, kLhMocksStream);
      const auto samples = make_set(d);
      for (int c = 0; c < s.cosmologies; ++c) {
        const auto& smp = samples[std::size_t(c * s.mocks_per_cosmology)];
        lh_thetas.push_back({smp.omega_m, smp.sigma_8});
        std::vector<std::size_t> m;
        for (int i = 0; i < s.mocks_per_cosmology; ++i)
          m.push_back(std::size_t(c * s.mocks_per_cosmology + i));
        lh_members.push_back(m);
      }
    }
    for (std::size_t c = 0; c < lh_thetas.size(); ++c)
      emulator_files.push_back((dir / "emulator" / ("lh-" + three_digits(c) + ".json")).string());
    if (s.one_p_values > 0 && !in.mock_kind.empty())
      emulator_files.push_back((dir / "emulator" / "1p.json").string());
    if (s.cv_mocks > 0 && !in.mock_kind.empty())
      emulator_files.push_back((dir / "emulator" / "cv.json").string());
  }
  for (int i = 0; i < s.fields; ++i)
    field_files.push_back((dir / "fields" / (three_digits(std::size_t(i)) + ".json")).string());
  const std::int64_t total = std::int64_t(emulator_files.size() + field_files.size());
  std::int64_t done = 0;

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
    for (std::size_t c = 0; c < lh_thetas.size(); ++c) {
      job.check_cancelled();
      const std::string& path = emulator_files[c];
      if (fs::exists(path)) {
        ++result.blocks_reused;
        job.report(++done, total, "emulator cosmology " + std::to_string(c + 1) + " (done before)");
        continue;
      }
      job.report(
          done, total,
          "emulator: cosmology " + std::to_string(c + 1) + "/" + std::to_string(lh_thetas.size()));
      if (!source && !lh_set) {
        SetDesign d;
        d.kind = SetKind::LatinHypercube;
        d.n_cosmo = s.cosmologies;
        d.per_cosmo = s.mocks_per_cosmology;
        d.seed = mix_seed(s.seed, kLhMocksStream);
        lh_set = std::make_shared<Dataset>(generate_field_set(mock_settings(in, s), d, ctx.cancel));
      }
      const Dataset& set = source ? *source : *lh_set;
      std::vector<const float*> mocks;
      for (std::size_t i : lh_members[c]) mocks.push_back(set.sample(i));
      Json block = report_detail::emulator_lh_block(ctx, lh_thetas[c], mocks,
                                                    mix_seed(s.seed, kLhModelStream + c));
      block = tagged(Json{{"block", "lh"}, {"index", c}}, block);
      report_detail::write_json(path, block);
      ++result.blocks_computed;
      job.report(++done, total);
    }
    for (std::size_t e = lh_thetas.size(); e < emulator_files.size(); ++e) {
      job.check_cancelled();
      const std::string& path = emulator_files[e];
      const bool is_one_p = fs::path(path).filename() == "1p.json";
      if (fs::exists(path)) {
        ++result.blocks_reused;
        job.report(++done, total);
        continue;
      }
      job.report(done, total, is_one_p ? "emulator: 1P set" : "emulator: CV set");
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
      job.report(++done, total);
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
  for (int i = 0; i < s.fields; ++i) {
    job.check_cancelled();
    const std::string& path = field_files[std::size_t(i)];
    if (fs::exists(path)) {
      ++result.fields_reused;
      job.report(++done, total, "field " + std::to_string(i + 1) + " (done before)");
      continue;
    }
    job.report(done, total,
               "calibration: field " + std::to_string(i + 1) + "/" + std::to_string(s.fields));
    const auto field_start = std::chrono::steady_clock::now();
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
    const std::size_t index = calibration_index[std::size_t(i)];
    const Field2D field = dataset_field(*calibration_set, index);
    const std::string origin =
        (in.mocks ? s.mocks : "calibration mock") + " field " + std::to_string(index);
    const CalibrationField truth{
        index, {calibration_set->param(index, 0), calibration_set->param(index, 1)}};
    std::shared_ptr<const LogDensity> likelihood;
    switch (s.likelihood) {
      case LikelihoodKind::Vlb: {
        VlbSettings v;
        v.t_max = s.t_max;
        v.noise = VlbNoiseMode::Common;
        v.draws = s.vlb_draws;
        v.seed = mix_seed(s.seed, kVlbNoiseStream + index);
        likelihood = vlb_likelihood(*in.model, field, v, origin);
        break;
      }
      case LikelihoodKind::ExactGrf:
        likelihood = exact_grf_likelihood(field, origin, s.slab);
        break;
      case LikelihoodKind::PkBaseline: {
        if (!baseline) {
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
        likelihood = pk_baseline_likelihood(baseline, field, origin);
        break;
      }
      case LikelihoodKind::PointElbo:
        throw InvalidArgument("report: the elbo likelihood is for point-cloud models");
    }
    const PosteriorGrid grid = refine_posterior_grid(*likelihood, s.grid, cancel_only(job));
    Json fj;
    fj["field"] = i;
    fj["dataset_index"] = index;
    fj["truth"] = truth.truth;
    fj["likelihood"] = kLikelihoodKinds.name(s.likelihood);
    fj["posterior"] = posterior_json(truth, grid);
    if (in.grf && s.likelihood != LikelihoodKind::ExactGrf) {
      const auto exact = exact_grf_likelihood(field, origin, s.slab);
      fj["exact"] = posterior_json(truth, refine_posterior_grid(*exact, s.grid, cancel_only(job)));
    } else {
      fj["exact"] = Json();
    }
    fj["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - field_start).count();
    report_detail::write_json(path, fj);
    ++result.fields_computed;
    job.report(++done, total);
  }

  const ReportResult written =
      write_outputs(out_dir, settings, inputs, emulator_files, field_files);
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
  report_detail::write_json((dir / "timings.json").string(), timings);
  job.report(total, total, "done");
  return result;
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
