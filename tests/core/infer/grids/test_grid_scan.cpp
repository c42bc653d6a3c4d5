// Likelihood grid scans (core/infer/grids/grid_scan.h): on the dhmc_tiny model, streamed rows equal
// a direct evaluation with the same common noise and each L_t map is kept; on an analytic density,
// the coarse-then-fine order covers every point exactly once and the map layout, maximum,
// -2 Delta ln L and 1-sigma extent are exact; HDF5 round trip; cancellation publishes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../../test_helpers.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_scan.h"

namespace {

const std::string kDir = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/";

ds::VlbSettings tiny_settings() {
  ds::VlbSettings s;
  s.t_max = 3;
  s.noise = ds::VlbNoiseMode::Common;
  s.draws = 2;
  s.seed = 4;
  return s;
}

std::shared_ptr<const ds::VlbLogLikelihood> tiny_likelihood() {
  static const auto model = ds::DiffusionModel2d::load(kDir + "checkpoint_tiny.pt");
  const auto x0 = ds::read_npy(kDir + "vlb_x0.npy");
  auto vlb = std::make_shared<ds::TruncatedVlb>(
      model, std::vector<float>(x0.data.begin(), x0.data.end()), 32, tiny_settings());
  return std::make_shared<const ds::VlbLogLikelihood>(std::move(vlb), 2);
}

// log L = -0.5 ((om - 0.31) / 0.02)^2 - 0.5 ((s8 - 0.79) / 0.03)^2, recording every point.
class RecordingGaussian : public ds::LogDensity {
 public:
  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    values.resize(batch);
    if (gradients) gradients->assign(2 * batch, 0.0);
    std::lock_guard<std::mutex> lock(mutex_);
    calls.push_back(batch);
    for (std::size_t b = 0; b < batch; ++b) {
      const double om = thetas[2 * b], s8 = thetas[2 * b + 1];
      points.push_back({om, s8});
      values[b] = value(om, s8);
    }
  }
  static double value(double om, double s8) {
    const double a = (om - 0.31) / 0.02, c = (s8 - 0.79) / 0.03;
    return -0.5 * (a * a + c * c);
  }
  mutable std::vector<std::pair<double, double>> points;
  mutable std::vector<std::size_t> calls;

 private:
  mutable std::mutex mutex_;
};

TEST(GridScan, StreamedRowsEqualDirectEvaluationAndKeepEachTerm) {
  const auto likelihood = tiny_likelihood();
  ds::GridScanSettings s;
  s.n = 5;
  s.half_width = 0.04;
  s.batch_points = 4;  // batches cut across rows
  std::vector<ds::GridScanUpdate> updates;
  const ds::GridScan scan = ds::scan_likelihood_grid(
      *likelihood, s, {}, [&](const ds::GridScanUpdate& u) { updates.push_back(u); });
  ASSERT_EQ(scan.terms_per_point, 3u);
  EXPECT_EQ(scan.provenance.t_max, 3);
  EXPECT_EQ(scan.provenance.noise, "common");
  EXPECT_EQ(scan.provenance.draws, 2);
  ASSERT_EQ(updates.size(), 6u);  // the coarse pass (k = 2), then 5 rows
  EXPECT_EQ(updates[0].stage, ds::GridScanStage::Coarse);
  EXPECT_EQ(updates[0].points, (std::vector<std::size_t>{0, 2, 4, 10, 12, 14, 20, 22, 24}));

  // A separate likelihood with the same settings draws the same common noise.
  const auto direct = tiny_likelihood();
  for (std::size_t r = 0; r < 5; ++r) {
    const auto& u = updates[r + 1];
    ASSERT_EQ(u.stage, ds::GridScanStage::Row);
    EXPECT_EQ(u.row, r);
    ASSERT_EQ(u.points.size(), 5u);
    std::vector<double> thetas, values;
    for (std::size_t j = 0; j < 5; ++j) {
      EXPECT_EQ(u.points[j], r * 5 + j);
      thetas.insert(thetas.end(), {scan.omega_m[j], scan.sigma_8[r]});
    }
    direct->evaluate(thetas, 5, values, nullptr);
    const auto terms = direct->last_evaluation().terms;
    for (std::size_t j = 0; j < 5; ++j) {
      EXPECT_NEAR(u.log_like[j], values[j], 1e-5 * std::abs(values[j]))
          << "row " << r << " column " << j;
      EXPECT_DOUBLE_EQ(u.log_like[j], scan.log_like_at(r, j));
      double sum = 0.0;
      for (std::size_t t = 0; t < 3; ++t) {
        EXPECT_NEAR(u.terms[j * 3 + t], terms[j * 3 + t], 1e-5 * std::abs(terms[j * 3 + t]));
        EXPECT_DOUBLE_EQ(scan.term_at(t, r, j), u.terms[j * 3 + t]);
        sum += scan.term_at(t, r, j);
      }
      EXPECT_NEAR(scan.log_like_at(r, j), -sum, 1e-9 * std::abs(sum));
    }
  }
  // The terms differ between steps and the map is not flat in theta.
  EXPECT_NE(scan.term_at(0, 2, 2), scan.term_at(1, 2, 2));
  EXPECT_NE(scan.log_like_at(0, 0), scan.log_like_at(4, 4));
}

TEST(GridScan, CoarseThenFineCoversEveryPointOnceWithTheDocumentedLayout) {
  RecordingGaussian density;
  ds::GridScanSettings s;
  s.n = 7;
  s.center_omega_m = 0.3;
  s.center_sigma_8 = 0.8;
  s.half_width = 0.06;
  s.coarse_stride = 3;
  s.batch_points = 5;
  std::vector<std::size_t> rows;
  std::size_t coarse_points = 0;
  // What a partial file holds after each update (vlb-grid writes one): its known_points are the
  // points it has, although a batch of the fine pass reaches into the next row (regression: a
  // crash-safety test found a partial file claiming 48 points and holding 42).
  ds::GridScan partial = ds::start_partial_grid_scan(density, s);
  const ds::GridScan scan =
      ds::scan_likelihood_grid(density, s, {}, [&](const ds::GridScanUpdate& u) {
        if (u.stage == ds::GridScanStage::Coarse) coarse_points = u.points.size();
        if (u.stage == ds::GridScanStage::Row) rows.push_back(u.row);
        ds::apply_grid_update(partial, u);
        const auto held = std::count_if(partial.log_like.begin(), partial.log_like.end(),
                                        [](double v) { return !std::isnan(v); });
        EXPECT_EQ(partial.known_points, std::size_t(held)) << "after row " << u.row;
      });
  EXPECT_EQ(partial.known_points, 49u);
  EXPECT_EQ(coarse_points, 9u);  // rows and columns 0, 3, 6
  EXPECT_EQ(rows, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6}));
  ASSERT_EQ(density.points.size(), 49u);  // every point exactly once
  auto sorted = density.points;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
  // The coarse points come first, then the rest row by row (sigma_8 non-decreasing).
  for (std::size_t p = 0; p < 9; ++p) {
    const auto [om, s8] = density.points[p];
    const auto j =
        std::size_t(std::find(scan.omega_m.begin(), scan.omega_m.end(), om) - scan.omega_m.begin());
    const auto i =
        std::size_t(std::find(scan.sigma_8.begin(), scan.sigma_8.end(), s8) - scan.sigma_8.begin());
    EXPECT_EQ(i % 3, 0u);
    EXPECT_EQ(j % 3, 0u);
  }
  for (std::size_t p = 10; p < 49; ++p)
    EXPECT_LE(density.points[p - 1].second, density.points[p].second);
  for (std::size_t c = 0; c + 1 < density.calls.size(); ++c) EXPECT_LE(density.calls[c], 5u);

  // Axes: centre +- half-width; map[i * n + j] = log L(omega_m[j], sigma_8[i]).
  EXPECT_DOUBLE_EQ(scan.omega_m.front(), 0.24);
  EXPECT_DOUBLE_EQ(scan.omega_m.back(), 0.36);
  EXPECT_NEAR(scan.sigma_8.front(), 0.74, 1e-15);
  EXPECT_DOUBLE_EQ(scan.sigma_8.back(), 0.86);
  EXPECT_TRUE(scan.terms.empty());
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t j = 0; j < 7; ++j)
      EXPECT_DOUBLE_EQ(scan.log_like_at(i, j),
                       RecordingGaussian::value(scan.omega_m[j], scan.sigma_8[i]));
}

TEST(GridScan, DeltaChi2IsNonNegativeWithZeroAtTheMaximumAndTheOneSigmaExtent) {
  RecordingGaussian density;
  ds::GridScanSettings s;
  s.n = 61;
  s.half_width = 0.06;
  const ds::GridScan scan = ds::scan_likelihood_grid(density, s);
  // The grid point nearest (0.31, 0.79): spacing 0.002, so column 35, row 25.
  EXPECT_EQ(scan.maximum.column, 35u);
  EXPECT_EQ(scan.maximum.row, 25u);
  EXPECT_NEAR(scan.maximum.omega_m, 0.31, 1e-12);
  EXPECT_NEAR(scan.maximum.sigma_8, 0.79, 1e-12);
  EXPECT_DOUBLE_EQ(scan.delta_chi2[25 * 61 + 35], 0.0);
  for (std::size_t k = 0; k < scan.delta_chi2.size(); ++k) {
    EXPECT_GE(scan.delta_chi2[k], 0.0);
    EXPECT_NEAR(scan.delta_chi2[k], 2.0 * (scan.maximum.log_like - scan.log_like[k]), 1e-12);
  }
  // -2 Delta ln L <= 2.30: |om - 0.31| <= 0.02 sqrt(2.30) = 0.0303, |s8 - 0.79| <= 0.0455.
  const ds::GridContourExtent e = ds::grid_contour_extent(scan);
  std::printf("1-sigma extent: Omega_m [%.4f, %.4f], sigma_8 [%.4f, %.4f]\n", e.omega_m_lo,
              e.omega_m_hi, e.sigma_8_lo, e.sigma_8_hi);
  EXPECT_NEAR(e.omega_m_lo, 0.31 - 0.0303, 0.002);
  EXPECT_NEAR(e.omega_m_hi, 0.31 + 0.0303, 0.002);
  EXPECT_NEAR(e.sigma_8_lo, 0.79 - 0.0455, 0.002);
  EXPECT_NEAR(e.sigma_8_hi, 0.79 + 0.0455, 0.002);
  EXPECT_FALSE(e.touches_edge);
}

TEST(GridScan, HdfRoundTripKeepsMapsAxesAndSettings) {
  const auto likelihood = tiny_likelihood();
  ds::GridScanSettings s;
  s.n = 4;
  s.center_omega_m = 0.32;
  s.center_sigma_8 = 0.78;
  s.half_width = 0.05;
  ds::GridScan scan = ds::scan_likelihood_grid(*likelihood, s);
  scan.provenance.model = kDir + "checkpoint_tiny.pt";
  scan.provenance.field = kDir + "vlb_x0.npy";
  scan.provenance.index = 0;
  scan.provenance.added_noise = 0.02;
  const auto dir = dstest::scratch_dir("grid-scan-roundtrip");
  const std::string path = (dir / "grid.h5").string();
  ds::write_grid_scan(path, scan);
  const ds::GridScan back = ds::read_grid_scan(path);
  EXPECT_EQ(back.omega_m, scan.omega_m);
  EXPECT_EQ(back.sigma_8, scan.sigma_8);
  EXPECT_EQ(back.terms_per_point, 3u);
  EXPECT_EQ(back.terms, scan.terms);
  EXPECT_EQ(back.log_like, scan.log_like);
  EXPECT_EQ(back.delta_chi2, scan.delta_chi2);
  EXPECT_EQ(back.maximum.row, scan.maximum.row);
  EXPECT_EQ(back.maximum.column, scan.maximum.column);
  EXPECT_EQ(back.settings.n, 4);
  EXPECT_DOUBLE_EQ(back.settings.center_omega_m, 0.32);
  EXPECT_DOUBLE_EQ(back.settings.center_sigma_8, 0.78);
  EXPECT_DOUBLE_EQ(back.settings.half_width, 0.05);
  EXPECT_EQ(back.settings.coarse_stride, 2);
  EXPECT_FALSE(back.settings.full_prior);
  EXPECT_EQ(back.provenance.model, scan.provenance.model);
  EXPECT_EQ(back.provenance.field, scan.provenance.field);
  EXPECT_EQ(back.provenance.t_max, 3);
  EXPECT_EQ(back.provenance.noise, "common");
  EXPECT_EQ(back.provenance.draws, 2);
  EXPECT_EQ(back.provenance.seed, 4u);
  EXPECT_DOUBLE_EQ(back.provenance.added_noise, 0.02);
  EXPECT_DOUBLE_EQ(back.contour_level, 2.30);
  EXPECT_EQ(back.version, scan.version);
  EXPECT_FALSE(back.version.empty());
  // Only the file itself is left behind (no temporary).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);

  EXPECT_THROW(ds::read_grid_scan((dir / "missing.h5").string()), ds::FileError);
}

TEST(GridScan, CancellationStopsBetweenBatchesAndLeavesNoOutputFile) {
  RecordingGaussian density;
  ds::CancellationToken token;
  const ds::JobContext job({}, token);
  ds::GridScanSettings s;
  s.n = 10;
  const auto dir = dstest::scratch_dir("grid-scan-cancel");
  const std::string path = (dir / "grid.h5").string();
  std::size_t rows = 0, points_at_request = 0;
  try {
    // What the CLI does: scan, then write.
    const auto scan = ds::scan_likelihood_grid(density, s, job, [&](const ds::GridScanUpdate& u) {
      if (u.stage == ds::GridScanStage::Row && ++rows == 2) {
        token.request();
        points_at_request = density.points.size();
      }
    });
    ds::write_grid_scan(path, scan);
    FAIL() << "the scan was not cancelled";
  } catch (const ds::Cancelled&) {
  }
  // Rows completed by the batch in flight are still streamed (row 2 ends in the same batch as
  // row 1); no batch is evaluated after the request.
  EXPECT_EQ(rows, 3u);
  EXPECT_EQ(density.points.size(), points_at_request);
  EXPECT_LT(density.points.size(), 100u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(GridScan, AxesAndSettingsAreChecked) {
  ds::GridScanSettings s;
  s.full_prior = true;
  s.n = 5;
  const auto om = ds::grid_axis_omega_m(s);
  ASSERT_EQ(om.size(), 5u);
  for (std::size_t j = 0; j < 5; ++j) EXPECT_NEAR(om[j], 0.1 + 0.1 * double(j), 1e-15);
  EXPECT_DOUBLE_EQ(ds::grid_axis_sigma_8(s).front(), 0.6);
  EXPECT_DOUBLE_EQ(ds::grid_axis_sigma_8(s).back(), 1.0);
  // Near the edge the window is clipped to the prior box.
  s.full_prior = false;
  s.center_omega_m = 0.12;
  s.half_width = 0.06;
  EXPECT_DOUBLE_EQ(ds::grid_axis_omega_m(s).front(), 0.1);
  EXPECT_DOUBLE_EQ(ds::grid_axis_omega_m(s).back(), 0.18);
  s.center_omega_m = 0.05;
  try {
    ds::validate_grid_settings(s);
    FAIL() << "a centre outside the prior was accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("centre Omega_m = 0.05 is outside the prior [0.1, 0.5]"),
              std::string::npos)
        << e.what();
  }
  s.center_omega_m = 0.3;
  s.half_width = 0.0;
  EXPECT_THROW(ds::validate_grid_settings(s), ds::InvalidArgument);
  s.half_width = 0.06;
  s.n = 1;
  EXPECT_THROW(ds::validate_grid_settings(s), ds::InvalidArgument);
}

}  // namespace

// The adaptive scan evaluates only near the posterior: on a Gaussian whose 3-sigma region covers
// a small part of the window, every point the full scan puts within 3 sigma is an exact
// evaluation equal to the full scan's, the 1- and 2-sigma regions are identical, the rest is
// interpolated (and marked so), and far fewer points are evaluated; the mask survives the file.
TEST(GridScan, AdaptiveScanIsExactInsideThreeSigmaWithFarFewerEvaluations) {
  ds::GridScanSettings s;
  s.n = 50;
  s.center_omega_m = 0.3;
  s.center_sigma_8 = 0.8;
  s.half_width = 0.2;  // the whole prior box; the 3-sigma region is ~14% of it
  RecordingGaussian full_density;
  const ds::GridScan full = ds::scan_likelihood_grid(full_density, s);
  s.adaptive = true;
  RecordingGaussian density;
  std::vector<ds::GridScanStage> stages;
  std::size_t streamed = 0;
  const ds::GridScan a = ds::scan_likelihood_grid(density, s, {}, [&](const ds::GridScanUpdate& u) {
    stages.push_back(u.stage);
    streamed += u.points.size();
    for (std::size_t k = 0; k < u.points.size(); ++k)
      EXPECT_EQ(u.log_like[k], full.log_like[u.points[k]]);
  });
  ASSERT_EQ(a.evaluated.size(), 2500u);
  EXPECT_EQ(density.points.size(), a.exact_points());  // each point evaluated once
  EXPECT_EQ(streamed, a.exact_points());
  EXPECT_LT(a.exact_points(), 2500u * 2 / 5) << "evaluated " << a.exact_points();
  ASSERT_GE(stages.size(), 3u);
  EXPECT_EQ(stages.front(), ds::GridScanStage::Coarse);
  EXPECT_EQ(stages.back(), ds::GridScanStage::Refine);
  std::size_t inside = 0;
  for (std::size_t p = 0; p < 2500; ++p) {
    if (a.evaluated[p]) {
      EXPECT_EQ(a.log_like[p], full.log_like[p]);
    }
    if (full.delta_chi2[p] <= 11.83) {
      ++inside;
      EXPECT_EQ(a.evaluated[p], 1) << "point " << p << " inside 3 sigma was interpolated";
    }
    // Bilinear interpolation of a concave function never exceeds it.
    EXPECT_LE(a.log_like[p], full.log_like[p] + 1e-12);
  }
  EXPECT_GT(inside, 100u);
  EXPECT_EQ(a.maximum.row, full.maximum.row);
  EXPECT_EQ(a.maximum.column, full.maximum.column);
  for (double level : {2.30, 6.17}) {
    const auto e = ds::grid_contour_extent(a, level), f = ds::grid_contour_extent(full, level);
    EXPECT_EQ(e.points, f.points);
    EXPECT_EQ(e.omega_m_lo, f.omega_m_lo);
    EXPECT_EQ(e.sigma_8_hi, f.sigma_8_hi);
  }

  const auto dir = dstest::scratch_dir("grid-scan-adaptive");
  const std::string path = (dir / "adaptive.h5").string();
  ds::write_grid_scan(path, a);
  const ds::GridScan back = ds::read_grid_scan(path);
  EXPECT_EQ(back.evaluated, a.evaluated);
  EXPECT_TRUE(back.settings.adaptive);
  EXPECT_DOUBLE_EQ(back.settings.refine_level, 11.83);
  EXPECT_EQ(back.log_like, a.log_like);
  std::filesystem::remove_all(dir);
}

namespace {

// A curved, correlated posterior that fills most of the paper's +-0.06 window (like the default
// model's VLB on a 64^2 field): log L = -0.5 (a^2 + b^2) with a along a bent ridge.
class BananaDensity : public ds::LogDensity {
 public:
  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    values.resize(batch);
    if (gradients) gradients->assign(2 * batch, 0.0);
    evaluations += batch;
    for (std::size_t b = 0; b < batch; ++b) {
      const double om = thetas[2 * b], s8 = thetas[2 * b + 1];
      const double u = (om - 0.338) + 0.6 * (s8 - 0.842), v = (s8 - 0.842) - 0.5 * (om - 0.338);
      const double a = (u + 9.0 * v * v) / 0.011, c = v / 0.024;
      values[b] = 7300.0 - 0.5 * (a * a + c * c) +
                  ripple * std::sin(om * 2.0 * M_PI / 0.031) * std::cos(s8 * 2.0 * M_PI / 0.023);
    }
  }
  double ripple = 0.0;  // amplitude in log L of a ripple a dozen grid steps long
  mutable std::size_t evaluations = 0;
};

// Every point `fewer` evaluated, `more` evaluated too (exact contours start from the cells of a
// contour tolerance).
void expect_evaluated_within(const ds::GridScan& fewer, const ds::GridScan& more) {
  for (std::size_t p = 0; p < fewer.evaluated.size(); ++p)
    if (fewer.evaluated[p]) {
      EXPECT_TRUE(more.evaluated[p]) << "point " << p;
    }
}

// The paper's window, 50 x 50 over +-0.06, around the banana's peak.
ds::GridScanSettings banana_window() {
  ds::GridScanSettings s;
  s.n = 50;
  s.center_omega_m = 0.34;
  s.center_sigma_8 = 0.84;
  s.half_width = 0.06;
  return s;
}

}  // namespace

// Contour refinement: the 1- and 2-sigma regions (and so the contours drawn from the map) and
// the maximum are the full scan's, at well under half the evaluations, and fewer than the
// 3-sigma-region refinement needs; every evaluated value equals the full scan's, the others are
// marked interpolated; the target and safety survive the file, and bad settings are named.
TEST(GridScan, ContourRefinementKeepsTheFullScansContoursWithFarFewerEvaluations) {
  ds::GridScanSettings s = banana_window();
  BananaDensity full_density;
  const ds::GridScan full = ds::scan_likelihood_grid(full_density, s);
  s.adaptive = true;
  BananaDensity region_density;
  const ds::GridScan region = ds::scan_likelihood_grid(region_density, s);
  s.refine_target = ds::GridScanSettings::RefineTarget::Contours;
  BananaDensity density;
  std::size_t streamed = 0;
  const ds::GridScan a = ds::scan_likelihood_grid(
      density, s, {}, [&](const ds::GridScanUpdate& u) { streamed += u.points.size(); });
  ASSERT_EQ(a.evaluated.size(), 2500u);
  EXPECT_EQ(density.evaluations, a.exact_points());
  EXPECT_EQ(streamed, a.exact_points());
  std::size_t inside2 = 0;
  for (std::size_t p = 0; p < 2500; ++p) {
    if (a.evaluated[p]) {
      EXPECT_EQ(a.log_like[p], full.log_like[p]);
    }
    for (double level : {ds::kOneSigmaDeltaChi2, ds::kTwoSigmaDeltaChi2})
      EXPECT_EQ(a.delta_chi2[p] <= level, full.delta_chi2[p] <= level)
          << "point " << p << " level " << level << ": " << a.delta_chi2[p] << " vs "
          << full.delta_chi2[p] << (a.evaluated[p] ? " (evaluated)" : " (interpolated)");
    inside2 += full.delta_chi2[p] <= ds::kTwoSigmaDeltaChi2 ? 1 : 0;
  }
  EXPECT_GT(inside2, 2500u / 5) << "the 2-sigma region should fill much of the window";
  EXPECT_EQ(a.maximum.row, full.maximum.row);
  EXPECT_EQ(a.maximum.column, full.maximum.column);
  EXPECT_EQ(a.maximum.log_like, full.maximum.log_like);
  EXPECT_LT(a.exact_points(), 2500u / 5) << "evaluated " << a.exact_points();
  EXPECT_LT(a.exact_points(), region.exact_points());
  std::printf("banana: %zu points within 2 sigma; region refinement %zu, contours %zu of 2500\n",
              inside2, region.exact_points(), a.exact_points());

  // The same with a ripple of 0.06 or 0.6 in -2 Delta ln L on it: contours that wander between
  // grid points, which a smooth interpolant misses by up to the ripple. The classification is
  // still the full scan's: at 0.06 the cells stop at the contour tolerance and the points left in
  // doubt are evaluated one by one (one more than the tolerance's map); at 0.6 the cells are
  // halved down to single steps. The contour tolerance's map puts a point on the other side of a
  // contour only within 0.1 of the level.
  for (const double ripple : {0.03, 0.3}) {
    ds::GridScanSettings r = s;
    r.adaptive = false;
    BananaDensity rippled_full;
    rippled_full.ripple = ripple;
    const ds::GridScan rippled = ds::scan_likelihood_grid(rippled_full, r);
    r.adaptive = true;
    BananaDensity rippled_density;
    rippled_density.ripple = ripple;
    const ds::GridScan exact = ds::scan_likelihood_grid(rippled_density, r);
    const ds::GridScanComparison c = ds::compare_grid_scans(exact, rippled);
    EXPECT_EQ(c.differ_one_sigma + c.differ_two_sigma, 0u) << "ripple " << ripple;
    EXPECT_TRUE(c.same_maximum) << "ripple " << ripple;
    r.contour_tolerance = 0.1;
    BananaDensity within_density;
    within_density.ripple = ripple;
    const ds::GridScan within = ds::scan_likelihood_grid(within_density, r);
    const ds::GridScanComparison w = ds::compare_grid_scans(within, rippled);
    EXPECT_LE(w.differ_margin, 0.1) << "ripple " << ripple;
    EXPECT_TRUE(w.same_maximum) << "ripple " << ripple;
    EXPECT_LE(within.exact_points(), exact.exact_points()) << "ripple " << ripple;
    if (ripple < 0.1) {
      EXPECT_GT(exact.exact_points(), within.exact_points()) << "no point was left in doubt";
    }
    expect_evaluated_within(within, exact);
    std::printf(
        "rippled banana (%.2g): exact contours %zu points, to +-0.1 %zu points (%zu + %zu "
        "on the other side, within %.3g)\n",
        2 * ripple, exact.exact_points(), within.exact_points(), w.differ_one_sigma,
        w.differ_two_sigma, w.differ_margin);
  }

  const auto dir = dstest::scratch_dir("grid-scan-contours");
  const std::string path = (dir / "contours.h5").string();
  ds::write_grid_scan(path, a);
  const ds::GridScan back = ds::read_grid_scan(path);
  EXPECT_EQ(back.settings.refine_target, ds::GridScanSettings::RefineTarget::Contours);
  EXPECT_DOUBLE_EQ(back.settings.contour_safety, 2.0);
  EXPECT_EQ(back.evaluated, a.evaluated);
  std::filesystem::remove_all(dir);

  EXPECT_EQ(ds::parse_refine_target("region"), ds::GridScanSettings::RefineTarget::Region);
  try {
    ds::parse_refine_target("edges");
    ADD_FAILURE() << "an unknown target was accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'edges'"), std::string::npos) << e.what();
  }
  s.contour_safety = 0.5;
  EXPECT_THROW(ds::validate_grid_settings(s), ds::InvalidArgument);
}

// A contour tolerance: every point whose interpolated value could put it on the other side of a
// contour lies within the tolerance of that contour in the full scan, the map is within the
// tolerance of the full scan wherever either is near the maximum, the maximum is the full scan's,
// and no more points are evaluated than for exact contours. The replay density and the
// comparison reproduce this from the full map's values alone; bad tolerances are named.
TEST(GridScan, ContourToleranceKeepsTheContoursWithinItAtFewerEvaluations) {
  ds::GridScanSettings s = banana_window();
  BananaDensity full_density;
  const ds::GridScan full = ds::scan_likelihood_grid(full_density, s);
  s.adaptive = true;
  s.refine_target = ds::GridScanSettings::RefineTarget::Contours;
  BananaDensity exact_density;
  const ds::GridScan exact = ds::scan_likelihood_grid(exact_density, s);
  s.contour_tolerance = 0.1;
  BananaDensity density;
  const ds::GridScan a = ds::scan_likelihood_grid(density, s);
  EXPECT_EQ(density.evaluations, a.exact_points());
  std::size_t differ = 0;
  for (std::size_t p = 0; p < 2500; ++p) {
    if (a.evaluated[p]) {
      EXPECT_EQ(a.log_like[p], full.log_like[p]);
    }
    if (full.delta_chi2[p] <= 11.83) {
      EXPECT_LE(std::abs(a.delta_chi2[p] - full.delta_chi2[p]), 0.1) << "point " << p;
    }
    for (double level : {ds::kOneSigmaDeltaChi2, ds::kTwoSigmaDeltaChi2})
      if ((a.delta_chi2[p] <= level) != (full.delta_chi2[p] <= level)) {
        ++differ;
        EXPECT_LE(std::abs(full.delta_chi2[p] - level), 0.1) << "point " << p;
      }
  }
  EXPECT_EQ(a.maximum.row, full.maximum.row);
  EXPECT_EQ(a.maximum.column, full.maximum.column);
  // Exact contours start from the same cells and evaluate the points left in doubt.
  EXPECT_LE(a.exact_points(), exact.exact_points())
      << a.exact_points() << " with the tolerance, " << exact.exact_points() << " without";
  expect_evaluated_within(a, exact);
  std::printf(
      "banana: contours exact %zu points, within 0.1 %zu points (%zu classified "
      "differently)\n",
      exact.exact_points(), a.exact_points(), differ);

  // The same scan replayed on the full map's values, and its comparison with the map.
  const auto replay = ds::grid_map_density(full);
  const ds::GridScan replayed = ds::scan_likelihood_grid(*replay, s);
  EXPECT_EQ(replayed.evaluated, a.evaluated);
  EXPECT_EQ(replayed.log_like, a.log_like);
  const ds::GridScanComparison c = ds::compare_grid_scans(replayed, full);
  EXPECT_EQ(c.points, 2500u);
  EXPECT_EQ(c.differ_one_sigma + c.differ_two_sigma, differ);
  EXPECT_LE(c.differ_margin, 0.1);
  EXPECT_EQ(c.differ_margin == 0.0, differ == 0);
  EXPECT_LE(c.largest_difference, 0.1);
  EXPECT_GT(c.largest_difference, 0.0);
  EXPECT_TRUE(c.same_maximum);
  const ds::GridScanComparison self = ds::compare_grid_scans(full, full);
  EXPECT_EQ(self.largest_difference, 0.0);
  EXPECT_EQ(self.differ_one_sigma + self.differ_two_sigma, 0u);

  // A point off the map's grid, an incomplete map, other axes: named.
  try {
    std::vector<double> values;
    replay->evaluate({0.3415, 0.84}, 1, values, nullptr);
    ADD_FAILURE() << "an off-grid point was answered";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("Omega_m = 0.3415 "), std::string::npos) << e.what();
  }
  EXPECT_THROW(ds::grid_map_density(a), ds::InvalidArgument);
  ds::GridScanSettings other = s;
  other.half_width = 0.05;
  EXPECT_THROW(ds::scan_likelihood_grid(*replay, other), ds::InvalidArgument);
  EXPECT_THROW(ds::compare_grid_scans(ds::scan_likelihood_grid(density, other), full),
               ds::InvalidArgument);
  for (double bad : {-0.1, std::numeric_limits<double>::infinity()}) {
    s.contour_tolerance = bad;
    try {
      ds::validate_grid_settings(s);
      ADD_FAILURE() << "tolerance " << bad << " accepted";
    } catch (const ds::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("contour tolerance"), std::string::npos) << e.what();
    }
  }

  // The tolerance survives the file.
  const auto dir = dstest::scratch_dir("grid-scan-tolerance");
  const std::string path = (dir / "tolerance.h5").string();
  ds::write_grid_scan(path, a);
  EXPECT_DOUBLE_EQ(ds::read_grid_scan(path).settings.contour_tolerance, 0.1);
  std::filesystem::remove_all(dir);
}
