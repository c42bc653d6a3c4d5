// 2PCF: exact agreement with brute-force minimum-image pair counts, xi of a Poisson set
// consistent with zero, wrapping and bad input. The Corrfunc golden is in test_stats_golden.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/two_point.h"

namespace {

ds::PointCloud uniform_points(std::size_t n, double box, std::uint64_t seed) {
  ds::Rng rng(seed);
  ds::PointCloud points{box, std::vector<std::array<double, 3>>(n)};
  for (auto& x : points.positions)
    for (double& v : x) v = rng.uniform(0.0, box);
  return points;
}

// O(N^2) reference: ordered pairs, minimum image, squared comparison.
std::vector<std::int64_t> brute_force_counts(const ds::PointCloud& p,
                                             const std::vector<double>& edges) {
  std::vector<std::int64_t> counts(edges.size() - 1, 0);
  const double box = p.box_size;
  for (std::size_t i = 0; i < p.positions.size(); ++i)
    for (std::size_t j = 0; j < p.positions.size(); ++j) {
      if (i == j) continue;
      double r2 = 0.0;
      for (int a = 0; a < 3; ++a) {
        double d = p.positions[j][a] - p.positions[i][a];
        if (d > box / 2) d -= box;
        if (d < -box / 2) d += box;
        r2 += d * d;
      }
      for (std::size_t b = 0; b + 1 < edges.size(); ++b)
        if (r2 >= edges[b] * edges[b] && r2 < edges[b + 1] * edges[b + 1]) ++counts[b];
    }
  return counts;
}

}  // namespace

TEST(TwoPoint, CountsEqualBruteForceForAnyCellGeometry) {
  // Last edges from small (many cells) to box/2 (two cells per side, where the -1 and +1
  // neighbours coincide) and near box/2 with few points (one cell).
  const auto points = uniform_points(700, 10.0, 1);
  for (const auto& edges : std::vector<std::vector<double>>{
           {0.0, 0.3, 0.7, 1.0}, {0.5, 2.0, 3.3}, {0.0, 1.0, 2.5, 4.0, 5.0}}) {
    const auto xi = ds::two_point_correlation(points, edges);
    EXPECT_EQ(xi.npairs, brute_force_counts(points, edges)) << "last edge " << edges.back();
  }
  const auto few = uniform_points(5, 10.0, 2);
  EXPECT_EQ(ds::two_point_correlation(few, {0.0, 4.9}).npairs, brute_force_counts(few, {0.0, 4.9}));
}

TEST(TwoPoint, PoissonSetHasXiConsistentWithZero) {
  // Uniform points: xi = 0. Ordered pairs are twice the unordered ones, whose count is Poisson
  // with mean RR/2, so sigma_xi = sqrt(2 / RR) and sum (xi / sigma)^2 ~ chi^2(bins).
  const auto points = uniform_points(20000, 1000.0, 3);
  std::vector<double> edges;
  for (int i = 0; i <= 20; ++i) edges.push_back(5.0 + 5.0 * i);
  const auto xi = ds::two_point_correlation(points, edges);
  const double n = 20000.0;
  double chi2 = 0.0;
  for (std::size_t b = 0; b < xi.xi.size(); ++b) {
    const double rr =
        n * (n - 1) / 1e9 * 4 * M_PI / 3 * (std::pow(edges[b + 1], 3) - std::pow(edges[b], 3));
    EXPECT_NEAR(double(xi.npairs[b]) / rr - 1.0, xi.xi[b], 1e-12);
    chi2 += xi.xi[b] * xi.xi[b] / (2.0 / rr);
  }
  std::printf("Poisson xi: chi2 = %.1f for %zu bins\n", chi2, xi.xi.size());
  EXPECT_LT(chi2, 20.0 + 5.0 * std::sqrt(40.0));
  EXPECT_GT(chi2, 2.0);  // chi^2(20) below 2 has probability ~1e-7: errors not overestimated
}

TEST(TwoPoint, ThreadCountDoesNotChangeTheResult) {
  const auto points = uniform_points(3000, 500.0, 4);
  const std::vector<double> edges{1.0, 10.0, 50.0, 120.0};
  ds::PointStatisticsOptions one, many;
  one.threads = 1;
  many.threads = 5;
  EXPECT_EQ(ds::two_point_correlation(points, edges, one).npairs,
            ds::two_point_correlation(points, edges, many).npairs);
}

TEST(TwoPoint, PointsOutsideTheBoxAreWrappedWithOneWarning) {
  auto points = uniform_points(300, 10.0, 5);
  const auto reference = ds::two_point_correlation(points, {0.0, 1.0, 2.0});
  points.positions[3][0] += 10.0;
  points.positions[7][2] -= 20.0;
  std::vector<std::string> warnings;
  ds::PointStatisticsOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  const auto wrapped = ds::two_point_correlation(points, {0.0, 1.0, 2.0}, options);
  EXPECT_EQ(wrapped.npairs, reference.npairs);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("tpcf: 2 of 300 points lay outside [0, 10)^3"), std::string::npos)
      << warnings[0];
}

TEST(TwoPoint, BadInputIsRejectedWithAReason) {
  const auto points = uniform_points(10, 10.0, 6);
  EXPECT_THROW(ds::two_point_correlation(points, {1.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::two_point_correlation(points, {2.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::two_point_correlation(points, {-1.0, 1.0}), ds::InvalidArgument);
  EXPECT_THROW(ds::two_point_correlation(points, {1.0}), ds::InvalidArgument);
  try {
    ds::two_point_correlation(points, {1.0, 6.0});
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds half the box (5)"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ds::two_point_correlation(ds::PointCloud{10.0, {}}, {0.0, 1.0}),
               ds::InvalidArgument);
  auto bad = points;
  bad.positions[4][1] = INFINITY;
  try {
    ds::two_point_correlation(bad, {0.0, 1.0});
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("point 4"), std::string::npos) << e.what();
  }
  bad.box_size = 0.0;
  EXPECT_THROW(ds::two_point_correlation(bad, {0.0, 1.0}), ds::InvalidArgument);
}
