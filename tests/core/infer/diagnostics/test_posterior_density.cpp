// Posterior densities for corner plots (core/infer/diagnostics/posterior_density.h): a KDE of N(0,
// 1) draws integrates to 1 with the sample mean and the variance inflated by exactly h^2
// (Silverman's h); reflection keeps a uniform's density at 1 up to its edges; the 2D KDE's 68% /
// 95% regions hold the fraction of correlated Gaussian draws that the smoothed Gaussian predicts;
// mass levels of a Gaussian map sit at exp(-Delta chi^2 / 2) of the peak; grid posteriors normalise
// without overflow; rank histograms are flat for identical chains and skewed for a shifted one.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/infer/diagnostics/posterior_density.h"

namespace {

std::vector<double> normal_draws(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(n);
  for (double& a : v) a = normal(rng);
  return v;
}

double trapezoid(const std::vector<double>& x, const std::vector<double>& f) {
  double sum = 0.0;
  for (std::size_t k = 0; k + 1 < x.size(); ++k) sum += 0.5 * (x[k + 1] - x[k]) * (f[k] + f[k + 1]);
  return sum;
}

double mean_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double a : v) s += a;
  return s / double(v.size());
}

double variance_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0.0;
  for (double a : v) s += (a - m) * (a - m);
  return s / double(v.size() - 1);
}

// Bilinear interpolation of a [ny, nx] map on uniform axes.
double interpolate(const ds::Density2d& d, double x, double y) {
  const std::size_t nx = d.x.size(), ny = d.y.size();
  const double u = (x - d.x.front()) / (d.x[1] - d.x[0]);
  const double v = (y - d.y.front()) / (d.y[1] - d.y[0]);
  const std::size_t j = std::min(std::size_t(std::max(u, 0.0)), nx - 2);
  const std::size_t i = std::min(std::size_t(std::max(v, 0.0)), ny - 2);
  const double fx = u - double(j), fy = v - double(i);
  const auto at = [&](std::size_t a, std::size_t b) { return d.density[a * nx + b]; };
  return (1 - fy) * ((1 - fx) * at(i, j) + fx * at(i, j + 1)) +
         fy * ((1 - fx) * at(i + 1, j) + fx * at(i + 1, j + 1));
}

TEST(Kde1d, StandardNormalKeepsMeanAndInflatesVarianceByBandwidth) {
  const auto draws = normal_draws(20000, 11);
  const auto d = ds::kde_1d(draws, {-6.0, 6.0});
  ASSERT_EQ(d.x.size(), 128u);
  ASSERT_EQ(d.density.size(), 128u);
  EXPECT_DOUBLE_EQ(d.x.front(), -6.0);
  EXPECT_DOUBLE_EQ(d.x.back(), 6.0);
  EXPECT_NEAR(trapezoid(d.x, d.density), 1.0, 1e-12);

  // Silverman's rule, recomputed here: 0.9 min(sd, IQR / 1.34) n^(-1/5).
  auto sorted = draws;
  std::sort(sorted.begin(), sorted.end());
  const auto q = [&](double p) {
    const double h = double(sorted.size() - 1) * p;
    const std::size_t k = std::size_t(h);
    return sorted[k] + (h - double(k)) * (sorted[k + 1] - sorted[k]);
  };
  const double sd = std::sqrt(variance_of(draws));
  const double expected_h = 0.9 * std::min(sd, (q(0.75) - q(0.25)) / 1.34) * std::pow(20000, -0.2);
  EXPECT_NEAR(d.bandwidth, expected_h, 1e-12);
  EXPECT_NEAR(d.bandwidth, 0.124, 0.005);

  std::vector<double> xf(d.x.size()), x2f(d.x.size());
  for (std::size_t k = 0; k < d.x.size(); ++k) {
    xf[k] = d.x[k] * d.density[k];
    x2f[k] = d.x[k] * d.x[k] * d.density[k];
  }
  const double mean = trapezoid(d.x, xf);
  const double kde_sd = std::sqrt(trapezoid(d.x, x2f) - mean * mean);
  // Linear binning keeps the mean; a Gaussian kernel adds h^2 to the variance.
  EXPECT_NEAR(mean, mean_of(draws), 2e-3);
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(kde_sd, std::sqrt(variance_of(draws) + d.bandwidth * d.bandwidth), 2e-3);
  EXPECT_NEAR(kde_sd, 1.0, 0.03);
  // Peak of N(0, 1 + h^2).
  const double peak = 1.0 / std::sqrt(2 * M_PI * (1 + d.bandwidth * d.bandwidth));
  EXPECT_NEAR(d.density[63] + (d.density[64] - d.density[63]) * 0.5, peak, 0.05 * peak);
}

TEST(Kde1d, ReflectionKeepsUniformDensityUpToTheEdges) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> draws(20000);
  for (double& a : draws) a = uniform(rng);

  const auto reflected = ds::kde_1d(draws, {0.0, 1.0});
  EXPECT_NEAR(trapezoid(reflected.x, reflected.density), 1.0, 1e-12);
  EXPECT_NEAR(reflected.density.front(), 1.0, 0.1);
  EXPECT_NEAR(reflected.density.back(), 1.0, 0.1);
  for (std::size_t k = 0; k < reflected.x.size(); ++k)
    EXPECT_NEAR(reflected.density[k], 1.0, 0.12) << "x = " << reflected.x[k];

  // Without reflection half the kernel mass of an edge draw falls outside: ~0.5 at the edges.
  const auto leaky = ds::kde_1d(draws, {0.0, 1.0}, 128, 1.0, false);
  EXPECT_NEAR(leaky.density.front(), 0.5, 0.1);
  EXPECT_NEAR(leaky.density.back(), 0.5, 0.1);
  EXPECT_NEAR(leaky.density[64], 1.0, 0.1);
}

TEST(Kde1d, SmoothScaleAndRangeFilter) {
  auto draws = normal_draws(5000, 5);
  const auto base = ds::kde_1d(draws, {-5.0, 5.0}, 64);
  const auto wide = ds::kde_1d(draws, {-5.0, 5.0}, 64, 2.0);
  EXPECT_NEAR(wide.bandwidth, 2 * base.bandwidth, 1e-12);
  EXPECT_LT(*std::max_element(wide.density.begin(), wide.density.end()),
            *std::max_element(base.density.begin(), base.density.end()));

  // Draws outside the range and non-finite ones change nothing.
  draws.push_back(100.0);
  draws.push_back(-7.0);
  draws.push_back(NAN);
  const auto filtered = ds::kde_1d(draws, {-5.0, 5.0}, 64);
  EXPECT_EQ(filtered.bandwidth, base.bandwidth);
  EXPECT_EQ(filtered.density, base.density);

  // Identical draws: the bandwidth floor (half an output step here) keeps a finite spike.
  const auto spike = ds::kde_1d(std::vector<double>(10, 0.3), {0.0, 1.0}, 11);
  EXPECT_NEAR(spike.bandwidth, 0.05, 1e-12);
  EXPECT_NEAR(trapezoid(spike.x, spike.density), 1.0, 1e-12);
  EXPECT_EQ(std::max_element(spike.density.begin(), spike.density.end()) - spike.density.begin(),
            3);
}

TEST(Kde1d, RejectsBadInput) {
  const std::vector<double> draws{0.1, 0.2, 0.3};
  EXPECT_THROW(ds::kde_1d({}, {0.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_1d(draws, {1.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_1d(draws, {1.0, 0.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_1d(draws, {0.0, INFINITY}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_1d(draws, {0.0, 1.0}, 1), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_1d(draws, {0.0, 1.0}, 16, 0.0), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_1d(draws, {2.0, 3.0}), ds::InvalidArgument);  // none inside
}

struct CorrelatedDraws {
  std::vector<double> x, y;
};

// x ~ N(0, sx^2), y ~ N(0, sy^2), correlation rho.
CorrelatedDraws correlated(std::size_t n, double sx, double sy, double rho, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  CorrelatedDraws d{std::vector<double>(n), std::vector<double>(n)};
  for (std::size_t k = 0; k < n; ++k) {
    const double a = normal(rng), b = normal(rng);
    d.x[k] = sx * a;
    d.y[k] = sy * (rho * a + std::sqrt(1 - rho * rho) * b);
  }
  return d;
}

// The fraction of N(0, Sigma) draws inside the highest-density region of mass m of the smoothed
// density N(0, Sigma + diag(hx^2, hy^2)): x' S'^-1 x <= -2 ln(1 - m), by Monte Carlo.
double smoothed_region_fraction(double sx, double sy, double rho, double hx, double hy, double m) {
  const double a = sx * sx + hx * hx, c = sy * sy + hy * hy, b = rho * sx * sy;
  const double det = a * c - b * b;
  const double limit = -2 * std::log(1 - m);
  const auto draws = correlated(400000, sx, sy, rho, 99);
  std::size_t inside = 0;
  for (std::size_t k = 0; k < draws.x.size(); ++k) {
    const double x = draws.x[k], y = draws.y[k];
    if ((c * x * x - 2 * b * x * y + a * y * y) / det <= limit) ++inside;
  }
  return double(inside) / double(draws.x.size());
}

TEST(Kde2d, CredibleRegionsHoldTheirFractionOfCorrelatedDraws) {
  const double sx = 1.0, sy = 2.0, rho = 0.6;
  const auto draws = correlated(10000, sx, sy, rho, 7);
  const auto d = ds::kde_2d(draws.x, draws.y, {-5.0, 5.0}, {-10.0, 10.0});
  ASSERT_EQ(d.x.size(), 96u);
  ASSERT_EQ(d.y.size(), 96u);
  ASSERT_EQ(d.density.size(), 96u * 96u);

  // Scott's rule per axis.
  const double scott = std::pow(10000.0, -1.0 / 6.0);
  EXPECT_NEAR(d.bandwidth_x, std::sqrt(variance_of(draws.x)) * scott, 1e-12);
  EXPECT_NEAR(d.bandwidth_y, std::sqrt(variance_of(draws.y)) * scott, 1e-12);

  double integral = 0.0;
  const double cell = (d.x[1] - d.x[0]) * (d.y[1] - d.y[0]);
  for (double v : d.density) integral += v * cell;  // the edges hold ~0: plain sum = trapezoid
  EXPECT_NEAR(integral, 1.0, 1e-6);

  const auto levels = ds::mass_levels(d.density, {0.68, 0.95});
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_GT(levels[0], levels[1]);
  for (int m = 0; m < 2; ++m) {
    const double mass = m == 0 ? 0.68 : 0.95;
    std::size_t inside = 0;
    for (std::size_t k = 0; k < draws.x.size(); ++k)
      if (interpolate(d, draws.x[k], draws.y[k]) >= levels[std::size_t(m)]) ++inside;
    const double fraction = double(inside) / double(draws.x.size());
    // Smoothing widens the regions (variances x 1.046 at n = 10^4): the smoothed Gaussian's
    // region predicts the fraction; both stay near the nominal mass.
    const double predicted =
        smoothed_region_fraction(sx, sy, rho, d.bandwidth_x, d.bandwidth_y, mass);
    EXPECT_NEAR(fraction, predicted, 0.012) << "mass " << mass;
    EXPECT_NEAR(fraction, mass, m == 0 ? 0.03 : 0.015) << "mass " << mass;
    std::printf("kde_2d: %.2f region holds %.4f of the draws (smoothed Gaussian: %.4f)\n", mass,
                fraction, predicted);
  }
}

TEST(Kde2d, ReflectionAtAllEdgesAndSpeed) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> x(20000), y(20000);
  for (std::size_t k = 0; k < x.size(); ++k) {
    x[k] = uniform(rng);
    y[k] = uniform(rng);
  }
  const auto d = ds::kde_2d(x, y, {0.0, 1.0}, {0.0, 1.0});
  const std::size_t n = d.x.size();
  for (std::size_t k : {std::size_t(0), n - 1, n * (n - 1), n * n - 1})
    EXPECT_NEAR(d.density[k], 1.0, 0.1) << "corner " << k;
  for (double v : d.density) EXPECT_NEAR(v, 1.0, 0.2);
  const auto leaky = ds::kde_2d(x, y, {0.0, 1.0}, {0.0, 1.0}, 96, 1.0, false);
  EXPECT_NEAR(leaky.density[0], 0.25, 0.06);  // a corner keeps a quarter of the kernel

  // Speed: 10 000 draws on the default 96 x 96 grid (the corner plot recomputes on every change).
  const auto g = correlated(10000, 1.0, 1.0, 0.5, 8);
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto e = ds::kde_2d(g.x, g.y, {-5.0, 5.0}, {-5.0, 5.0});
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, ms);
    ASSERT_EQ(e.density.size(), 96u * 96u);
  }
  std::printf("kde_2d: 10000 draws, 96 x 96: %.2f ms (best of 5)\n", best);
  RecordProperty("kde_2d_ms", std::to_string(best));
  EXPECT_LT(best, 200.0);  // loose: the target is < 20 ms; this only catches a blow-up
}

TEST(Kde2d, RejectsBadInput) {
  const std::vector<double> x{0.1, 0.2}, y{0.1, 0.2};
  EXPECT_THROW(ds::kde_2d(x, {0.1}, {0.0, 1.0}, {0.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_2d({}, {}, {0.0, 1.0}, {0.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_2d(x, y, {0.0, 1.0}, {1.0, 0.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_2d(x, y, {0.0, 1.0}, {0.0, 1.0}, 1), ds::InvalidArgument);
  EXPECT_THROW(ds::kde_2d(x, y, {0.0, 1.0}, {0.5, 1.0}), ds::InvalidArgument);  // none inside
}

TEST(MassLevels, GaussianMapLevelsSitAtDeltaChi2) {
  // An elliptical Gaussian on a fine grid: the highest-density region of mass m is
  // chi^2 <= -2 ln(1 - m), so its level is exp(-chi^2 / 2) of the peak (2.30 -> 0.317 for 68%).
  const std::size_t n = 201;
  const double rho = 0.3;
  std::vector<double> map(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      // Coordinates in units of each axis' sd, +-5 sd.
      const double u = -5.0 + 10.0 * double(j) / double(n - 1);
      const double v = -5.0 + 10.0 * double(i) / double(n - 1);
      map[i * n + j] = 3.0 * std::exp(-(u * u - 2 * rho * u * v + v * v) / (2 * (1 - rho * rho)));
    }
  }
  const double peak = 3.0;
  const auto levels = ds::mass_levels(map, {0.95, 0.68});  // order kept
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_NEAR(levels[1] / peak, std::exp(-2.30 / 2), 0.03 * std::exp(-2.30 / 2));
  EXPECT_NEAR(levels[1] / peak, 0.32, 0.01 * 0.32);  // exact: 1 - 0.68
  EXPECT_NEAR(levels[0] / peak, 0.05, 0.02 * 0.05);  // exp(-5.99 / 2)

  double total = 0.0, max_cell = 0.0;
  for (double v : map) {
    total += v;
    max_cell = std::max(max_cell, v);
  }
  for (int m = 0; m < 2; ++m) {
    const double mass = m == 0 ? 0.95 : 0.68;
    double held = 0.0;
    for (double v : map)
      if (v >= levels[std::size_t(m)]) held += v;
    EXPECT_GE(held / total, mass);
    EXPECT_LT(held / total, mass + 2 * max_cell / total);  // overshoot by at most the tied cells
  }

  // NaN, negative and zero cells hold no mass.
  auto holed = map;
  holed[0] = NAN;
  holed[1] = -1.0;
  holed[2] = INFINITY;
  const auto again = ds::mass_levels(holed, {0.95, 0.68});
  EXPECT_NEAR(again[0], levels[0], 1e-3 * levels[0]);
  EXPECT_EQ(again[1], levels[1]);
}

TEST(MassLevels, SmallExampleAndErrors) {
  // Masses 4, 3, 2, 1 (total 10): 40% needs the first cell, 50% the first two, 95% all four.
  const std::vector<double> cells{2.0, 4.0, 1.0, NAN, 3.0};
  const auto levels = ds::mass_levels(cells, {0.4, 0.5, 0.7, 0.95});
  EXPECT_EQ(levels, (std::vector<double>{4.0, 3.0, 3.0, 1.0}));
  EXPECT_THROW(ds::mass_levels(cells, {0.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::mass_levels(cells, {1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::mass_levels(cells, {NAN}), ds::InvalidArgument);
  EXPECT_THROW(ds::mass_levels({0.0, NAN, -2.0}, {0.68}), ds::InvalidArgument);
}

TEST(GridPosterior, NormalisesLargeLogLikelihoodsAndZeroesNonFinite) {
  std::vector<double> log_like(50 * 50);
  for (std::size_t i = 0; i < 50; ++i)
    for (std::size_t j = 0; j < 50; ++j) {
      const double u = (double(j) - 20.0) / 5.0, v = (double(i) - 30.0) / 8.0;
      log_like[i * 50 + j] = -1.0e5 - 0.5 * (u * u + v * v);  // exp() alone underflows
    }
  log_like[0] = NAN;
  log_like[1] = -INFINITY;
  log_like[2] = INFINITY;
  const auto p = ds::normalised_grid_posterior(log_like);
  ASSERT_EQ(p.size(), log_like.size());
  double sum = 0.0;
  for (double v : p) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(p[0], 0.0);
  EXPECT_EQ(p[1], 0.0);
  EXPECT_EQ(p[2], 0.0);
  // Ratios are likelihood ratios.
  EXPECT_NEAR(p[30 * 50 + 25] / p[30 * 50 + 20], std::exp(-0.5), 1e-12);
  EXPECT_THROW(ds::normalised_grid_posterior({NAN, -INFINITY}), ds::InvalidArgument);
}

TEST(RankHistograms, FlatForIdenticalChainsSkewedForAShiftedOne) {
  const std::size_t chains = 4, draws = 2000;
  const int bins = 20;
  auto values = normal_draws(chains * draws, 13);
  auto counts = ds::rank_histograms(values, chains, draws, bins);
  ASSERT_EQ(counts.size(), chains * std::size_t(bins));
  const double expected = double(draws) / bins;  // 100
  double chi2 = 0.0;
  for (std::size_t c = 0; c < chains; ++c) {
    double row = 0.0;
    for (int b = 0; b < bins; ++b) {
      const double v = counts[c * std::size_t(bins) + std::size_t(b)];
      row += v;
      chi2 += (v - expected) * (v - expected) / expected;
      EXPECT_NEAR(v, expected, 45.0) << "chain " << c << " bin " << b;
    }
    EXPECT_EQ(row, double(draws));
  }
  // 76 degrees of freedom: chi^2 < 130 fails with probability ~1e-4.
  EXPECT_LT(chi2, 130.0);

  // Chain 3 shifted by one sd: its ranks pile up high. Against the pooled mixture
  // 3/4 N(0, 1) + 1/4 N(1, 1), it puts 14% of its draws in the top 5% of ranks (2.85 x flat) and
  // 0.6% in the bottom 5% (0.12 x flat).
  for (std::size_t d = 0; d < draws; ++d) values[3 * draws + d] += 1.0;
  counts = ds::rank_histograms(values, chains, draws, bins);
  const double low = counts[3 * bins + 0], high = counts[3 * bins + bins - 1];
  EXPECT_GT(high, 2.5 * expected);
  EXPECT_LT(low, 0.3 * expected);
}

TEST(RankHistograms, ExactSmallCasesAndErrors) {
  // Ranks 1..4 over [0, 4] in 2 bins [0, 2), [2, 4] (numpy.histogram edges).
  EXPECT_EQ(ds::rank_histograms({1.0, 2.0, 3.0, 4.0}, 2, 2, 2), (std::vector<double>{1, 1, 0, 2}));
  // Ties share the average rank: all equal -> rank (N + 1) / 2 -> the middle bin for everyone.
  const auto tied = ds::rank_histograms(std::vector<double>(12, 0.5), 3, 4, 4);
  EXPECT_EQ(tied, (std::vector<double>{0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0}));
  EXPECT_THROW(ds::rank_histograms({1.0, 2.0, 3.0}, 2, 2), ds::InvalidArgument);
  EXPECT_THROW(ds::rank_histograms({}, 0, 0), ds::InvalidArgument);
  EXPECT_THROW(ds::rank_histograms({1.0, 2.0}, 1, 2, 0), ds::InvalidArgument);
  EXPECT_THROW(ds::rank_histograms({1.0, NAN}, 1, 2), ds::InvalidArgument);
}

}  // namespace
