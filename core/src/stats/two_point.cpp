#include "diffuscope/stats/two_point.h"

#include <algorithm>
#include <cmath>

#include "diffuscope/error.h"
#include "numerics/parallel.h"
#include "stats/pair_search.h"

namespace ds {

TwoPointCorrelation two_point_correlation(const PointCloud& points,
                                          const std::vector<double>& edges,
                                          const PointStatisticsOptions& options) {
  const auto positions = positions_in_box(points, "tpcf", options.warn);
  const auto squared = detail::squared_pair_edges(edges, points.box_size, "tpcf");
  const detail::PeriodicPairSearch search(positions, points.box_size, edges.back());
  const std::size_t bins = edges.size() - 1;

  std::vector<std::vector<std::int64_t>> per_chunk(search.chunk_count(),
                                                   std::vector<std::int64_t>(bins, 0));
  detail::parallel_for(
      search.chunk_count(), detail::resolve_threads(options.threads), [&](std::size_t chunk) {
        auto& counts = per_chunk[chunk];
        search.visit_chunk(chunk, [&](std::uint32_t, std::uint32_t, double, double, double,
                                      double r2) {
          if (r2 < squared.front()) return;
          // Last squared edge <= r2 (r2 < last edge^2 already holds).
          const std::size_t b =
              std::size_t(std::upper_bound(squared.begin(), squared.end(), r2) - squared.begin()) -
              1;
          ++counts[b];
        });
      });

  TwoPointCorrelation out;
  const double n = double(positions.size());
  const double volume = std::pow(points.box_size, 3);
  for (std::size_t b = 0; b < bins; ++b) {
    std::int64_t total = 0;
    for (const auto& counts : per_chunk) total += counts[b];
    const double lo = edges[b], hi = edges[b + 1];
    const double rr = n * (n - 1.0) / volume * 4.0 * M_PI / 3.0 * (hi * hi * hi - lo * lo * lo);
    out.r_lo.push_back(lo);
    out.r_hi.push_back(hi);
    out.npairs.push_back(total);
    out.xi.push_back(rr > 0.0 ? double(total) / rr - 1.0 : std::nan(""));
  }
  return out;
}

}  // namespace ds
