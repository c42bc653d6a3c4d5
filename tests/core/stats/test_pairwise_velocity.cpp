// Mean pairwise velocity: brute-force agreement, a known infall pattern, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/pairwise_velocity.h"

namespace {
struct Catalogue {
  ds::PointCloud points;
  std::vector<std::array<double, 3>> velocities;
};
Catalogue random_catalogue(std::size_t n, double box, std::uint64_t seed) {
  ds::Rng rng(seed);
  Catalogue c{{box, {}}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    c.points.positions.push_back({rng.uniform(0, box), rng.uniform(0, box), rng.uniform(0, box)});
    c.velocities.push_back({300 * rng.normal(), 300 * rng.normal(), 300 * rng.normal()});
  }
  return c;
}
}  // namespace

TEST(PairwiseVelocity, EqualsBruteForceMinimumImageMean) {
  const auto c = random_catalogue(500, 20.0, 1);
  const std::vector<double> edges{0.0, 2.0, 5.0, 10.0};
  const auto v = ds::pairwise_velocity(c.points, c.velocities, edges);
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    double sum = 0.0;
    std::int64_t count = 0;
    for (std::size_t i = 0; i < 500; ++i)
      for (std::size_t j = 0; j < 500; ++j) {
        if (i == j) continue;
        double d[3], r2 = 0.0;
        for (int a = 0; a < 3; ++a) {
          d[a] = c.points.positions[j][a] - c.points.positions[i][a];
          if (d[a] > 10.0) d[a] -= 20.0;
          if (d[a] < -10.0) d[a] += 20.0;
          r2 += d[a] * d[a];
        }
        if (r2 < edges[b] * edges[b] || r2 >= edges[b + 1] * edges[b + 1]) continue;
        double radial = 0.0;
        for (int a = 0; a < 3; ++a) radial += (c.velocities[j][a] - c.velocities[i][a]) * d[a];
        sum += radial / std::sqrt(r2);
        ++count;
      }
    EXPECT_EQ(v.npairs[b], count);
    EXPECT_NEAR(v.v12[b], sum / double(count), 1e-9 * 300) << "bin " << b;
  }
}

TEST(PairwiseVelocity, UniformInfallGivesMinusHTimesSeparation) {
  // v = -H (x - centre) for points in a ball well inside the box: every pair approaches at
  // H r, so v12 lies in [-H r_hi, -H r_lo] in every bin.
  ds::Rng rng(2);
  const double h = 100.0;
  ds::PointCloud points{100.0, {}};
  std::vector<std::array<double, 3>> velocities;
  while (points.positions.size() < 400) {
    std::array<double, 3> x{rng.uniform(-10, 10), rng.uniform(-10, 10), rng.uniform(-10, 10)};
    if (x[0] * x[0] + x[1] * x[1] + x[2] * x[2] > 100) continue;
    velocities.push_back({-h * x[0], -h * x[1], -h * x[2]});
    points.positions.push_back({50 + x[0], 50 + x[1], 50 + x[2]});
  }
  const std::vector<double> edges{0.5, 2.0, 5.0, 10.0, 20.0};
  const auto v = ds::pairwise_velocity(points, velocities, edges);
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    ASSERT_GT(v.npairs[b], 0);
    EXPECT_LE(v.v12[b], -h * edges[b] + 1e-9);
    EXPECT_GE(v.v12[b], -h * edges[b + 1] - 1e-9);
  }
}

TEST(PairwiseVelocity, DeterministicForAnyThreadCountAndNanForEmptyBins) {
  const auto c = random_catalogue(3000, 200.0, 3);
  const std::vector<double> edges{0.0, 0.001, 5.0, 20.0, 60.0};
  ds::PointStatisticsOptions one, many;
  one.threads = 1;
  many.threads = 3;
  const auto a = ds::pairwise_velocity(c.points, c.velocities, edges, one);
  const auto b = ds::pairwise_velocity(c.points, c.velocities, edges, many);
  EXPECT_EQ(a.npairs, b.npairs);
  for (std::size_t i = 1; i < a.v12.size(); ++i) EXPECT_EQ(a.v12[i], b.v12[i]);  // bitwise
  EXPECT_EQ(a.npairs[0], 0);
  EXPECT_TRUE(std::isnan(a.v12[0]));
}

TEST(PairwiseVelocity, BadInputIsRejected) {
  auto c = random_catalogue(10, 20.0, 4);
  c.velocities.pop_back();
  EXPECT_THROW(ds::pairwise_velocity(c.points, c.velocities, {0.0, 1.0}), ds::InvalidArgument);
  c = random_catalogue(10, 20.0, 4);
  c.velocities[3][1] = NAN;
  EXPECT_THROW(ds::pairwise_velocity(c.points, c.velocities, {0.0, 1.0}), ds::InvalidArgument);
  c = random_catalogue(10, 20.0, 4);
  EXPECT_THROW(ds::pairwise_velocity(c.points, c.velocities, {3.0, 1.0}), ds::InvalidArgument);
}
