// Mean pairwise radial velocity v12(r) of points in a periodic cube.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/stats/periodic_box.h"

namespace ds {

struct PairwiseVelocity {
  std::vector<double> r_lo, r_hi;    // Mpc/h
  std::vector<std::int64_t> npairs;  // ordered pairs in [r_lo, r_hi)
  std::vector<double> v12;           // km/s; NaN for a bin without pairs
};

// v12(r) = < (v_j - v_i) . (x_j - x_i) / |x_j - x_i| > over pairs with separation in the bin,
// minimum image: negative when pairs approach each other (infall), positive when they recede.
// velocities (km/s) match points one to one. Pairs at zero separation have no direction and are
// skipped. Edges as for two_point_correlation. Deterministic for any thread count.
PairwiseVelocity pairwise_velocity(const PointCloud& points,
                                   const std::vector<std::array<double, 3>>& velocities,
                                   const std::vector<double>& edges,
                                   const PointStatisticsOptions& options = {});

}  // namespace ds
