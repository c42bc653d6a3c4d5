// Periodic k nearest neighbours (nets/periodic_knn.h): the KD-tree search with periodic images
// agrees with the exhaustive minimum-image search near faces and corners, for k = 1 and k = n,
// for clouds so small or clustered that the image margin must grow, and for any thread count.
#include "nets/periodic_knn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "diffuscope/error.h"

namespace {

using ds::nets::periodic_knn;
using ds::nets::periodic_knn_brute_force;

std::vector<float> uniform_clouds(int batch, int n, double box, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, float(box));
  std::vector<float> out(std::size_t(batch) * n * 3);
  for (auto& x : out) x = u(rng);
  return out;
}

TEST(PeriodicKnn, FindsNeighboursAcrossFacesAndCorners) {
  // Box 10: (0.1, 0.1, 0.1) and (9.9, 9.9, 9.9) are 0.2 sqrt(3) apart through the corner; the
  // point at (9.5, 0.2, 0.1) is 0.61 from the first through the x face and 0.54 from the
  // third; (5, 5, 5) is far from all (float rounding puts the third nearer to it than the first).
  const std::vector<float> p = {0.1f, 0.1f, 0.1f, 5, 5, 5, 9.9f, 9.9f, 9.9f, 9.5f, 0.2f, 0.1f};
  const auto idx = periodic_knn(p.data(), 1, 4, 3, 10.0, 1);
  EXPECT_EQ(idx, (std::vector<std::int64_t>{0, 2, 3, 1, 3, 2, 2, 0, 3, 3, 2, 0}));
  EXPECT_EQ(idx, periodic_knn_brute_force(p.data(), 1, 4, 3, 10.0));
}

TEST(PeriodicKnn, WrapsPositionsOutsideTheBox) {
  const double box = 100;
  auto inside = uniform_clouds(2, 60, box, 3);
  auto outside = inside;
  for (std::size_t i = 0; i < outside.size(); ++i) outside[i] += float(box) * float(int(i % 5) - 2);
  EXPECT_EQ(periodic_knn(inside.data(), 2, 60, 6, box),
            periodic_knn(outside.data(), 2, 60, 6, box));
}

TEST(PeriodicKnn, MatchesBruteForceOnRandomClouds) {
  const double box = 1000;
  for (int n : {2, 5, 17, 64, 200}) {
    const auto p = uniform_clouds(3, n, box, unsigned(n));
    for (int k : {1, std::min(n, 8), n}) {
      const auto fast = periodic_knn(p.data(), 3, n, k, box, 2);
      EXPECT_EQ(fast, periodic_knn_brute_force(p.data(), 3, n, k, box)) << "n=" << n << " k=" << k;
      for (int b = 0; b < 3; ++b)
        for (int i = 0; i < n; ++i) EXPECT_EQ(fast[(std::size_t(b) * n + i) * k], i);
    }
  }
}

TEST(PeriodicKnn, MatchesBruteForceForPointsNearFaces) {
  // Every coordinate within 2% of a face: most neighbours are periodic images.
  const double box = 50;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int n = 150;
  std::vector<float> p(2 * n * 3);
  for (auto& x : p) {
    const float d = u(rng);
    x = d < 0 ? float(box) + d : d;
  }
  EXPECT_EQ(periodic_knn(p.data(), 2, n, 8, box), periodic_knn_brute_force(p.data(), 2, n, 8, box));
}

TEST(PeriodicKnn, GrowsTheMarginForIsolatedPoints) {
  // A tight cluster and a few isolated points: the isolated points' k-th neighbours lie far
  // beyond the margin estimated from the mean density.
  const double box = 1000;
  std::mt19937 rng(5);
  std::normal_distribution<float> cluster(0.0f, 3.0f);
  const int n = 120;
  std::vector<float> p(n * 3);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) p[i * 3 + d] = i < 110 ? 2.0f + cluster(rng) : 100.0f * (i - 108);
  for (int k : {4, 12, 60})
    EXPECT_EQ(periodic_knn(p.data(), 1, n, k, box),
              periodic_knn_brute_force(p.data(), 1, n, k, box))
        << "k=" << k;
}

TEST(PeriodicKnn, PutsItselfFirstAndBreaksTiesByIndex) {
  // Points 0, 1, 2 coincide; 3 and 4 are at equal distance from them on either side.
  const std::vector<float> p = {5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 5, 5, 4, 5, 5};
  const auto idx = periodic_knn(p.data(), 1, 5, 5, 10.0);
  EXPECT_EQ(std::vector<std::int64_t>(idx.begin(), idx.begin() + 15),
            (std::vector<std::int64_t>{0, 1, 2, 3, 4, 1, 0, 2, 3, 4, 2, 0, 1, 3, 4}));
  EXPECT_EQ(idx, periodic_knn_brute_force(p.data(), 1, 5, 5, 10.0));
}

TEST(PeriodicKnn, DoesNotDependOnTheThreadCount) {
  for (int batch : {1, 5}) {
    const int n = 700;
    const auto p = uniform_clouds(batch, n, 1000, 17);
    const auto one = periodic_knn(p.data(), batch, n, 10, 1000, 1);
    for (int threads : {2, 3, 8})
      EXPECT_EQ(one, periodic_knn(p.data(), batch, n, 10, 1000, threads));
    EXPECT_EQ(one, periodic_knn_brute_force(p.data(), batch, n, 10, 1000));
  }
}

TEST(PeriodicKnn, RejectsBadArguments) {
  const auto p = uniform_clouds(1, 4, 1, 1);
  EXPECT_THROW(periodic_knn(p.data(), 1, 4, 0, 1.0), ds::InvalidArgument);
  EXPECT_THROW(periodic_knn(p.data(), 1, 4, 5, 1.0), ds::InvalidArgument);
  EXPECT_THROW(periodic_knn(p.data(), 1, 4, 2, 0.0), ds::InvalidArgument);
  auto bad = p;
  bad[5] = std::nanf("");
  EXPECT_THROW(periodic_knn(bad.data(), 1, 4, 2, 1.0), ds::InvalidArgument);
}

}  // namespace
