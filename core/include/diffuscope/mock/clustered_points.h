// Clustered point sets in a periodic box: a Thomas process (Poisson centres, Gaussian offspring),
// the simplest point process with a known, non-trivial two-point function.
#pragma once

#include <cstdint>

#include "diffuscope/data/field.h"

namespace ds {

struct ThomasProcessSettings {
  int points = 5000;
  int clusters = 200;
  double scatter = 10.0;     // Mpc/h, standard deviation per axis around a centre
  double box_size = 1000.0;  // Mpc/h
};

// Each point picks a centre uniformly at random and is displaced by N(0, scatter^2) per axis,
// then wrapped into [0, box_size).
PointCloud thomas_point_process(const ThomasProcessSettings& settings, std::uint64_t seed);

}  // namespace ds
