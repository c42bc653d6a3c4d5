#include "diffuscope/stats/pairwise_velocity.h"

#include <algorithm>
#include <cmath>

#include "diffuscope/error.h"
#include "numerics/parallel.h"
#include "stats/pair_search.h"

namespace ds {

PairwiseVelocity pairwise_velocity(const PointCloud& points,
                                   const std::vector<std::array<double, 3>>& velocities,
                                   const std::vector<double>& edges,
                                   const PointStatisticsOptions& options) {
  const auto positions = positions_in_box(points, "v12", options.warn);
  const auto squared = detail::squared_pair_edges(edges, points.box_size, "v12");
  if (velocities.size() != positions.size())
    throw InvalidArgument("v12: " + std::to_string(velocities.size()) + " velocities for " +
                          std::to_string(positions.size()) + " points");
  for (std::size_t i = 0; i < velocities.size(); ++i)
    for (double v : velocities[i])
      if (!std::isfinite(v))
        throw InvalidArgument("v12: point " + std::to_string(i) + " has a non-finite velocity");
  const detail::PeriodicPairSearch search(positions, points.box_size, edges.back());
  const std::size_t bins = edges.size() - 1;

  struct Sums {
    std::vector<std::int64_t> count;
    std::vector<double> radial;
  };
  std::vector<Sums> per_chunk(search.chunk_count(), Sums{std::vector<std::int64_t>(bins, 0),
                                                         std::vector<double>(bins, 0.0)});
  detail::parallel_for(
      search.chunk_count(), detail::resolve_threads(options.threads), [&](std::size_t chunk) {
        auto& sums = per_chunk[chunk];
        search.visit_chunk(chunk, [&](std::uint32_t i, std::uint32_t j, double dx, double dy,
                                      double dz, double r2) {
          if (r2 < squared.front() || r2 == 0.0) return;
          const std::size_t b =
              std::size_t(std::upper_bound(squared.begin(), squared.end(), r2) - squared.begin()) -
              1;
          const auto& vi = velocities[i];
          const auto& vj = velocities[j];
          const double radial =
              ((vj[0] - vi[0]) * dx + (vj[1] - vi[1]) * dy + (vj[2] - vi[2]) * dz) / std::sqrt(r2);
          ++sums.count[b];
          sums.radial[b] += radial;
        });
      });

  PairwiseVelocity out;
  for (std::size_t b = 0; b < bins; ++b) {
    std::int64_t count = 0;
    double radial = 0.0;
    for (const auto& sums : per_chunk) {  // chunk order: independent of the thread count
      count += sums.count[b];
      radial += sums.radial[b];
    }
    out.r_lo.push_back(edges[b]);
    out.r_hi.push_back(edges[b + 1]);
    out.npairs.push_back(count);
    out.v12.push_back(count > 0 ? radial / double(count) : std::nan(""));
  }
  return out;
}

}  // namespace ds
