// kNN-CDFs: exact agreement with brute force (including deep voids beyond the periodic margin),
// a Poisson set against its analytic expectation, and bad input. The scipy golden is in
// test_stats_golden.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/knn_cdf.h"

namespace {

ds::PointCloud uniform_points(std::size_t n, double box, std::uint64_t seed) {
  return ds::PointCloud{box, ds::uniform_queries(n, box, seed)};
}

// Sorted minimum-image distances from x to all points.
std::vector<double> brute_force(const ds::PointCloud& p, const std::array<double, 3>& x) {
  std::vector<double> d;
  for (const auto& y : p.positions) {
    double r2 = 0.0;
    for (int a = 0; a < 3; ++a) {
      double s = x[a] - y[a];
      if (s > p.box_size / 2) s -= p.box_size;
      if (s < -p.box_size / 2) s += p.box_size;
      r2 += s * s;
    }
    d.push_back(std::sqrt(r2));
  }
  std::sort(d.begin(), d.end());
  return d;
}

void expect_brute_force(const ds::PointCloud& points,
                        const std::vector<std::array<double, 3>>& queries,
                        const std::vector<int>& ks) {
  const auto d = ds::knn_distances(points, queries, ks);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto all = brute_force(points, queries[q]);
    for (std::size_t i = 0; i < ks.size(); ++i)
      ASSERT_NEAR(d.at(q, i), all[ks[i] - 1], 1e-12) << "query " << q << " k " << ks[i];
  }
}

}  // namespace

TEST(Knn, DistancesEqualBruteForceWithPeriodicWrap) {
  // A small box, so that most nearest neighbours are across a face.
  const auto points = uniform_points(400, 10.0, 1);
  expect_brute_force(points, ds::uniform_queries(300, 10.0, 2), {1, 2, 7, 30});
  // k equal to the number of points.
  const auto few = uniform_points(9, 10.0, 3);
  expect_brute_force(few, ds::uniform_queries(50, 10.0, 4), {1, 5, 9});
}

TEST(Knn, QueriesInDeepVoidsAreStillExact) {
  // All points in one corner clump: most queries have their neighbours farther than the
  // periodic margin of the tree and take the exhaustive path.
  ds::Rng rng(5);
  ds::PointCloud clump{1000.0, {}};
  for (int i = 0; i < 200; ++i)
    clump.positions.push_back({rng.uniform(0, 20), rng.uniform(980, 1000), rng.uniform(0, 20)});
  expect_brute_force(clump, ds::uniform_queries(200, 1000.0, 6), {1, 5, 9});
}

TEST(Knn, PoissonSetMatchesTheAnalyticCdf) {
  // 16 realisations of 5000 uniform points in (1000 Mpc/h)^3 with 2000 random queries each: the
  // mean empirical CDFs follow F_k(r) = 1 - sum_{j<k} e^{-nV} (nV)^j / j!. Queries of one
  // realisation share its voids, so the error comes from the scatter between realisations.
  const int realisations = 16;
  std::vector<double> r;
  for (int i = 1; i <= 40; ++i) r.push_back(3.0 * i);
  const std::vector<int> ks{1, 5, 9};
  std::vector<std::vector<std::vector<double>>> cdfs;
  for (int s = 0; s < realisations; ++s) {
    const auto points = uniform_points(5000, 1000.0, 100 + s);
    const auto queries = ds::uniform_queries(2000, 1000.0, 200 + s);
    cdfs.push_back(ds::knn_cdf(ds::knn_distances(points, queries, ks), r));
  }
  double worst = 0.0;
  for (std::size_t i = 0; i < ks.size(); ++i) {
    const auto expected = ds::poisson_knn_cdf(ks[i], r, 5000.0 / 1e9);
    for (std::size_t j = 0; j < r.size(); ++j) {
      double mean = 0.0, var = 0.0;
      for (const auto& c : cdfs) mean += c[i][j] / realisations;
      for (const auto& c : cdfs) var += std::pow(c[i][j] - mean, 2) / (realisations - 1);
      // Floor: the binomial error of all queries, for radii where every realisation agrees.
      const double binomial = expected[j] * (1 - expected[j]) / (2000.0 * realisations);
      const double sigma = std::sqrt(std::max(var / realisations, binomial) + 1e-14);
      const double z = (mean - expected[j]) / sigma;
      worst = std::max(worst, std::abs(z));
      EXPECT_LT(std::abs(z), 5.0) << "k " << ks[i] << " r " << r[j] << " got " << mean
                                  << " expected " << expected[j];
    }
  }
  std::printf("Poisson kNN-CDF: worst deviation %.2f sigma over %zu values\n", worst,
              ks.size() * r.size());
}

TEST(Knn, PoissonFormulaPeakedCdfAndQueries) {
  const double n = 1e-3, r = 5.0, v = 4.0 / 3.0 * M_PI * r * r * r;
  EXPECT_NEAR(ds::poisson_knn_cdf(1, {r}, n)[0], 1 - std::exp(-n * v), 1e-15);
  EXPECT_NEAR(ds::poisson_knn_cdf(3, {r}, n)[0],
              1 - std::exp(-n * v) * (1 + n * v + n * v * n * v / 2), 1e-15);
  EXPECT_EQ(ds::poisson_knn_cdf(2, {0.0}, n)[0], 0.0);
  EXPECT_NEAR(ds::poisson_knn_cdf(9, {1e4}, n)[0], 1.0, 1e-15);
  EXPECT_EQ(ds::peaked_cdf({0.1, 0.5, 0.8, 1.0}),
            (std::vector<double>{0.1, 0.5, 0.19999999999999996, 0.0}));
  const auto a = ds::uniform_queries(100, 50.0, 9), b = ds::uniform_queries(100, 50.0, 9);
  EXPECT_EQ(a, b);
  for (const auto& x : a)
    for (double v : x) EXPECT_TRUE(v >= 0.0 && v < 50.0);
  EXPECT_NE(a, ds::uniform_queries(100, 50.0, 10));
}

TEST(Knn, ThreadCountDoesNotChangeTheResult) {
  const auto points = uniform_points(2000, 100.0, 11);
  const auto queries = ds::uniform_queries(3000, 100.0, 12);
  ds::PointStatisticsOptions one, many;
  one.threads = 1;
  many.threads = 4;
  EXPECT_EQ(ds::knn_distances(points, queries, {1, 9}, one).distances,
            ds::knn_distances(points, queries, {1, 9}, many).distances);
}

TEST(Knn, BadInputIsRejectedWithAReason) {
  const auto points = uniform_points(5, 10.0, 13);
  const auto queries = ds::uniform_queries(4, 10.0, 14);
  try {
    ds::knn_distances(points, queries, {1, 6});
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("k = 6 exceeds the number of points (5)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ds::knn_distances(points, queries, {0}), ds::InvalidArgument);
  EXPECT_THROW(ds::knn_distances(points, queries, {}), ds::InvalidArgument);
  EXPECT_THROW(ds::knn_distances(points, {}, {1}), ds::InvalidArgument);
  EXPECT_THROW(ds::knn_distances(ds::PointCloud{10.0, {}}, queries, {1}), ds::InvalidArgument);
  auto bad = queries;
  bad[2][0] = NAN;
  EXPECT_THROW(ds::knn_distances(points, bad, {1}), ds::InvalidArgument);
  const auto d = ds::knn_distances(points, queries, {1});
  EXPECT_THROW(ds::knn_cdf(d, {1.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::knn_cdf(d, {}), ds::InvalidArgument);
  // Queries outside the box are wrapped, with one warning.
  auto outside = queries;
  outside[0][1] += 30.0;
  std::vector<std::string> warnings;
  ds::PointStatisticsOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  EXPECT_EQ(ds::knn_distances(points, outside, {1}, options).distances, d.distances);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("knn queries: 1 of 4 points"), std::string::npos) << warnings[0];
}
