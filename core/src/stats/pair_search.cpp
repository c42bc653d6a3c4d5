#include "stats/pair_search.h"

#include <algorithm>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/stats/binning.h"
#include "stats/stats_util.h"

namespace ds::detail {

PeriodicPairSearch::PeriodicPairSearch(const std::vector<std::array<double, 3>>& positions,
                                       double box, double r_max)
    : box_(box), half_box_(0.5 * box), r_max2_(r_max * r_max) {
  if (!(r_max > 0.0) || r_max > 0.5 * box)
    throw InvalidArgument("pair search: the largest separation " + format_number(r_max) +
                          " must lie in (0, box/2 = " + format_number(0.5 * box) +
                          "] for a unique minimum image");
  if (positions.size() >= (std::size_t(1) << 32))
    throw InvalidArgument("pair search: more than 2^32 points");
  // Cells no smaller than r_max, so a pair is at most one cell apart; no more cells than about
  // 2 per point (empty cells cost time), and a cap on memory.
  const double by_radius = std::floor(box / r_max);
  const double by_count = std::ceil(std::cbrt(2.0 * double(positions.size())));
  cells_per_side_ = int(std::max(1.0, std::min({by_radius, by_count, 256.0})));
  const int m = cells_per_side_;
  // With fewer than 3 cells per side, -1 and +1 name the same (or the own) cell: keep each
  // neighbour once so that no pair is visited twice.
  offsets_ = m >= 3   ? std::vector<int>{-1, 0, 1}
             : m == 2 ? std::vector<int>{0, 1}
                      : std::vector<int>{0};

  const std::size_t cells = std::size_t(m) * m * m;
  std::vector<std::size_t> cell_of(positions.size());
  cell_start_.assign(cells + 1, 0);
  auto axis_cell = [&](double x) { return std::min(m - 1, int(x / box * m)); };
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const auto& x = positions[i];
    cell_of[i] = (std::size_t(axis_cell(x[0])) * m + std::size_t(axis_cell(x[1]))) * m +
                 std::size_t(axis_cell(x[2]));
    ++cell_start_[cell_of[i] + 1];
  }
  for (std::size_t c = 0; c < cells; ++c) cell_start_[c + 1] += cell_start_[c];
  sorted_.resize(positions.size());
  index_.resize(positions.size());
  std::vector<std::size_t> fill(cell_start_.begin(), cell_start_.end() - 1);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const std::size_t slot = fill[cell_of[i]]++;
    sorted_[slot] = positions[i];
    index_[slot] = std::uint32_t(i);
  }
  // 64 chunks (or one per cell) balance two to a few dozen threads.
  const std::size_t chunks = std::min<std::size_t>(64, cells);
  for (std::size_t c = 0; c <= chunks; ++c) chunk_start_.push_back(c * cells / chunks);
}

// Squared bin edges, checked for the periodic pair statistics: increasing, >= 0, <= box/2.
std::vector<double> squared_pair_edges(const std::vector<double>& edges, double box,
                                       const std::string& what) {
  require_increasing_edges(edges, what);
  if (edges.front() < 0.0)
    throw InvalidArgument(what + ": the first bin edge " + format_number(edges.front()) +
                          " is negative");
  if (edges.back() > 0.5 * box)
    throw InvalidArgument(what + ": the last bin edge " + format_number(edges.back()) +
                          " exceeds half the box (" + format_number(0.5 * box) +
                          "), where the minimum image is ambiguous");
  std::vector<double> squared(edges.size());
  for (std::size_t i = 0; i < edges.size(); ++i) squared[i] = edges[i] * edges[i];
  return squared;
}

}  // namespace ds::detail
