#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "../../test_helpers.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"
#include "diffuscope/runtime.h"

namespace {

ds::GrfSettings grid(int n) {
  ds::GrfSettings s;
  s.n = n;
  s.box_size = 25.0;
  s.slab_thickness = 5.0;
  return s;
}

ds::Cosmology at(double om, double s8) {
  ds::Cosmology c;
  c.omega_m = om;
  c.sigma_8 = s8;
  return c;
}

// One 256^2 field at the fiducial cosmology and its likelihood, shared by several tests.
const ds::GrfLikelihood& fiducial_likelihood() {
  static const ds::GrfLikelihood likelihood(ds::cosmological_grf_2d(at(0.3, 0.8), grid(256), 42));
  return likelihood;
}

}  // namespace

TEST(GrfLikelihood, ModeBookkeepingMatchesParseval) {
  const ds::Field2D field = ds::cosmological_grf_2d(at(0.3, 0.8), grid(32), 5);
  const ds::GrfLikelihood like(field);
  const int n = 32;
  // (n^2 - 4)/2 complex modes of weight 1 and 3 non-DC self-conjugate modes of weight 1/2.
  const auto& w = like.mode_weights();
  EXPECT_DOUBLE_EQ(std::accumulate(w.begin(), w.end(), 0.0), n * n / 2.0 - 0.5);
  EXPECT_EQ(like.wavenumbers(), ds::grid_distinct_wavenumbers(n, 25.0));
  EXPECT_TRUE(std::is_sorted(like.wavenumbers().begin(), like.wavenumbers().end()));
  EXPECT_NEAR(like.wavenumbers().front(), 2.0 * M_PI / 25.0, 1e-15);
  EXPECT_NEAR(like.wavenumbers().back(), std::sqrt(2.0) * M_PI * n / 25.0, 1e-12);
  // Parseval: sum over all modes |delta_k|^2 = n^2 sum_x delta^2; the independent modes with
  // their weights carry half of it, minus the DC mode.
  double sum2 = 0.0, sum = 0.0;
  for (double v : field.values) sum2 += v * v, sum += v;
  const double expected = 0.5 * (n * n * sum2 - sum * sum) * std::pow(25.0 / (n * n), 2);
  const auto& s = like.weighted_power();
  EXPECT_NEAR(std::accumulate(s.begin(), s.end(), 0.0) / expected, 1.0, 1e-12);
}

TEST(GrfLikelihood, ModeVariancesMatchTheGenerator) {
  // Over many 16^2 realisations, S_b / P_b averages W_b in every bin if and only if the model's
  // variances are the generator's: m2 = 1 holds two complex modes (W = 2), m2 = 64 the two real
  // Nyquist modes (8,0) and (0,8) (W = 1), m2 = 128 the real corner mode (8,8) (W = 1/2). A
  // factor 2 error on real modes would move the last two means by 7 standard errors.
  const int realisations = 400;
  const auto k = ds::grid_distinct_wavenumbers(16, 25.0);
  const double kf = 2.0 * M_PI / 25.0;
  auto bin_of = [&](int m2) {
    for (std::size_t b = 0; b < k.size(); ++b)
      if (std::abs(k[b] - kf * std::sqrt(double(m2))) < 1e-12) return b;
    return k.size();
  };
  const std::array<int, 3> m2s{1, 64, 128};
  const std::array<double, 3> weights{2.0, 1.0, 0.5};
  const std::array<double, 3> variance_per_field{2.0, 1.0, 0.5};  // of S_b / P_b
  std::array<double, 3> mean{};
  std::vector<double> spectrum;
  for (int r = 0; r < realisations; ++r) {
    const ds::GrfLikelihood like(ds::cosmological_grf_2d(at(0.3, 0.8), grid(16), 1000 + r));
    if (spectrum.empty()) spectrum = like.model_spectrum(0.3, 0.8);
    for (int i = 0; i < 3; ++i) {
      const std::size_t b = bin_of(m2s[i]);
      ASSERT_LT(b, k.size());
      EXPECT_DOUBLE_EQ(like.mode_weights()[b], weights[i]);
      mean[i] += like.weighted_power()[b] / spectrum[b] / realisations;
    }
  }
  for (int i = 0; i < 3; ++i) {
    const double standard_error = std::sqrt(variance_per_field[i] / realisations);
    EXPECT_NEAR(mean[i], weights[i], 4.0 * standard_error) << "m2 = " << m2s[i];
  }
}

TEST(GrfLikelihood, NormalisedPowerAtTheTruthIsChiSquare) {
  // At the true parameters sum_b S_b / P_b has mean sum_b W_b and variance N_complex + 3/2.
  const auto& like = fiducial_likelihood();
  const auto p = like.model_spectrum(0.3, 0.8);
  double total = 0.0, expected = 0.0;
  for (std::size_t b = 0; b < p.size(); ++b) {
    total += like.weighted_power()[b] / p[b];
    expected += like.mode_weights()[b];
  }
  const double n = 256;
  const double z = (total - expected) / std::sqrt((n * n - 4) / 2 + 1.5);
  EXPECT_LT(std::abs(z), 4.0) << "sum S/P = " << total << ", expected " << expected;
}

TEST(GrfLikelihood, MaximumLiesNearTheTruth) {
  const auto& like = fiducial_likelihood();
  // Coarse grid over the prior, then a fine grid around the best coarse point.
  std::array<double, 2> best{0.3, 0.8};
  double best_value = -INFINITY;
  auto scan = [&](double om0, double s80, double step, int half) {
    std::vector<std::array<double, 2>> points;
    for (int i = -half; i <= half; ++i)
      for (int j = -half; j <= half; ++j) {
        const double om = om0 + i * step, s8 = s80 + j * step;
        if (ds::kDefaultPrior.contains(om, s8)) points.push_back({om, s8});
      }
    const auto values = like.evaluate(points, false);
    for (std::size_t i = 0; i < points.size(); ++i)
      if (values[i].value > best_value) best_value = values[i].value, best = points[i];
  };
  scan(0.3, 0.8, 0.02, 10);
  scan(best[0], best[1], 0.002, 10);
  // Curvature at the maximum from central differences of the analytic gradient.
  const double h = 2e-3;
  std::array<std::array<double, 2>, 2> hessian{};
  for (int i = 0; i < 2; ++i) {
    auto up = best, down = best;
    up[i] += h;
    down[i] -= h;
    const auto gu = like.evaluate(up[0], up[1]).gradient;
    const auto gd = like.evaluate(down[0], down[1]).gradient;
    for (int j = 0; j < 2; ++j) hessian[i][j] = (gu[j] - gd[j]) / (2 * h);
  }
  const double det = hessian[0][0] * hessian[1][1] - hessian[0][1] * hessian[1][0];
  ASSERT_GT(det, 0.0);
  ASSERT_LT(hessian[0][0], 0.0);
  const double sigma_om = std::sqrt(-hessian[1][1] / det);
  const double sigma_s8 = std::sqrt(-hessian[0][0] / det);
  EXPECT_LT(std::abs(best[0] - 0.3), 3.0 * sigma_om + 0.002)
      << "Omega_m " << best[0] << " +- " << sigma_om;
  EXPECT_LT(std::abs(best[1] - 0.8), 3.0 * sigma_s8 + 0.002)
      << "sigma_8 " << best[1] << " +- " << sigma_s8;
  EXPECT_NEAR(best[1] / 0.8, 1.0, 0.03);
  // The truth is not far below the maximum: 2 (lnL_max - lnL_truth) ~ chi^2 with 2 dof.
  EXPECT_LT(2.0 * (best_value - like.log_likelihood(0.3, 0.8)), 20.0);
  // Marginal errors are wide along the Omega_m-sigma_8 degeneracy (observed +-0.028, +-0.048),
  // conditional ones narrow: sigma_8 at fixed Omega_m to better than 1 %.
  EXPECT_LT(sigma_om, 0.05);
  EXPECT_LT(sigma_s8, 0.08);
  EXPECT_LT(1.0 / std::sqrt(-hessian[1][1]), 0.008);
  RecordProperty("omega_m_hat", std::to_string(best[0]) + " +- " + std::to_string(sigma_om));
  RecordProperty("sigma_8_hat", std::to_string(best[1]) + " +- " + std::to_string(sigma_s8));
}

TEST(GrfLikelihood, LikelihoodRatioAgainstAFarPointIsLarge) {
  // Away from the degeneracy direction (sigma_8 falling as Omega_m rises: the amplitude of P_2D
  // at these scales) the truth is favoured by thousands of e-folds; along it, by far less
  // (observed: 12 at (0.2, 1.0), 156 at (0.4, 0.7)).
  const auto& like = fiducial_likelihood();
  const double truth = like.log_likelihood(0.3, 0.8);
  EXPECT_GT(truth - like.log_likelihood(0.45, 0.95), 1e3);
  EXPECT_GT(truth - like.log_likelihood(0.15, 0.65), 1e3);
  EXPECT_GT(truth - like.log_likelihood(0.4, 0.7), 10.0);
}

TEST(GrfLikelihood, GradientMatchesFiniteDifferences) {
  const auto& like = fiducial_likelihood();
  for (const auto& theta :
       std::vector<std::array<double, 2>>{{0.25, 0.75}, {0.4, 0.9}, {0.15, 0.65}}) {
    const auto g = like.evaluate(theta[0], theta[1]);
    // Central differences of ln L from tables computed at each point (not the Omega_m series
    // whose own derivative the gradient is).
    const double h_om = 3e-4, h_s8 = 2e-4;
    const auto direct = [&](double om, double s8) { return like.evaluate(om, s8, false).value; };
    const double d_om =
        (direct(theta[0] + h_om, theta[1]) - direct(theta[0] - h_om, theta[1])) / (2 * h_om);
    const double d_s8 =
        (direct(theta[0], theta[1] + h_s8) - direct(theta[0], theta[1] - h_s8)) / (2 * h_s8);
    EXPECT_NEAR(g.gradient[0] / d_om, 1.0, 1e-4) << theta[0] << ", " << theta[1];
    EXPECT_NEAR(g.gradient[1] / d_s8, 1.0, 1e-4) << theta[0] << ", " << theta[1];
    // The series' value is the table's up to the bound of the test below.
    EXPECT_NEAR(g.value, like.log_likelihood(theta[0], theta[1]), 1e-4);
  }
}

// The Chebyshev series in Omega_m (grf_likelihood.h; values with the gradient) against the P_2D
// table at the point's Omega_m (values without), over the whole prior, for a large box (32x32, 1000
// Mpc/h) and the default models' box (64x64 and 256x256, 25 Mpc/h). Measured largest differences:
// 6e-12, 3e-7 and 2.5e-5 nats (ln L of order 10^3 to 10^5): in small boxes the undamped baryon term
// of the EH98 transfer function makes ln P_2D oscillate in Omega_m at ~1e-10 of its value, which no
// smooth series follows and no posterior notices. Bound: 1e-4 nats.
TEST(GrfLikelihood, OmegaMSeriesAgreesWithDirectTables) {
  struct Case {
    int n;
    double box;
  };
  const auto check = [](const ds::GrfLikelihood& like, const std::vector<double>& omegas,
                        const std::vector<double>& sigmas, const char* name) {
    double worst = 0.0;
    for (double om : omegas)
      for (double s8 : sigmas) {
        const double series = like.evaluate(om, s8, true).value;
        const double direct = like.evaluate(om, s8, false).value;
        worst = std::max(worst, std::abs(series - direct));
        EXPECT_NEAR(series, direct, 1e-4) << name << ": " << om << ", " << s8;
      }
    std::printf("%s: largest |ln L(series) - ln L(direct)| = %.2g nats\n", name, worst);
  };
  std::vector<double> omegas;
  for (int i = 0; i <= 17; ++i) omegas.push_back(0.1 + 0.4 * i / 17);
  for (const Case c : {Case{32, 1000.0}, Case{64, 25.0}}) {
    ds::GrfSettings s = grid(c.n);
    s.box_size = c.box;
    const ds::GrfLikelihood like(ds::cosmological_grf_2d(at(0.3, 0.8), s, 5));
    check(like, omegas, {0.6, 0.83, 1.0}, c.n == 32 ? "32x32, 1000 Mpc/h" : "64x64, 25 Mpc/h");
  }
  check(fiducial_likelihood(), {0.1, 0.137, 0.29, 0.41, 0.5}, {0.8}, "256x256, 25 Mpc/h");
}

TEST(GrfLikelihood, InvariantUnderPeriodicShifts) {
  const int n = 64;
  const ds::Field2D field = ds::cosmological_grf_2d(at(0.3, 0.8), grid(n), 9);
  ds::Field2D shifted = field;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) shifted.at((i + 17) % n, (j + 41) % n) = field.at(i, j);
  const ds::GrfLikelihood a(field), b(shifted);
  for (const auto& theta : std::vector<std::array<double, 2>>{{0.3, 0.8}, {0.2, 0.95}}) {
    const auto va = a.evaluate(theta[0], theta[1]), vb = b.evaluate(theta[0], theta[1]);
    EXPECT_NEAR(va.value / vb.value, 1.0, 1e-12);
    EXPECT_NEAR(va.gradient[0] / vb.gradient[0], 1.0, 1e-9);
    EXPECT_NEAR(va.gradient[1] / vb.gradient[1], 1.0, 1e-9);
  }
}

TEST(GrfLikelihood, BatchesMatchSinglePointsOnAnyThreadCount) {
  const auto& like = fiducial_likelihood();
  const std::vector<std::array<double, 2>> points{{0.3, 0.8}, {0.2, 0.7}, {0.45, 0.95}, {0.1, 0.6}};
  const int saved = ds::thread_count();
  ds::set_thread_count(1);
  const auto serial = like.evaluate(points, true);
  ds::set_thread_count(2);
  const auto parallel = like.evaluate(points, true);
  ds::set_thread_count(saved);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto single = like.evaluate(points[i][0], points[i][1]);
    EXPECT_EQ(serial[i].value, single.value);
    EXPECT_EQ(parallel[i].value, single.value);
    EXPECT_EQ(parallel[i].gradient, single.gradient);
  }
  EXPECT_THROW(like.evaluate({{0.3, 0.8}, {0.3, 1.2}}, false), ds::InvalidArgument);
}

TEST(GrfLikelihood, RejectsParametersOutsideThePriorAndBadFields) {
  const auto& like = fiducial_likelihood();
  EXPECT_THROW(like.log_likelihood(0.05, 0.8), ds::InvalidArgument);
  EXPECT_THROW(like.log_likelihood(0.3, 1.1), ds::InvalidArgument);
  EXPECT_THROW(like.evaluate(std::nan(""), 0.8), ds::InvalidArgument);
  // The edges of the box are inside.
  EXPECT_TRUE(std::isfinite(like.evaluate(0.5, 1.0).gradient[0]));
  EXPECT_TRUE(std::isfinite(like.evaluate(0.1, 0.6).gradient[0]));

  std::vector<double> values(18 * 18, 0.1);
  EXPECT_THROW(ds::GrfLikelihood(values.data(), grid(17)), ds::InvalidArgument);  // odd
  EXPECT_THROW(ds::GrfLikelihood(values.data(), grid(8)), ds::InvalidArgument);   // too small
  values[5] = std::nan("");
  EXPECT_THROW(ds::GrfLikelihood(values.data(), grid(18)), ds::InvalidArgument);
  ds::Field2D wrong;
  wrong.n = 16;
  wrong.box_size = 25.0;
  wrong.kind = ds::FieldKind::Contrast;
  wrong.values.assign(10, 0.0);
  EXPECT_THROW(ds::GrfLikelihood{wrong}, ds::InvalidArgument);
}

TEST(GrfLikelihood, FieldsReadFromNpyAndHdf5GiveTheSameValue) {
  // Values rounded to float32 first, so that the float32 HDF5 schema stores them exactly.
  const int n = 32;
  std::vector<double> stack;
  for (std::uint64_t seed : {3u, 4u}) {
    ds::Field2D f = ds::cosmological_grf_2d(at(0.3, 0.8), grid(n), seed);
    for (double v : f.values) stack.push_back(double(float(v)));
  }
  const ds::GrfLikelihood direct(stack.data() + n * n, grid(n));
  const auto dir = dstest::scratch_dir("grf_likelihood_files");
  const std::string npy = (dir / "fields.npy").string(), h5 = (dir / "fields.h5").string();
  ds::write_npy(npy, {2, std::size_t(n), std::size_t(n)}, stack);
  const ds::NpyArray array = ds::read_npy(npy);
  const ds::GrfLikelihood from_npy(array.data.data() + n * n, grid(n));

  ds::Dataset d;
  d.shape = {2, std::size_t(n), std::size_t(n)};
  d.samples.assign(stack.begin(), stack.end());
  d.params = {0.3, 0.8, 0.3, 0.8};
  d.param_names = {"Omega_m", "sigma_8"};
  d.box_size = 25.0;
  d.source = "mock";
  d.generator = "grf";
  ds::write_dataset_hdf5(h5, d);
  const ds::Dataset back = ds::read_dataset_hdf5(h5);
  const std::vector<double> second(back.sample(1), back.sample(1) + n * n);
  const ds::GrfLikelihood from_h5(second.data(), grid(n));
  EXPECT_EQ(from_npy.log_likelihood(0.3, 0.8), direct.log_likelihood(0.3, 0.8));
  EXPECT_EQ(from_h5.log_likelihood(0.3, 0.8), direct.log_likelihood(0.3, 0.8));
}
