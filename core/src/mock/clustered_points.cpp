#include "diffuscope/mock/clustered_points.h"

#include <cmath>
#include <string>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

PointCloud thomas_point_process(const ThomasProcessSettings& s, std::uint64_t seed) {
  if (s.points < 1 || s.clusters < 1 || !(s.scatter >= 0.0) || !(s.box_size > 0.0))
    throw InvalidArgument("Thomas process: need points >= 1, clusters >= 1, scatter >= 0, box > 0");
  Rng rng(seed);
  std::vector<std::array<double, 3>> centres(s.clusters);
  for (auto& c : centres)
    for (double& x : c) x = rng.uniform(0.0, s.box_size);
  PointCloud cloud;
  cloud.box_size = s.box_size;
  cloud.positions.resize(s.points);
  for (auto& p : cloud.positions) {
    const auto& c = centres[rng.below(centres.size())];
    for (int a = 0; a < 3; ++a) {
      double x = std::fmod(c[a] + s.scatter * rng.normal(), s.box_size);
      if (x < 0.0) x += s.box_size;
      if (x >= s.box_size) x = 0.0;  // fmod of a tiny negative can round up to box_size
      p[a] = x;
    }
  }
  return cloud;
}

}  // namespace ds
