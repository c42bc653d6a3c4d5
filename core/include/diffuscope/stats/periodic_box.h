// Shared plumbing of the point-set statistics (pk3d, tpcf, knn, v12): checking positions in a
// periodic cube, wrapping strays, options for threads and warnings.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "diffuscope/data/field.h"

namespace ds {

// Receives one-line warnings (e.g. points wrapped into the box). The CLI prints them on stderr,
// the GUI shows them in its log, tests capture them.
using WarningCallback = std::function<void(const std::string&)>;

struct PointStatisticsOptions {
  // Worker threads for the pair and neighbour searches; 0 = ds::thread_count(). Results are
  // identical for every thread count (integer counts; sums combined in a fixed order).
  int threads = 0;
  WarningCallback warn;
};

// The positions of `points` in [0, box_size)^3 (Mpc/h). Throws InvalidArgument naming `what`
// for an empty set, a non-positive box or a NaN/Inf coordinate (naming the point). Points outside
// the box are wrapped periodically and reported with a single warning that counts them.
std::vector<std::array<double, 3>> positions_in_box(const PointCloud& points,
                                                    const std::string& what,
                                                    const WarningCallback& warn);

}  // namespace ds
