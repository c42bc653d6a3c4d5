// The report of a point-cloud (halo) model (report.h): at N validation cosmologies the kNN-CDFs,
// the 2PCF, the cumulative mass function and the pairwise velocity of generated catalogues
// against lognormal halo mocks (stats/halo_statistics.h: envelopes and the reduced chi^2 of each
// statistic next to the mocks' leave-one-out value), and the calibration of the model's ELBO over
// K mock catalogues with known truth (the field report's calibration block, report_field.cpp).
// Resumable and deterministic like the field report: one file per cosmology and per field.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "diffuscope/data/dataset.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/calibration.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/model/model.h"
#include "diffuscope/random.h"
#include "diffuscope/report/report.h"
#include "diffuscope/runtime.h"
#include "diffuscope/stats/halo_statistics.h"
#include "report_internal.h"

namespace fs = std::filesystem;

namespace ds {

using report_detail::Json;

namespace {

// Streams of the report's seed (report.cpp has the field report's; these differ from them).
constexpr std::uint64_t kHaloLhMocksStream = 111, kHaloCalibrationStream = 212,
                        kHaloLhModelStream = 5000, kHaloQueryStream = 9000;

struct PointInputs {
  std::shared_ptr<const Model> model;
  std::int64_t n = 0;  // halos per catalogue
  int features = 0;
  double box = 0.0;
  std::shared_ptr<Dataset> mocks;  // --mocks, when given
  std::string description;         // of the mocks, for report.md
};

PointInputs resolve_point_inputs(const ReportSettings& s) {
  PointInputs in;
  report_detail::check_counts(s, "catalogues");
  if (s.nuts)
    throw InvalidArgument(
        "report: --nuts is for field models here; a point-cloud model's calibration uses grid "
        "posteriors of its ELBO");
  if (s.elbo_steps < 1 || s.elbo_draws < 1)
    throw InvalidArgument("report: --elbo-steps and --draws must be >= 1");
  in.model = Model::load(s.model, s.device, s.ema);
  const ModelDescription& d = in.model->description();
  if (d.parameter_names.size() != 2)
    throw FileError(s.model, "the model takes " + std::to_string(d.parameter_names.size()) +
                                 " parameters; the report needs (Omega_m, sigma_8)");
  in.features = int(d.features.size());
  in.box = d.box_size > 0 ? d.box_size : 1000.0;
  in.n = d.points > 0 ? d.points : 1000;
  if (!s.mocks.empty()) {
    in.mocks = std::make_shared<Dataset>(read_dataset_hdf5(s.mocks));
    const Dataset& m = *in.mocks;
    if (m.kind != SampleKind::Points || m.shape.size() != 3)
      throw FileError(s.mocks,
                      "the report of a point-cloud model needs a Points dataset [M, N, F]");
    if (int(m.shape[2]) != in.features)
      throw FileError(s.mocks, "its catalogues have " + std::to_string(m.shape[2]) +
                                   " features but the model " + s.model + " has " +
                                   std::to_string(in.features));
    if (m.param_count() < 2)
      throw FileError(s.mocks, "the catalogues carry no (Omega_m, sigma_8) to validate against");
    if (s.fields > int(m.count()))
      throw FileError(s.mocks, "--fields " + std::to_string(s.fields) + " exceeds the " +
                                   std::to_string(m.count()) + " catalogues it holds");
    in.n = std::int64_t(m.shape[1]);
    if (m.box_size > 0) in.box = m.box_size;
    in.description = s.mocks;
  } else {
    if (d.mock_kind != "lognormal-halos")
      throw InvalidArgument("report: the model " + s.model +
                            " does not say it was trained on Diffuscope's lognormal halo mocks "
                            "(generator '" +
                            d.mock_kind + "'): give --mocks REF.h5 (a Points dataset)");
    if (in.features != 3 && in.features != 7)
      throw InvalidArgument("report: the model has " + std::to_string(in.features) +
                            " features; lognormal halo mocks have 3 or 7: give --mocks REF.h5");
    in.description = "built-in lognormal halo mocks, " + std::to_string(in.n) + " halos, " +
                     report_detail::fixed(in.box, 0) + " Mpc/h, mesh " +
                     std::to_string(s.halo_mesh) + "^3";
  }
  return in;
}

Dataset halo_mocks(const PointInputs& in, const ReportSettings& s, SetKind kind, int n_cosmo,
                   int per_cosmo, std::uint64_t seed, const JobContext& job) {
  HaloCatalogueSettings h;
  h.n_halos = int(in.n);
  h.box_size = in.box;
  h.mesh = s.halo_mesh;
  SetDesign d;
  d.kind = kind;
  d.n_cosmo = n_cosmo;
  d.per_cosmo = per_cosmo;
  d.seed = seed;
  return generate_halo_set(h, in.features == 7 ? HaloFeatures::All : HaloFeatures::Positions, d,
                           job);
}

Json envelope_json(const Envelope& e) {
  return Json{{"mean", e.mean}, {"lower", e.lower}, {"upper", e.upper}};
}

Json chi2_json(const EmulatorChi2& c) {
  return Json{{"reduced_chi2", c.chi2},        {"reduced_chi2_sd", c.chi2_sd},
              {"loo_reduced_chi2", c.loo},     {"loo_reduced_chi2_sd", c.loo_sd},
              {"generated_used", c.generated}, {"bins_used", c.bins_used}};
}

std::vector<double> centres(const std::vector<double>& edges) {
  std::vector<double> c;
  for (std::size_t i = 0; i + 1 < edges.size(); ++i)
    c.push_back(std::sqrt(edges[i] * edges[i + 1]));
  return c;
}

// One statistic of every catalogue, [catalogue][bin].
struct Sets {
  std::vector<SampleSet> knn;  // per k
  SampleSet knn_all;           // the CDFs of every k, concatenated (the chi^2 of the kNN-CDFs)
  SampleSet xi, n_greater, v12;
  void add(const HaloStatistics& m) {
    if (knn.empty()) knn.resize(m.knn.size());
    std::vector<double> all;
    for (std::size_t k = 0; k < m.knn.size(); ++k) {
      knn[k].push_back(m.knn[k]);
      all.insert(all.end(), m.knn[k].begin(), m.knn[k].end());
    }
    knn_all.push_back(all);
    xi.push_back(m.xi);
    if (!m.n_greater.empty()) n_greater.push_back(m.n_greater);
    if (!m.v12.empty()) v12.push_back(m.v12);
  }
};

// The block of one validation cosmology: `mocks` rows of the mock set, `generated` the model's
// catalogues [G, N, F].
Json halo_lh_block(const PointInputs& in, const ReportSettings& s, const std::vector<double>& theta,
                   const Dataset& mock_set, const std::vector<std::size_t>& members,
                   std::uint64_t seed, const JobContext& cancel) {
  const int threads = std::max(1, thread_count());
  HaloStatisticBins bins = halo_statistic_bins(in.n, in.box);
  bins.queries = s.halo_queries;
  bins.query_seed = mix_seed(seed, kHaloQueryStream);
  std::vector<HaloCatalogueColumns> mock_columns;
  for (std::size_t i : members)
    mock_columns.push_back(halo_catalogue_columns(
        mock_set.sample(i), std::int64_t(mock_set.shape[1]), in.features, in.box));
  std::vector<std::vector<double>> masses;
  for (const auto& c : mock_columns) masses.push_back(c.log10_mass);
  set_mass_edges(bins, masses);

  Sets mock, gen;
  for (const auto& c : mock_columns) mock.add(measure_halo_statistics(c, bins, threads, cancel));

  ModelSampleSettings sample;
  sample.sampler = s.cloud_sampler;
  sample.steps = s.cloud_steps;
  sample.seed = seed;
  sample.points = int(in.n);
  const ModelSamples generated = in.model->sample(theta, s.generated_per_cosmology, sample, cancel);
  const std::size_t per = std::size_t(in.n) * std::size_t(in.features);
  int finite = 0;
  for (int g = 0; g < s.generated_per_cosmology; ++g) {
    const float* rows = generated.data.sample(std::size_t(g));
    if (!std::all_of(rows, rows + per, [](float v) { return std::isfinite(v); })) continue;
    ++finite;
    gen.add(measure_halo_statistics(halo_catalogue_columns(rows, in.n, in.features, in.box), bins,
                                    threads, cancel));
  }

  Json b;
  b["theta"] = theta;
  b["mocks"] = members.size();
  b["generated"] = s.generated_per_cosmology;
  b["generated_finite"] = finite;
  b["sampler"] = generated.summary;
  Json knn;
  knn["k"] = bins.ks;
  knn["r"] = bins.radii;
  knn["mock"] = Json::array();
  knn["generated"] = Json::array();
  for (std::size_t k = 0; k < bins.ks.size(); ++k) {
    knn["mock"].push_back(envelope_json(ensemble_envelope(mock.knn[k])));
    knn["generated"].push_back(gen.knn.empty() ? Json()
                                               : envelope_json(ensemble_envelope(gen.knn[k])));
  }
  knn["chi2"] = chi2_json(emulator_chi2(gen.knn_all, mock.knn_all));
  b["knn"] = knn;
  auto block = [&](const std::vector<double>& x, const SampleSet& m, const SampleSet& g) {
    Json j;
    j["x"] = x;
    j["mock"] = envelope_json(finite_envelope(m));
    j["generated"] = g.empty() ? Json() : envelope_json(finite_envelope(g));
    j["chi2"] = chi2_json(emulator_chi2(g, m));
    return j;
  };
  b["xi"] = block(centres(bins.xi_edges), mock.xi, gen.xi);
  b["xi"]["edges"] = bins.xi_edges;
  if (!mock.n_greater.empty()) {
    b["hmf"] = block(std::vector<double>(bins.logm_edges.begin(), bins.logm_edges.end() - 1),
                     mock.n_greater, gen.n_greater);
    b["hmf"]["edges"] = bins.logm_edges;
  }
  if (!mock.v12.empty()) {
    b["v12"] = block(centres(bins.v12_edges), mock.v12, gen.v12);
    b["v12"]["edges"] = bins.v12_edges;
  }
  b["queries"] = bins.queries;
  return b;
}

}  // namespace

bool report_detail::is_point_report(const ReportSettings& s) {
  return !s.model.empty() && fs::exists(s.model) && model_modality(s.model) == Modality::PointCloud;
}

ReportResult report_detail::run_point_report(const ReportSettings& given,
                                             const std::string& out_dir, const JobContext& job) {
  const auto start = std::chrono::steady_clock::now();
  if (given.likelihood != LikelihoodKind::PointElbo && given.likelihood != LikelihoodKind::Vlb)
    throw InvalidArgument("report: " + given.model +
                          " is a point-cloud model: its likelihood is its ELBO (--likelihood "
                          "elbo); '" +
                          std::string(kLikelihoodKinds.name(given.likelihood)) +
                          "' is for 2D fields");
  ReportSettings s = given;
  s.likelihood = LikelihoodKind::PointElbo;  // the model's own bound
  // An ELBO is far sharper than the coarse scan's step and quadratic only near its peak: climb
  // to the maximum before the windows (posterior_grid.h).
  s.grid.climb = true;
  const PointInputs in = resolve_point_inputs(s);
  const Json settings = Json::parse(report_settings_json(s));
  const fs::path dir(out_dir);
  report_detail::prepare_report_folder(out_dir, settings);

  Json inputs;
  inputs["model"] = s.model;
  inputs["mocks"] = s.mocks.empty() ? Json() : Json(s.mocks);
  inputs["modality"] = "points";
  inputs["points"] = in.n;
  inputs["features"] = in.features;
  inputs["box_size"] = in.box;
  inputs["mocks_description"] = in.description;

  ReportResult result;
  const JobContext cancel({}, job.token());
  std::vector<std::string> emulator_files, field_files;
  std::vector<std::vector<double>> lh_thetas;
  std::vector<std::vector<std::size_t>> lh_members;
  if (s.emulator) {
    report_detail::validation_cosmologies(in.mocks.get(), s.mocks, "catalogues", "halos", s,
                                          mix_seed(s.seed, kHaloLhMocksStream), lh_thetas,
                                          lh_members);
    emulator_files =
        report_detail::numbered_files((dir / "emulator").string(), "halo-", lh_thetas.size());
  }
  field_files = report_detail::numbered_files((dir / "fields").string(), "", std::size_t(s.fields));
  report_detail::ReportProgress progress;
  progress.job = &job;
  progress.total = std::int64_t(emulator_files.size() + field_files.size());

  std::shared_ptr<Dataset> lh_set;
  report_detail::write_missing(
      emulator_files,
      [&](std::size_t c) {
        if (!in.mocks && !lh_set)
          lh_set = std::make_shared<Dataset>(
              halo_mocks(in, s, SetKind::LatinHypercube, s.cosmologies, s.mocks_per_cosmology,
                         mix_seed(s.seed, kHaloLhMocksStream), cancel));
        const Dataset& set = in.mocks ? *in.mocks : *lh_set;
        const Json block = halo_lh_block(in, s, lh_thetas[c], set, lh_members[c],
                                         mix_seed(s.seed, kHaloLhModelStream + c), cancel);
        Json tagged{{"block", "halo_lh"}, {"index", c}};
        for (auto it = block.begin(); it != block.end(); ++it) tagged[it.key()] = it.value();
        return tagged;
      },
      [&](std::size_t c) {
        return "emulator: cosmology " + std::to_string(c + 1) + "/" +
               std::to_string(lh_thetas.size());
      },
      progress, result.blocks_reused, result.blocks_computed);

  std::vector<std::size_t> calibration_index;
  if (in.mocks)
    calibration_index = choose_calibration_fields(in.mocks->count(), std::size_t(s.fields),
                                                  mix_seed(s.seed, kHaloCalibrationStream));
  else
    for (int i = 0; i < s.fields; ++i) calibration_index.push_back(std::size_t(i));
  std::shared_ptr<Dataset> calibration_set = in.mocks;
  report_detail::write_missing(
      field_files,
      [&](std::size_t i) {
        if (!calibration_set)
          calibration_set = std::make_shared<Dataset>(
              halo_mocks(in, s, SetKind::LatinHypercube, s.fields, 1,
                         mix_seed(s.seed, kHaloCalibrationStream), cancel));
        const std::size_t index = calibration_index[i];
        const std::size_t per = calibration_set->shape[1] * calibration_set->shape[2];
        ObservationData observation;
        observation.cloud = std::make_shared<const std::vector<float>>(
            calibration_set->sample(index), calibration_set->sample(index) + per);
        observation.n_points = std::int64_t(calibration_set->shape[1]);
        observation.features = int(calibration_set->shape[2]);
        observation.origin = (in.mocks ? s.mocks : std::string("calibration mock")) +
                             " catalogue " + std::to_string(index);
        LikelihoodSettings ls;
        ls.elbo_steps = s.elbo_steps;
        ls.draws = s.elbo_draws;
        ls.seed = report_detail::vlb_noise_seed(s.seed, index);
        report_detail::FieldRecordInput record;
        record.settings = &s;
        record.likelihood = in.model->likelihood(observation, ls);
        record.origin = observation.origin;
        record.field_number = i;
        record.dataset_index = index;
        record.truth = {calibration_set->param(index, 0), calibration_set->param(index, 1)};
        record.cancel = cancel;
        return report_detail::calibration_field_record(record);
      },
      [&](std::size_t i) {
        return "calibration: catalogue " + std::to_string(i + 1) + "/" + std::to_string(s.fields);
      },
      progress, result.fields_reused, result.fields_computed);

  report_detail::finish_report(out_dir, settings, inputs, emulator_files, field_files, start,
                               result);
  job.report(progress.total, progress.total, "done");
  return result;
}

}  // namespace ds

namespace ds {

using report_detail::FigureBuilder;
using report_detail::fixed;
using report_detail::num;
using report_detail::nums;

namespace {

struct StatisticName {
  const char* key;
  const char* title;  // for people
};
constexpr StatisticName kHaloStatistics[] = {{"knn", "kNN-CDF (k = 1, 5, 9)"},
                                             {"xi", "2PCF"},
                                             {"hmf", "cumulative mass function"},
                                             {"v12", "pairwise velocity v12"}};

std::string cosmology_label(const Json& b) {
  return "(" + report_detail::fixed(report_detail::num(b["theta"][0]), 3) + ", " +
         report_detail::fixed(report_detail::num(b["theta"][1]), 3) + ")";
}

}  // namespace

void report_detail::halo_emulator_section(const std::string& dir, const std::vector<Json>& blocks,
                                          Json& report, Json& figures,
                                          std::vector<std::string>& headlines) {
  Json e;
  e["cosmologies"] = blocks;
  e["statistics"] = Json::object();
  for (const auto& stat : kHaloStatistics) {
    if (!blocks[0].contains(stat.key)) continue;
    double chi2 = 0, loo = 0, worst = 0, worst_ratio = 0;
    for (const auto& b : blocks) {
      const Json& c = b[stat.key]["chi2"];
      const double g = num(c["reduced_chi2"]), l = num(c["loo_reduced_chi2"]);
      chi2 += g / double(blocks.size());
      loo += l / double(blocks.size());
      worst = std::max(worst, g);
      worst_ratio = std::max(worst_ratio, g / l);
    }
    e["statistics"][stat.key] = {{"title", stat.title},
                                 {"reduced_chi2_mean", chi2},
                                 {"loo_reduced_chi2_mean", loo},
                                 {"reduced_chi2_worst", worst},
                                 {"chi2_over_loo_worst", worst_ratio}};
    headlines.push_back("Emulator " + std::string(stat.title) +
                        ": reduced chi^2 of generated catalogues against the mocks, averaged "
                        "over " +
                        std::to_string(blocks.size()) + " validation cosmologies, is " +
                        fixed(chi2, 2) + " (the mocks' own leave-one-out value: " + fixed(loo, 2) +
                        "; worst cosmology " + fixed(worst, 2) + ", " + fixed(worst_ratio, 1) +
                        " times its leave-one-out value).");
  }
  report["emulator"] = e;

  std::vector<std::size_t> show{0};
  if (blocks.size() > 2) show.push_back(blocks.size() / 2);
  if (blocks.size() > 1) show.push_back(blocks.size() - 1);

  {  // kNN-CDFs
    FigureBuilder f("halo_knn", "kNN-CDFs of generated catalogues against mocks",
                    "Probability that a random point has at least k halos within r, for k = 1, "
                    "5, 9: the mocks' 16-84% band and mean (solid) and the generated catalogues' "
                    "mean (dashed), at three validation cosmologies (all are in report.json).");
    const std::string r = f.column("r", nums(blocks[0]["knn"]["r"]));
    for (std::size_t c : show) {
      const Json& b = blocks[c];
      f.panel(cosmology_label(b), "r [Mpc/h]", "CDF", true, false);
      f.legend("top_left");  // the CDFs rise to the right
      const auto ks = b["knn"]["k"];
      for (std::size_t k = 0; k < ks.size(); ++k) {
        const std::string tag = "c" + std::to_string(c) + "_k" + std::to_string(ks[k].get<int>());
        const Json& m = b["knn"]["mock"][k];
        const std::string label = "k = " + std::to_string(ks[k].get<int>());
        f.series("", "band", r, "", int(k), f.column(tag + "_mock_lower", nums(m["lower"])),
                 f.column(tag + "_mock_upper", nums(m["upper"])));
        f.series(label + " mocks", "line", r, f.column(tag + "_mock_mean", nums(m["mean"])),
                 int(k));
        const Json& g = b["knn"]["generated"][k];
        if (!g.is_null())
          f.series(label + " generated", "dashed", r,
                   f.column(tag + "_generated_mean", nums(g["mean"])), int(k));
      }
    }
    figures.push_back(f.finish(dir));
  }

  struct Curve {
    const char* key;
    const char* name;
    const char* title;
    const char* caption;
    const char* x_label;
    const char* y_label;
    bool log_x, log_y;
    const char* legend;  // the corner the curves leave free
  };
  const Curve curves[] = {
      {"xi", "halo_xi", "Two-point correlation function",
       "xi(r) of the mocks (16-84% band and mean, solid) and of the generated catalogues (mean, "
       "dashed), one colour per validation cosmology.",
       "r [Mpc/h]", "xi(r)", true, false, "top_right"},
      {"hmf", "halo_hmf", "Cumulative mass function",
       "Number density of halos above M: mocks (band and mean, solid) and generated catalogues "
       "(dashed).",
       "log10 M [Msun/h]", "n(>M) [(Mpc/h)^-3]", false, true, "top_right"},
      {"v12", "halo_v12", "Mean pairwise radial velocity",
       "v12(r), the mean radial velocity of halo pairs (negative: approaching): mocks (band and "
       "mean, solid) and generated catalogues (dashed).",
       "r [Mpc/h]", "v12 [km/s]", true, false, "bottom_right"}};
  for (const Curve& cv : curves) {
    if (!blocks[0].contains(cv.key)) continue;
    FigureBuilder f(cv.name, cv.title, cv.caption);
    f.panel("", cv.x_label, cv.y_label, cv.log_x, cv.log_y);
    f.legend(cv.legend);
    for (std::size_t c : show) {
      const Json& b = blocks[c][cv.key];
      const std::string tag = "c" + std::to_string(c);
      const std::string x = f.column(tag + "_x", nums(b["x"]));
      f.series("", "band", x, "", int(c), f.column(tag + "_mock_lower", nums(b["mock"]["lower"])),
               f.column(tag + "_mock_upper", nums(b["mock"]["upper"])));
      f.series("mocks " + cosmology_label(blocks[c]), "line", x,
               f.column(tag + "_mock_mean", nums(b["mock"]["mean"])), int(c));
      if (!b["generated"].is_null())
        f.series("generated", "dashed", x,
                 f.column(tag + "_generated_mean", nums(b["generated"]["mean"])), int(c));
    }
    figures.push_back(f.finish(dir));
  }

  FigureBuilder ch("halo_chi2", "Reduced chi^2 per validation cosmology",
                   "Diagonal reduced chi^2 (Diffusion-HMC eq. 10) of each statistic of the "
                   "generated catalogues against the mocks (mean and sd over catalogues), next to "
                   "each mock against the others (leave-one-out): a faithful emulator matches "
                   "the second.");
  std::vector<double> index, shifted, om, s8;
  for (std::size_t c = 0; c < blocks.size(); ++c) {
    index.push_back(double(c));
    shifted.push_back(double(c) + 0.15);
    om.push_back(num(blocks[c]["theta"][0]));
    s8.push_back(num(blocks[c]["theta"][1]));
  }
  const std::string ix = ch.column("cosmology", index),
                    ixs = ch.column("cosmology_shifted", shifted);
  ch.column("omega_m", om);
  ch.column("sigma_8", s8);
  for (const auto& stat : kHaloStatistics) {
    if (!blocks[0].contains(stat.key)) continue;
    std::vector<double> g, glo, ghi, l, llo, lhi;
    for (const auto& b : blocks) {
      const Json& c = b[stat.key]["chi2"];
      const double gv = num(c["reduced_chi2"]), gs = num(c["reduced_chi2_sd"]);
      const double lv = num(c["loo_reduced_chi2"]), ls = num(c["loo_reduced_chi2_sd"]);
      g.push_back(gv), glo.push_back(gv - gs), ghi.push_back(gv + gs);
      l.push_back(lv), llo.push_back(lv - ls), lhi.push_back(lv + ls);
    }
    const std::string k = stat.key;
    ch.panel(stat.title, "validation cosmology", "reduced chi^2", false, true);
    ch.series("generated", "errorbars", ix, ch.column(k + "_chi2", g), 0,
              ch.column(k + "_chi2_lo", glo), ch.column(k + "_chi2_hi", ghi));
    ch.series("mocks (leave-one-out)", "errorbars", ixs, ch.column(k + "_loo", l), 1,
              ch.column(k + "_loo_lo", llo), ch.column(k + "_loo_hi", lhi));
  }
  figures.push_back(ch.finish(dir));
}

std::string report_detail::halo_emulator_markdown(const Json& e) {
  std::string md =
      "\n## Emulator\n\nReduced chi^2 of the generated catalogues (mean +- sd over "
      "catalogues) and, in brackets, of each mock against the others.\n\n"
      "| Omega_m | sigma_8 |";
  std::string rule = "|---|---|";
  std::vector<std::string> keys;
  for (const auto& stat : kHaloStatistics)
    if (e["statistics"].contains(stat.key)) {
      keys.push_back(stat.key);
      md += std::string(" ") + stat.title + " |";
      rule += "---|";
    }
  md += "\n" + rule + "\n";
  for (const auto& b : e["cosmologies"]) {
    md += "| " + fixed(num(b["theta"][0]), 3) + " | " + fixed(num(b["theta"][1]), 3) + " |";
    for (const auto& k : keys) {
      const Json& c = b[k]["chi2"];
      md += " " + fixed(num(c["reduced_chi2"]), 2) + " +- " + fixed(num(c["reduced_chi2_sd"]), 2) +
            " (" + fixed(num(c["loo_reduced_chi2"]), 2) + ") |";
    }
    md += "\n";
  }
  return md;
}

}  // namespace ds
