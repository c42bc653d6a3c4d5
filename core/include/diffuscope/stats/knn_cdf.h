// k-nearest-neighbour CDFs (Banerjee & Abel 2021) of points in a periodic cube: the distribution
// of the distance from query points to their k-th nearest data point, for several k at once.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/stats/periodic_box.h"

namespace ds {

// Distances (Mpc/h) from every query to its k-th nearest data point, periodic (minimum image),
// computed in double: distances[q * ks.size() + i] for ks[i].
struct KnnDistances {
  std::vector<int> ks;
  std::size_t queries = 0;
  std::vector<double> distances;
  double at(std::size_t query, std::size_t k_index) const {
    return distances[query * ks.size() + k_index];
  }
};

// Exact k-NN with a nanoflann KD-tree over the points plus their periodic images near the faces;
// a query whose k-th neighbour lies beyond that margin (a deep void) is searched exhaustively.
// ks: positive, at most the number of points, else InvalidArgument. Queries outside the box are
// wrapped (one warning). Queries are split over options.threads; results do not depend on it.
KnnDistances knn_distances(const PointCloud& points,
                           const std::vector<std::array<double, 3>>& queries,
                           const std::vector<int>& ks, const PointStatisticsOptions& options = {});

// `count` query points uniform in [0, box_size)^3 from ds::Rng(seed): x, y, z of each in turn.
std::vector<std::array<double, 3>> uniform_queries(std::size_t count, double box_size,
                                                   std::uint64_t seed);

// Empirical CDFs on the radii r (Mpc/h, strictly increasing): cdf[i][j] = #(d_k <= r_j) / Nq for
// k = ks[i].
std::vector<std::vector<double>> knn_cdf(const KnnDistances& distances,
                                         const std::vector<double>& r);

// min(F, 1 - F), which shows both tails of a CDF on a log axis.
std::vector<double> peaked_cdf(const std::vector<double>& cdf);

// Poisson expectation for number density n ((Mpc/h)^-3):
// F_k(r) = 1 - sum_{j<k} exp(-n V) (n V)^j / j!, V = 4/3 pi r^3.
std::vector<double> poisson_knn_cdf(int k, const std::vector<double>& r, double number_density);

}  // namespace ds
