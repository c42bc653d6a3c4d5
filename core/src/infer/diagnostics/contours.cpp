#include "diffuscope/infer/diagnostics/contours.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "diffuscope/error.h"

namespace ds {

namespace {

// A crossing point is named by the grid edge it lies on, so two cells that share an edge produce
// the same id (and bit-identical coordinates): joining segments is then exact, with no distance
// tolerance. Horizontal edges (i, j)-(i, j+1) come first, then vertical edges (i, j)-(i+1, j).
using EdgeId = std::int64_t;

struct Segment {
  EdgeId a, b;
};

void check_axis(const std::vector<double>& axis, const char* name) {
  if (axis.size() < 2)
    throw InvalidArgument(std::string("contour_lines: axis ") + name + " needs >= 2 points, got " +
                          std::to_string(axis.size()));
  for (std::size_t k = 0; k < axis.size(); ++k) {
    if (!std::isfinite(axis[k]))
      throw InvalidArgument(std::string("contour_lines: axis ") + name + " is not finite");
    if (k > 0 && !(axis[k] > axis[k - 1]))
      throw InvalidArgument(std::string("contour_lines: axis ") + name +
                            " is not strictly ascending");
  }
}

class Tracer {
 public:
  Tracer(const std::vector<double>& map, const std::vector<double>& x, const std::vector<double>& y,
         double level)
      : map_(map), x_(x), y_(y), level_(level), nx_(x.size()), ny_(y.size()) {}

  std::vector<ContourLine> run() {
    collect_segments();
    index_edges();
    std::vector<ContourLine> lines;
    std::vector<bool> used(segments_.size(), false);
    // Open lines first, each started from an end (an edge crossing only one segment touches), so
    // no open line is cut in two by starting in its middle.
    for (std::size_t e = 0; e < ends_.size(); ++e) {
      const bool single = (e == 0 || ends_[e - 1].first != ends_[e].first) &&
                          (e + 1 == ends_.size() || ends_[e + 1].first != ends_[e].first);
      if (single && !used[ends_[e].second]) trace(ends_[e].first, ends_[e].second, used, lines);
    }
    // What is left is made of cycles.
    for (std::size_t s = 0; s < segments_.size(); ++s)
      if (!used[s]) trace(segments_[s].a, s, used, lines);
    return lines;
  }

 private:
  double at(std::size_t i, std::size_t j) const { return map_[i * nx_ + j]; }
  bool inside(double v) const { return v >= level_; }
  EdgeId horizontal(std::size_t i, std::size_t j) const { return EdgeId(i * (nx_ - 1) + j); }
  EdgeId vertical(std::size_t i, std::size_t j) const {
    return EdgeId(ny_ * (nx_ - 1) + i * nx_ + j);
  }

  void collect_segments() {
    for (std::size_t i = 0; i + 1 < ny_; ++i) {
      for (std::size_t j = 0; j + 1 < nx_; ++j) {
        const double v00 = at(i, j), v01 = at(i, j + 1), v11 = at(i + 1, j + 1), v10 = at(i + 1, j);
        if (!std::isfinite(v00) || !std::isfinite(v01) || !std::isfinite(v11) ||
            !std::isfinite(v10))
          continue;
        const bool c00 = inside(v00), c01 = inside(v01), c11 = inside(v11), c10 = inside(v10);
        const EdgeId bottom = horizontal(i, j), top = horizontal(i + 1, j);
        const EdgeId left = vertical(i, j), right = vertical(i, j + 1);
        EdgeId crossed[4];
        int n = 0;
        if (c00 != c01) crossed[n++] = bottom;
        if (c01 != c11) crossed[n++] = right;
        if (c11 != c10) crossed[n++] = top;
        if (c10 != c00) crossed[n++] = left;
        if (n == 2) {
          segments_.push_back({crossed[0], crossed[1]});
        } else if (n == 4) {
          // Saddle: c00 == c11 != c01 == c10. If the centre sides with the (00, 11) diagonal,
          // those corners connect through the cell and the line cuts off corners 01 and 10.
          const bool centre = inside(0.25 * (v00 + v01 + v11 + v10));
          if (centre == c00) {
            segments_.push_back({bottom, right});
            segments_.push_back({top, left});
          } else {
            segments_.push_back({left, bottom});
            segments_.push_back({right, top});
          }
        }
      }
    }
  }

  // (edge, segment) for both ends of every segment, sorted by edge: an edge is shared by at most
  // two cells, each using it once, so each edge appears once (a line end) or twice (a joint).
  void index_edges() {
    ends_.reserve(2 * segments_.size());
    for (std::size_t s = 0; s < segments_.size(); ++s) {
      ends_.emplace_back(segments_[s].a, s);
      ends_.emplace_back(segments_[s].b, s);
    }
    std::sort(ends_.begin(), ends_.end());
  }

  // The other segment through `edge`, or segments_.size() when there is none.
  std::size_t neighbour(EdgeId edge, std::size_t segment) const {
    auto it = std::lower_bound(ends_.begin(), ends_.end(), std::make_pair(edge, std::size_t(0)));
    for (; it != ends_.end() && it->first == edge; ++it)
      if (it->second != segment) return it->second;
    return segments_.size();
  }

  void point(EdgeId edge, ContourLine& line) const {
    const EdgeId horizontal_edges = EdgeId(ny_ * (nx_ - 1));
    std::size_t i0, j0, i1, j1;
    if (edge < horizontal_edges) {
      i0 = i1 = std::size_t(edge) / (nx_ - 1);
      j0 = std::size_t(edge) % (nx_ - 1);
      j1 = j0 + 1;
    } else {
      const std::size_t v = std::size_t(edge - horizontal_edges);
      i0 = v / nx_;
      i1 = i0 + 1;
      j0 = j1 = v % nx_;
    }
    const double a = at(i0, j0), b = at(i1, j1);
    // a and b lie on opposite sides of the level, so b != a.
    const double t = std::clamp((level_ - a) / (b - a), 0.0, 1.0);
    line.x.push_back(x_[j0] + t * (x_[j1] - x_[j0]));
    line.y.push_back(y_[i0] + t * (y_[i1] - y_[i0]));
  }

  void trace(EdgeId start, std::size_t segment, std::vector<bool>& used,
             std::vector<ContourLine>& lines) const {
    ContourLine line;
    point(start, line);
    EdgeId edge = start;
    while (true) {
      used[segment] = true;
      edge = segments_[segment].a == edge ? segments_[segment].b : segments_[segment].a;
      point(edge, line);
      const std::size_t next = neighbour(edge, segment);
      if (next == segments_.size() || used[next]) break;
      segment = next;
    }
    line.closed = edge == start && line.x.size() > 2;
    // A level equal to a corner value puts the crossings of several edges on that corner: drop
    // the zero-length pieces (the closing repeat of a closed line is kept by construction).
    std::size_t kept = 1;
    for (std::size_t k = 1; k < line.x.size(); ++k) {
      if (line.x[k] == line.x[kept - 1] && line.y[k] == line.y[kept - 1] &&
          !(line.closed && k + 1 == line.x.size()))
        continue;
      line.x[kept] = line.x[k];
      line.y[kept] = line.y[k];
      ++kept;
    }
    line.x.resize(kept);
    line.y.resize(kept);
    if (kept >= 2) lines.push_back(std::move(line));
  }

  const std::vector<double>& map_;
  const std::vector<double>& x_;
  const std::vector<double>& y_;
  double level_;
  std::size_t nx_, ny_;
  std::vector<Segment> segments_;
  std::vector<std::pair<EdgeId, std::size_t>> ends_;
};

}  // namespace

std::vector<ContourLine> contour_lines(const std::vector<double>& map, const std::vector<double>& x,
                                       const std::vector<double>& y, double level) {
  check_axis(x, "x");
  check_axis(y, "y");
  if (map.size() != x.size() * y.size())
    throw InvalidArgument("contour_lines: map has " + std::to_string(map.size()) +
                          " values, expected ny * nx = " + std::to_string(y.size()) + " * " +
                          std::to_string(x.size()));
  if (!std::isfinite(level)) throw InvalidArgument("contour_lines: level is not finite");
  return Tracer(map, x, y, level).run();
}

}  // namespace ds
