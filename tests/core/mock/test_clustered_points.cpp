#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "diffuscope/mock/clustered_points.h"

namespace {
double mean_nearest_neighbour_distance(const ds::PointCloud& c) {
  const double L = c.box_size;
  double total = 0;
  for (std::size_t i = 0; i < c.positions.size(); ++i) {
    double best = std::numeric_limits<double>::max();
    for (std::size_t j = 0; j < c.positions.size(); ++j) {
      if (i == j) continue;
      double d2 = 0;
      for (int a = 0; a < 3; ++a) {
        double d = std::abs(c.positions[i][a] - c.positions[j][a]);
        d = std::min(d, L - d);
        d2 += d * d;
      }
      best = std::min(best, d2);
    }
    total += std::sqrt(best);
  }
  return total / c.positions.size();
}
}  // namespace

TEST(ThomasProcess, PointsLieInTheBoxAndAreClustered) {
  ds::ThomasProcessSettings s;
  s.points = 1500;
  s.clusters = 30;
  s.scatter = 2.0;
  s.box_size = 100.0;
  const auto cloud = ds::thomas_point_process(s, 9);
  ASSERT_EQ(cloud.positions.size(), 1500u);
  for (const auto& p : cloud.positions)
    for (double x : p) {
      EXPECT_GE(x, 0.0);
      EXPECT_LT(x, 100.0);
    }
  // Poisson expectation of the nearest-neighbour distance: Gamma(4/3) (4 pi n / 3)^(-1/3).
  const double density = 1500 / 1e6;
  const double poisson = std::tgamma(4.0 / 3.0) * std::pow(4.0 * M_PI * density / 3.0, -1.0 / 3.0);
  EXPECT_LT(mean_nearest_neighbour_distance(cloud), 0.5 * poisson);
}

TEST(ThomasProcess, SeedDeterminesTheCloud) {
  ds::ThomasProcessSettings s;
  s.points = 200;
  const auto a = ds::thomas_point_process(s, 1), b = ds::thomas_point_process(s, 1),
             c = ds::thomas_point_process(s, 2);
  EXPECT_EQ(a.positions, b.positions);
  EXPECT_NE(a.positions, c.positions);
}
