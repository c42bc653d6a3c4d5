// The validation report end to end (core/report/report.h): with the exact GRF likelihood as the
// "model" likelihood the calibration is nominal within its binomial error (the answer known in
// advance); the coverage and mean |z| of report.json recomputed from the stored per-field
// intervals; a cancelled report resumes to the same report.json; a tiny diffusion model (the
// dhmc_tiny checkpoint) through every block; bad inputs named; one field of a file (the batch task
// report-calibration) gives the report's record for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../test_helpers.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/report/report.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::string kTinyModel = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/checkpoint_tiny.pt";

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> csv_header(const std::string& path) {
  std::ifstream in(path);
  std::string line, cell;
  std::getline(in, line);
  std::vector<std::string> names;
  std::stringstream row(line);
  while (std::getline(row, cell, ',')) names.push_back(cell);
  return names;
}

ds::ReportSettings exact_grf_settings(int fields) {
  ds::ReportSettings s;
  s.likelihood = ds::LikelihoodKind::ExactGrf;
  s.mock_kind = "grf";
  s.resolution = 32;
  // A 1000 Mpc/h box, as tests/core/infer/baselines/test_calibration.cpp: there the exact
  // likelihood is nominal over 400 fields (seed 17: coverage 0.695 / 0.688 at 68%, 0.965 / 0.958 at
  // 95%, mean |z| 0.806 / 0.805, sd of z 1.005 / 1.011; 399 of 400 grids resolved). In a 25 Mpc/h
  // box the same likelihood over-covers (0.79 / 0.76 at 68%, 0.985 / 0.978 at 95%, sd of z 0.92 /
  // 0.93 over 400 fields, seed 17; a rank histogram thin at both ends): the GRF mocks of small
  // boxes are not exactly the model the likelihood assumes (an open question, not the report's).
  s.box_size = 1000.0;
  s.fields = fields;
  s.seed = 17;
  return s;
}

TEST(Report, ExactGrfLikelihoodIsCalibratedWithinItsBinomialError) {
  const fs::path dir = dstest::scratch_dir("report-exact");
  const int K = 100;
  const ds::ReportResult r = ds::run_report(exact_grf_settings(K), dir.string());
  EXPECT_EQ(r.fields_computed, std::size_t(K));
  const Json report = read_json(dir / "report.json");
  const Json& summary = report["calibration"]["summary"];
  ASSERT_EQ(summary.size(), 2u);
  for (const auto& s : summary) {
    const double c68 = s["coverage_68"], c95 = s["coverage_95"];
    const double se68 = std::sqrt(0.68 * 0.32 / K), se95 = std::sqrt(0.95 * 0.05 / K);
    std::printf("%s: coverage 68%% %.3f (+- %.3f), 95%% %.3f (+- %.3f), mean |z| %.3f, sd z %.3f\n",
                s["name"].get<std::string>().c_str(), c68, se68, c95, se95,
                s["mean_abs_z"].get<double>(), s["z_sd"].get<double>());
    EXPECT_NEAR(c68, 0.68, 2.5 * se68) << s["name"];
    EXPECT_NEAR(c95, 0.95, 2.5 * se95) << s["name"];
    // A calibrated posterior: mean |z| ~ 0.80 (Gaussian), sd of z ~ 1.
    EXPECT_NEAR(s["mean_abs_z"].get<double>(), 0.8, 0.2) << s["name"];
    EXPECT_NEAR(s["z_sd"].get<double>(), 1.0, 0.25) << s["name"];
    // Expected-coverage curve near the diagonal at every level.
    const auto levels = s["expected_coverage"]["levels"].get<std::vector<double>>();
    const auto coverage = s["expected_coverage"]["coverage"].get<std::vector<double>>();
    for (std::size_t i = 0; i < levels.size(); ++i)
      EXPECT_NEAR(coverage[i], levels[i], 3.0 * std::sqrt(levels[i] * (1 - levels[i]) / K) + 1e-9)
          << s["name"] << " level " << levels[i];
  }
  // Most posteriors are resolved by their grid (the rest fill the prior box on an 11-point
  // grid), and nothing was compared with itself.
  int resolved = 0;
  for (const auto& f : report["calibration"]["fields"]) {
    resolved += f["posterior"]["resolved"].get<bool>();
    EXPECT_TRUE(f["exact"].is_null());
  }
  std::printf("%d of %d posteriors resolved\n", resolved, K);
  EXPECT_GE(resolved, 8 * K / 10);
  EXPECT_FALSE(report.contains("emulator"));  // no model: calibration only
}

TEST(Report, CoverageAndZOfTheReportFollowFromItsPerFieldIntervals) {
  const fs::path dir = dstest::scratch_dir("report-recompute");
  const int K = 12;
  ds::run_report(exact_grf_settings(K), dir.string());
  const Json report = read_json(dir / "report.json");
  const Json& fields = report["calibration"]["fields"];
  ASSERT_EQ(fields.size(), std::size_t(K));
  for (std::size_t p = 0; p < 2; ++p) {
    int in68 = 0, in95 = 0;
    double abs_z = 0.0;
    std::vector<double> ranks;
    for (const auto& f : fields) {
      const Json& q = f["posterior"]["parameters"][p];
      const double truth = q["truth"], mean = q["mean"], sd = q["sd"];
      const double lo68 = q["inner"][0], hi68 = q["inner"][1];
      const double lo95 = q["outer"][0], hi95 = q["outer"][1];
      EXPECT_DOUBLE_EQ(truth, f["truth"][p].get<double>());
      in68 += truth >= lo68 && truth <= hi68;
      in95 += truth >= lo95 && truth <= hi95;
      abs_z += std::abs((mean - truth) / sd);
      ranks.push_back(q["rank"]);
      // The stored marginal reproduces mean and sd.
      const auto w = q["marginal"].get<std::vector<double>>();
      const auto axis =
          f["posterior"]["grid"][p == 0 ? "omega_m" : "sigma_8"].get<std::vector<double>>();
      double m = 0, v = 0;
      for (std::size_t j = 0; j < w.size(); ++j) m += w[j] * axis[j];
      for (std::size_t j = 0; j < w.size(); ++j) v += w[j] * (axis[j] - m) * (axis[j] - m);
      EXPECT_NEAR(m, mean, 1e-12);
      EXPECT_NEAR(std::sqrt(v), sd, 1e-12);
    }
    const Json& s = report["calibration"]["summary"][p];
    EXPECT_DOUBLE_EQ(s["coverage_68"].get<double>(), double(in68) / K);
    EXPECT_DOUBLE_EQ(s["coverage_95"].get<double>(), double(in95) / K);
    EXPECT_NEAR(s["coverage_68_se"].get<double>(),
                std::sqrt(double(in68) / K * (1 - double(in68) / K) / K), 1e-15);
    EXPECT_NEAR(s["mean_abs_z"].get<double>(), abs_z / K, 1e-12);
    // The expected-coverage figure's CSV holds the curve of the JSON, recomputed from the ranks.
    const std::string csv_path = (dir / "csv" / "calibration_coverage.csv").string();
    const auto columns = dstest::read_csv_columns(csv_path);
    const std::vector<std::string> header = csv_header(csv_path);
    const auto levels = s["expected_coverage"]["levels"].get<std::vector<double>>();
    const auto where =
        std::find(header.begin(), header.end(), s["name"].get<std::string>() + "_coverage");
    ASSERT_NE(where, header.end());
    const std::vector<double>& csv = columns[std::size_t(where - header.begin())];
    ASSERT_EQ(csv.size(), levels.size());
    for (std::size_t i = 0; i < levels.size(); ++i) {
      int inside = 0;
      for (double u : ranks) inside += std::abs(2 * u - 1) <= levels[i];
      EXPECT_DOUBLE_EQ(csv[i], double(inside) / K) << "level " << levels[i];
    }
  }
  // The figure list names the CSV of each figure, and the Markdown embeds each one.
  const std::string md = read_text(dir / "report.md");
  for (const auto& f : report["figures"]) {
    EXPECT_TRUE(fs::exists(dir / f["csv"].get<std::string>())) << f["csv"];
    EXPECT_NE(md.find(f["png"].get<std::string>()), std::string::npos) << f["png"];
  }
  EXPECT_NE(md.find("68% intervals cover the truth"), std::string::npos);
}

// NUTS on request: each record's posterior from the draws (method "nuts", converged chains), close
// to the grid posterior kept beside it; the summary follows from the records' NUTS intervals; the
// sampler settings are part of the report's settings (a rerun without --nuts is refused).
TEST(Report, NutsOnRequestGivesTheRecordsPosteriorFromConvergedDraws) {
  const fs::path dir = dstest::scratch_dir("report-nuts");
  const int K = 5;
  ds::ReportSettings settings = exact_grf_settings(K);
  settings.nuts = true;
  settings.nuts_chains = 2;
  settings.nuts_warmup = 150;
  settings.nuts_draws = 250;
  ds::run_report(settings, dir.string());
  const Json report = read_json(dir / "report.json");
  const Json& fields = report["calibration"]["fields"];
  ASSERT_EQ(fields.size(), std::size_t(K));
  for (std::size_t p = 0; p < 2; ++p) {
    int in68 = 0, in95 = 0;
    for (const auto& f : fields) {
      const Json& post = f["posterior"];
      ASSERT_EQ(post["method"], "nuts");
      EXPECT_EQ(post["chains"], 2);
      EXPECT_EQ(post["draws"], 250);
      const Json& q = post["parameters"][p];
      const Json& g = f["grid_posterior"]["parameters"][p];
      const double truth = q["truth"], mean = q["mean"], sd = q["sd"], ess = q["ess_bulk"];
      EXPECT_LT(q["r_hat"].get<double>(), 1.05) << f["field"];
      EXPECT_GT(ess, 50.0) << f["field"];
      // The same posterior as the grid's, within Monte Carlo error and a little discretisation.
      EXPECT_NEAR(mean, g["mean"].get<double>(), 5.0 * sd / std::sqrt(ess) + 0.1 * sd)
          << "field " << f["field"] << " parameter " << p;
      EXPECT_NEAR(sd, g["sd"].get<double>(), 0.25 * g["sd"].get<double>())
          << "field " << f["field"] << " parameter " << p;
      const double rank = q["rank"];
      EXPECT_TRUE(rank >= 0.0 && rank <= 1.0);
      EXPECT_NEAR(q["z"].get<double>(), (mean - truth) / sd, 1e-12);
      in68 += truth >= q["inner"][0].get<double>() && truth <= q["inner"][1].get<double>();
      in95 += truth >= q["outer"][0].get<double>() && truth <= q["outer"][1].get<double>();
    }
    const Json& s = report["calibration"]["summary"][p];
    EXPECT_DOUBLE_EQ(s["coverage_68"].get<double>(), double(in68) / K);
    EXPECT_DOUBLE_EQ(s["coverage_95"].get<double>(), double(in95) / K);
  }
  EXPECT_EQ(read_json(dir / "settings.json")["nuts"]["warmup"], 150);
  settings.nuts = false;
  try {
    ds::run_report(settings, dir.string());
    ADD_FAILURE() << "a report folder made with NUTS was reused without it";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("nuts"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Report, ACancelledReportResumesToTheSameResult) {
  const fs::path whole = dstest::scratch_dir("report-whole");
  const fs::path resumed = dstest::scratch_dir("report-resumed");
  ds::ReportSettings s = exact_grf_settings(8);
  ds::run_report(s, whole.string());

  // Cancel after the third field has been written.
  ds::CancellationToken token;
  const ds::JobContext job(
      [&](const ds::Progress& p) {
        if (p.done >= 3 && p.message.empty()) token.request();
      },
      token);
  EXPECT_THROW(ds::run_report(s, resumed.string(), job), ds::Cancelled);
  EXPECT_FALSE(fs::exists(resumed / "report.json"));
  std::size_t written = 0;
  for (const auto& e : fs::directory_iterator(resumed / "fields"))
    written += e.path().extension() == ".json";
  EXPECT_EQ(written, 3u);

  const ds::ReportResult r = ds::run_report(s, resumed.string());
  EXPECT_EQ(r.fields_reused, 3u);
  EXPECT_EQ(r.fields_computed, 5u);
  EXPECT_TRUE(read_text(whole / "report.json") == read_text(resumed / "report.json"));

  // Other settings in the same folder are refused, naming the setting.
  s.fields = 9;
  try {
    ds::run_report(s, resumed.string());
    FAIL() << "expected a FileError";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("'fields'"), std::string::npos) << e.what();
  }
}

TEST(Report, TinyModelRunsEveryBlock) {
  const fs::path dir = dstest::scratch_dir("report-model");
  ds::ReportSettings s;
  s.model = kTinyModel;
  s.mock_kind = "zeldovich";
  s.resolution = 16;
  s.cosmologies = 2;
  s.mocks_per_cosmology = 4;
  s.generated_per_cosmology = 3;
  s.one_p_values = 3;
  s.one_p_seeds = 2;
  s.cv_mocks = 6;
  s.cv_generated = 6;
  s.cv_bins = 5;
  s.sampler.steps = 3;
  s.fields = 2;
  s.t_max = 2;
  s.grid.coarse_points = 3;
  s.grid.window_points = 5;
  s.grid.max_levels = 1;
  s.seed = 3;
  const ds::ReportResult r = ds::run_report(s, dir.string());
  EXPECT_EQ(r.blocks_computed, 4u);  // 2 LH cosmologies, 1P, CV
  const Json report = read_json(dir / "report.json");
  ASSERT_EQ(report["emulator"]["cosmologies"].size(), 2u);
  for (const auto& c : report["emulator"]["cosmologies"]) {
    // The ratio of the figure is the ratio of the stored means.
    const auto g = c["generated_pk"]["mean"].get<std::vector<double>>();
    const auto m = c["mock_pk"]["mean"].get<std::vector<double>>();
    const auto ratio = c["ratio"].get<std::vector<double>>();
    ASSERT_EQ(g.size(), ratio.size());
    for (std::size_t b = 0; b < g.size(); ++b) EXPECT_NEAR(ratio[b], g[b] / m[b], 1e-12 * ratio[b]);
    EXPECT_GT(c["loo_reduced_chi2"].get<double>(), 0.0);
  }
  EXPECT_EQ(report["one_p"]["parameters"].size(), 2u);
  // The fiducial's ratio to itself is 1 in every bin, for the mocks and the model.
  for (const auto& p : report["one_p"]["parameters"])
    for (double v : p["curves"][1]["mock_ratio"]["mean"].get<std::vector<double>>())
      EXPECT_DOUBLE_EQ(v, 1.0);
  EXPECT_TRUE(report["cv"].contains("mock_correlation"));
  EXPECT_EQ(report["calibration"]["fields"].size(), 2u);
  std::vector<std::string> names;
  for (const auto& f : report["figures"]) names.push_back(f["name"]);
  for (const char* expected : {"emulator_pk", "emulator_chi2", "density_histogram", "one_p",
                               "calibration_coverage", "calibration_rank", "calibration_bias"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  EXPECT_EQ(r.figures.size(), names.size());

  // Same seed, new folder: the same numbers (determinism).
  const fs::path again = dstest::scratch_dir("report-model-again");
  ds::run_report(s, again.string());
  EXPECT_TRUE(read_text(dir / "report.json") == read_text(again / "report.json"));
}

TEST(Report, GrfMocksCompareTheCalibratedPosteriorWithTheExactOne) {
  // The P(k) baseline on GRF mocks: each field's posterior against the exact GRF posterior. The
  // baseline discards the phases and bins the modes, so on average it is at least about as wide
  // as the exact posterior (1.29 / 1.24 times in the README's calibrate run; 1.10 / 1.19 here,
  // one prior-truncated field at 0.58).
  const fs::path dir = dstest::scratch_dir("report-pk");
  ds::ReportSettings s = exact_grf_settings(6);
  s.likelihood = ds::LikelihoodKind::PkBaseline;
  s.pk_cosmologies = 30;
  s.pk_per_cosmology = 2;
  s.pk_covariance_mocks = 60;
  ds::run_report(s, dir.string());
  EXPECT_TRUE(fs::exists(dir / "pk_baseline.json"));
  const Json report = read_json(dir / "report.json");
  EXPECT_TRUE(report["calibration"]["exact_comparison"].get<bool>());
  for (const auto& f : report["calibration"]["fields"]) {
    ASSERT_FALSE(f["exact"].is_null());
    for (std::size_t p = 0; p < 2; ++p) {
      const double sd = f["posterior"]["parameters"][p]["sd"],
                   exact = f["exact"]["parameters"][p]["sd"];
      EXPECT_GT(sd / exact, 0.3) << "field " << f["field"] << " parameter " << p;
    }
  }
  for (const auto& s : report["calibration"]["summary"]) {
    std::printf("%s: width ratio %.2f +- %.2f, shift %.2f +- %.2f, overlap %.2f\n",
                s["name"].get<std::string>().c_str(), s["exact_width_ratio_mean"].get<double>(),
                s["exact_width_ratio_sd"].get<double>(), s["exact_shift_mean"].get<double>(),
                s["exact_shift_sd"].get<double>(), s["exact_overlap_68_mean"].get<double>());
    EXPECT_GT(s["exact_width_ratio_mean"].get<double>(), 0.9) << s["name"];
    const double overlap = s["exact_overlap_68_mean"];
    EXPECT_GT(overlap, 0.0);
    EXPECT_LE(overlap, 1.0);
  }
  bool figure = false;
  for (const auto& f : report["figures"]) figure = figure || f["name"] == "exact_comparison";
  EXPECT_TRUE(figure);
}

TEST(Report, BadInputsAreNamed) {
  const fs::path dir = dstest::scratch_dir("report-bad");
  auto message = [&](const ds::ReportSettings& s) -> std::string {
    try {
      ds::run_report(s, (dir / "out").string());
    } catch (const ds::Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  ds::ReportSettings s = exact_grf_settings(1);
  EXPECT_NE(message(s).find("K >= 2"), std::string::npos) << message(s);
  s = exact_grf_settings(4);
  s.likelihood = ds::LikelihoodKind::Vlb;
  EXPECT_NE(message(s).find("--model"), std::string::npos) << message(s);
  s = exact_grf_settings(4);
  s.mock_kind = "zeldovich";
  EXPECT_NE(message(s).find("exact-grf needs GRF mocks"), std::string::npos) << message(s);
  s = exact_grf_settings(4);
  s.model = (dir / "missing.h5").string();
  EXPECT_NE(message(s).find("missing.h5: no such model file"), std::string::npos) << message(s);

  // Mocks whose fields the model cannot take (18 is no multiple of its downsampling 4).
  ds::MockFieldSettings m;
  m.kind = ds::MockFieldKind::Zeldovich;
  m.n = 18;
  ds::SetDesign d;
  d.kind = ds::SetKind::LatinHypercube;
  d.n_cosmo = 4;
  const ds::Dataset set = ds::generate_field_set(m, d);
  const std::string mocks = (dir / "mocks18.h5").string();
  ds::write_dataset_hdf5(mocks, set);
  s = ds::ReportSettings();
  s.model = kTinyModel;
  s.mocks = mocks;
  s.fields = 3;
  const std::string e = message(s);
  EXPECT_NE(e.find("mocks18.h5: its fields do not fit the model"), std::string::npos) << e;
  s.fields = 10;
  EXPECT_NE(message(s).find("--fields 10 exceeds the 4 fields"), std::string::npos) << message(s);
  EXPECT_FALSE(fs::exists(dir / "out" / "report.json"));
}

}  // namespace

// The batch task report-calibration (issue 19): run_report_field on one field of a file gives the
// record run_report wrote for that field (the same posterior and exact comparison, bit for bit,
// for the same seed), and write_calibration_report of the records gives the report's calibration.
TEST(Report, OneFieldOfAFileGivesTheReportsRecordAndTheRecordsItsCalibration) {
  const fs::path dir = dstest::scratch_dir("report-per-field");
  ds::MockFieldSettings mock;
  mock.kind = ds::MockFieldKind::Lognormal;  // positive: the tiny model's log10 transform
  mock.n = 16;
  mock.box_size = 25.0;
  ds::SetDesign design;
  design.n_cosmo = 3;
  design.seed = 4;
  const std::string mocks = (dir / "mocks.h5").string();
  ds::write_dataset_hdf5(mocks, ds::generate_field_set(mock, design));
  ASSERT_EQ(ds::read_dataset_hdf5(mocks).generator, "lognormal");

  ds::ReportSettings s;
  s.model = kTinyModel;
  s.mocks = mocks;
  s.emulator = false;
  s.fields = 3;
  s.t_max = 2;
  s.grid.coarse_points = 3;
  s.grid.window_points = 5;
  s.grid.max_levels = 1;
  s.seed = 6;
  const fs::path whole = dir / "report";
  ds::run_report(s, whole.string());
  const Json report = read_json(whole / "report.json");
  ASSERT_EQ(report["calibration"]["fields"].size(), 3u);

  std::vector<std::string> records;
  for (int i = 0; i < 3; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%03d.json", i);
    const Json in_report = read_json(whole / "fields" / name);
    ds::ReportFieldRequest request;
    request.fields_file = mocks;
    request.index = in_report["dataset_index"].get<std::size_t>();
    records.push_back((dir / ("field-" + std::to_string(i) + ".json")).string());
    const ds::ReportFieldResult r = ds::run_report_field(s, request, records.back());
    const Json alone = read_json(records.back());
    EXPECT_EQ(alone["posterior"], in_report["posterior"]) << "field " << request.index;
    EXPECT_EQ(alone["truth"], in_report["truth"]);
    EXPECT_EQ(alone["settings"], in_report["settings"]);
    EXPECT_TRUE(alone["exact"].is_null()) << "no exact posterior for a lognormal field";
    EXPECT_TRUE(in_report["exact"].is_null());
    EXPECT_TRUE(r.has_truth);
    EXPECT_FALSE(r.exact);
    EXPECT_EQ(r.mean[0], in_report["posterior"]["parameters"][0]["mean"].get<double>());
    EXPECT_EQ(r.truth[1], in_report["truth"][1].get<double>());
  }
  const fs::path merged = dir / "merged";
  ds::write_calibration_report(records, merged.string(), "the three mocks", 6);
  const Json again = read_json(merged / "report.json");
  EXPECT_EQ(again["calibration"]["summary"], report["calibration"]["summary"]);
  EXPECT_EQ(again["calibration"]["exact_comparison"], false);
  EXPECT_EQ(again["settings"]["likelihood"], "vlb");

  // Refusals: records of other settings, a record without truth, a plain .npy not said physical,
  // the vlb likelihood without a model.
  {
    Json other = read_json(records[1]);
    other["settings"]["t_max"] = 3;
    std::ofstream(records[1]) << other.dump();
    try {
      ds::write_calibration_report(records, (dir / "bad").string(), "x", 6);
      FAIL() << "merged records of other settings";
    } catch (const ds::FileError& e) {
      EXPECT_NE(std::string(e.what()).find("field-1.json: was computed with other settings"),
                std::string::npos)
          << e.what();
    }
  }
  ds::ReportSettings no_model = s;
  no_model.model.clear();
  ds::ReportFieldRequest request;
  request.fields_file = mocks;
  try {
    ds::run_report_field(no_model, request, (dir / "x.json").string());
    FAIL() << "ran the vlb likelihood without a model";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("--model M is required"), std::string::npos);
  }
  const std::string npy = (dir / "plain.npy").string();
  {
    const ds::Dataset d = ds::read_dataset_hdf5(mocks);
    ds::write_npy(npy, {16, 16}, std::vector<double>(d.sample(0), d.sample(0) + 16 * 16));
  }
  request.fields_file = npy;
  try {
    ds::run_report_field(s, request, (dir / "x.json").string());
    FAIL() << "scored a plain .npy as physical";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("give --physical"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "x.json"));
}
