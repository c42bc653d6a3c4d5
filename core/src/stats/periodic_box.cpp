#include "diffuscope/stats/periodic_box.h"

#include <cmath>

#include "diffuscope/error.h"
#include "stats/stats_util.h"

namespace ds {

std::vector<std::array<double, 3>> positions_in_box(const PointCloud& points,
                                                    const std::string& what,
                                                    const WarningCallback& warn) {
  const double box = points.box_size;
  if (!(box > 0.0) || !std::isfinite(box))
    throw InvalidArgument(what + ": box size must be positive and finite (got " +
                          detail::format_number(box) + ")");
  if (points.positions.empty()) throw InvalidArgument(what + ": the point set is empty");
  std::vector<std::array<double, 3>> out(points.positions.size());
  std::size_t wrapped = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    bool outside = false;
    for (int a = 0; a < 3; ++a) {
      double x = points.positions[i][std::size_t(a)];
      if (!std::isfinite(x))
        throw InvalidArgument(what + ": point " + std::to_string(i) +
                              " has a non-finite coordinate");
      if (x < 0.0 || x >= box) {
        outside = true;
        x -= box * std::floor(x / box);
        if (x >= box) x = 0.0;  // -tiny wraps to box - tiny, which can round to box
      }
      out[i][std::size_t(a)] = x;
    }
    wrapped += outside;
  }
  if (wrapped && warn)
    warn(what + ": " + std::to_string(wrapped) + " of " + std::to_string(out.size()) +
         " points lay outside [0, " + detail::format_number(box) +
         ")^3 and were wrapped into the box");
  return out;
}

}  // namespace ds
