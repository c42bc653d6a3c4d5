// The report of a point-cloud (halo) model (report.h, report_points.cpp), end to end on a tiny
// model trained for two steps on tiny lognormal halo catalogues: every statistic and figure is
// there; the mocks' 2PCF, mass function and leave-one-out chi^2 in report.json are recomputed here
// from the catalogues with the statistics functions themselves; the calibration summary follows
// from the per-catalogue intervals; a cancelled report resumes to the same report.json; bad inputs
// are named.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../test_helpers.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/report/report.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/hmf.h"
#include "diffuscope/stats/two_point.h"
#include "diffuscope/train/point_trainer.h"
#include "diffuscope/train/trainer.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr int kHalos = 64;

ds::Dataset halo_set(int cosmologies, int per_cosmo, std::uint64_t seed) {
  ds::HaloCatalogueSettings h;
  h.n_halos = kHalos;
  h.mesh = 16;
  ds::SetDesign d;
  d.n_cosmo = cosmologies;
  d.per_cosmo = per_cosmo;
  d.seed = seed;
  return ds::generate_halo_set(h, ds::HaloFeatures::All, d);
}

// A point model trained for 2 steps on lognormal halo catalogues (it records their generator,
// so the report can make its own mocks).
const std::string& tiny_halo_model() {
  static const fs::path dir = dstest::scratch_dir("point-report-model");
  static const std::string path = [] {
    ds::TrainRequest request;
    request.data = std::make_shared<ds::Dataset>(halo_set(6, 1, 2));
    request.config = ds::TrainConfig::from_json(R"({"modality": "points",
        "network": {"k": 6, "hidden": 16, "mlp_layers": 1, "latent": 8, "message_passing": 1,
                    "time_embedding": 8, "theta_embedding": 4, "cond_mlp": [8, 8]},
        "batch_size": 2, "steps": 2, "warmup": 1, "validate_every": 0, "log_every": 10,
        "validation_fraction": 0})");
    request.out_path = (dir / "tiny_halos.h5").string();
    ds::train_point_model(request);
    return request.out_path;
  }();
  return path;
}

ds::ReportSettings tiny_settings() {
  ds::ReportSettings s;
  s.model = tiny_halo_model();
  s.cosmologies = 2;
  s.mocks_per_cosmology = 4;
  s.generated_per_cosmology = 3;
  s.fields = 4;
  s.elbo_steps = 2;
  s.elbo_draws = 1;
  s.grid.coarse_points = 3;
  s.grid.window_points = 5;
  s.grid.max_levels = 1;
  s.cloud_steps = 4;
  s.halo_mesh = 16;
  s.halo_queries = 400;
  s.seed = 3;
  return s;
}

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

std::vector<double> doubles(const Json& j) {
  std::vector<double> v;
  for (const auto& x : j) v.push_back(x.is_null() ? NAN : x.get<double>());
  return v;
}

}  // namespace

TEST(PointReport, TinyHaloModelGivesEveryStatisticAndItsNumbersFollowFromTheCatalogues) {
  const fs::path dir = dstest::scratch_dir("point-report");
  const std::string mocks_path = (dir / "mocks.h5").string();
  const ds::Dataset mocks = halo_set(2, 4, 11);
  ds::write_dataset_hdf5(mocks_path, mocks);
  ds::ReportSettings s = tiny_settings();
  s.mocks = mocks_path;
  const fs::path out = dir / "report";
  const ds::ReportResult r = ds::run_report(s, out.string());
  EXPECT_EQ(r.blocks_computed, 2u);
  EXPECT_EQ(r.fields_computed, 4u);

  const Json report = read_json(out / "report.json");
  EXPECT_EQ(report["inputs"]["modality"], "points");
  EXPECT_EQ(report["settings"]["likelihood"], "elbo");
  EXPECT_EQ(report["settings"]["elbo"]["steps"], 2);
  const Json& e = report["emulator"];
  ASSERT_EQ(e["cosmologies"].size(), 2u);
  for (const char* key : {"knn", "xi", "hmf", "v12"}) {
    ASSERT_TRUE(e["statistics"].contains(key)) << key;
    EXPECT_TRUE(std::isfinite(e["statistics"][key]["loo_reduced_chi2_mean"].get<double>())) << key;
  }
  std::vector<std::string> figures;
  for (const auto& f : report["figures"]) figures.push_back(f["name"]);
  for (const char* name : {"halo_knn", "halo_xi", "halo_hmf", "halo_v12", "halo_chi2",
                           "calibration_coverage", "calibration_rank", "calibration_bias"}) {
    EXPECT_NE(std::find(figures.begin(), figures.end(), name), figures.end()) << name;
    EXPECT_TRUE(fs::exists(out / "csv" / (std::string(name) + ".csv"))) << name;
  }
  const std::string md = read_text(out / "report.md");
  EXPECT_NE(md.find("kNN-CDF (k = 1, 5, 9)"), std::string::npos);
  EXPECT_NE(md.find("pairwise velocity"), std::string::npos);

  // The first cosmology's mocks, recomputed from the catalogues of the file.
  const Json& block = e["cosmologies"][0];
  const auto groups = ds::group_by_parameters(mocks, 2);
  const auto& [theta, members] = *groups.begin();
  EXPECT_NEAR(block["theta"][0].get<double>(), theta[0], 1e-12);
  EXPECT_EQ(block["mocks"].get<std::size_t>(), members.size());
  const std::vector<double> xi_edges = doubles(block["xi"]["edges"]);
  const std::vector<double> logm_edges = doubles(block["hmf"]["edges"]);
  ds::SampleSet xi, n_greater;
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (std::size_t i : members) {
    ds::PointCloud points;
    points.box_size = mocks.box_size;
    std::vector<double> logm;
    const float* row = mocks.sample(i);
    for (int h = 0; h < kHalos; ++h) {
      points.positions.push_back({row[h * 7], row[h * 7 + 1], row[h * 7 + 2]});
      logm.push_back(row[h * 7 + 6]);
      lo = std::min(lo, logm.back()), hi = std::max(hi, logm.back());
    }
    xi.push_back(ds::two_point_correlation(points, xi_edges).xi);
    n_greater.push_back(
        ds::cumulative_mass_function(logm, logm_edges, std::pow(mocks.box_size, 3)).n_greater);
  }
  // The mass bins span the mocks' masses.
  EXPECT_NEAR(logm_edges.front(), lo, 1e-5);
  EXPECT_NEAR(logm_edges.back(), hi, 1e-5);
  const std::vector<double> xi_mean = doubles(block["xi"]["mock"]["mean"]);
  ASSERT_EQ(xi_mean.size(), xi[0].size());
  for (std::size_t b = 0; b < xi_mean.size(); ++b) {
    double m = 0;
    for (const auto& row : xi) m += row[b] / double(xi.size());
    EXPECT_NEAR(xi_mean[b], m, 1e-9 * (1 + std::abs(m))) << "xi bin " << b;
  }
  const std::vector<double> n_mean = doubles(block["hmf"]["mock"]["mean"]);
  for (std::size_t b = 0; b < n_mean.size(); ++b) {
    double m = 0;
    for (const auto& row : n_greater) m += row[b] / double(n_greater.size());
    EXPECT_NEAR(n_mean[b], m, 1e-9 * (1 + std::abs(m))) << "mass bin " << b;
  }
  // Leave-one-out chi^2 of the 2PCF over the bins where the mocks scatter.
  ds::SampleSet used(xi.size());
  for (std::size_t b = 0; b < xi[0].size(); ++b) {
    bool scatters = true;
    for (std::size_t out_i = 0; out_i < xi.size(); ++out_i) {
      double a = HUGE_VAL, z = -HUGE_VAL;
      for (std::size_t i = 0; i < xi.size(); ++i)
        if (i != out_i) a = std::min(a, xi[i][b]), z = std::max(z, xi[i][b]);
      scatters = scatters && z - a > 1e-12 * std::max(1.0, std::abs(z));
    }
    if (scatters)
      for (std::size_t i = 0; i < xi.size(); ++i) used[i].push_back(xi[i][b]);
  }
  double loo = 0, loo_sd = 0;
  ds::reduced_chi2_mean_sd(ds::leave_one_out_chi2_diagonal(used), loo, loo_sd);
  EXPECT_NEAR(block["xi"]["chi2"]["loo_reduced_chi2"].get<double>(), loo, 1e-9 * loo);
  EXPECT_EQ(block["xi"]["chi2"]["bins_used"].get<int>(), int(used[0].size()));
  EXPECT_GT(block["xi"]["chi2"]["generated_used"].get<int>(), 0);
  // The generated catalogues' kNN-CDFs are CDFs.
  for (const auto& g : block["knn"]["generated"]) {
    double previous = 0;
    for (double v : doubles(g["mean"])) {
      EXPECT_GE(v, previous - 1e-12);
      EXPECT_LE(v, 1.0);
      previous = v;
    }
  }

  // Calibration: the summary's coverage from the per-catalogue intervals, truths from the file.
  const Json& c = report["calibration"];
  ASSERT_EQ(c["fields"].size(), 4u);
  for (std::size_t p = 0; p < 2; ++p) {
    int inside = 0;
    for (const auto& f : c["fields"]) {
      const std::size_t index = f["dataset_index"];
      EXPECT_NEAR(f["truth"][p].get<double>(), mocks.param(index, p), 1e-12);
      EXPECT_EQ(f["likelihood"], "elbo");
      inside += f["posterior"]["parameters"][p]["inside_inner"].get<bool>() ? 1 : 0;
    }
    EXPECT_NEAR(c["summary"][p]["coverage_68"].get<double>(), inside / 4.0, 1e-12);
  }
}

TEST(PointReport, ACancelledHaloReportResumesToTheSameResult) {
  const fs::path whole = dstest::scratch_dir("point-report-whole");
  const fs::path resumed = dstest::scratch_dir("point-report-resumed");
  ds::ReportSettings s = tiny_settings();
  s.fields = 3;
  ds::run_report(s, whole.string());

  // Cancel once the two emulator cosmologies and the first catalogue are written.
  ds::CancellationToken token;
  const ds::JobContext job(
      [&](const ds::Progress& p) {
        if (p.done >= 3 && p.message.empty()) token.request();
      },
      token);
  EXPECT_THROW(ds::run_report(s, resumed.string(), job), ds::Cancelled);
  EXPECT_FALSE(fs::exists(resumed / "report.json"));
  const ds::ReportResult r = ds::run_report(s, resumed.string());
  EXPECT_EQ(r.blocks_reused, 2u);
  EXPECT_EQ(r.fields_reused, 1u);
  EXPECT_EQ(r.fields_computed, 2u);
  EXPECT_TRUE(read_text(whole / "report.json") == read_text(resumed / "report.json"));
}

TEST(PointReport, BadInputsAreNamed) {
  const fs::path dir = dstest::scratch_dir("point-report-bad");
  ds::ReportSettings s = tiny_settings();
  s.likelihood = ds::LikelihoodKind::ExactGrf;
  try {
    ds::run_report(s, (dir / "a").string());
    FAIL() << "expected InvalidArgument";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("point-cloud model"), std::string::npos) << e.what();
  }
  // Catalogues of positions only for a model of 7 features.
  ds::HaloCatalogueSettings h;
  h.n_halos = kHalos;
  h.mesh = 16;
  ds::SetDesign d;
  d.n_cosmo = 2;
  d.per_cosmo = 3;
  const std::string positions = (dir / "positions.h5").string();
  ds::write_dataset_hdf5(positions, ds::generate_halo_set(h, ds::HaloFeatures::Positions, d));
  s = tiny_settings();
  s.mocks = positions;
  try {
    ds::run_report(s, (dir / "b").string());
    FAIL() << "expected FileError";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("positions.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3 features"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "b" / "report.json"));
}
