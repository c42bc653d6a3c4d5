// Two-point correlation function xi(r) of points in a periodic cube: pair counts with the
// minimum image and the natural estimator with analytic randoms, in Corrfunc's conventions.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/stats/periodic_box.h"

namespace ds {

struct TwoPointCorrelation {
  std::vector<double> r_lo, r_hi;    // Mpc/h
  std::vector<std::int64_t> npairs;  // ORDERED pairs (each pair twice), r_lo <= r < r_hi
  std::vector<double> xi;            // npairs / RR - 1
};

// Counts like Corrfunc's theory/DD in autocorrelation mode (comparing r^2 with squared edges)
// and sets RR = N (N - 1) / L^3 * 4 pi / 3 (r_hi^3 - r_lo^3). Edges (Mpc/h) strictly increasing,
// >= 0, with the last <= L/2; self pairs are never counted. O(N n r_max^3) with a cell list.
// Throws InvalidArgument for bad edges, an empty set, NaN/Inf; strays are wrapped (options.warn).
TwoPointCorrelation two_point_correlation(const PointCloud& points,
                                          const std::vector<double>& edges,
                                          const PointStatisticsOptions& options = {});

}  // namespace ds
