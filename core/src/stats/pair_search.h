// Periodic pair search with a cell list (private to core): every ordered pair of points closer
// than r_max in a periodic cube, found in O(N * neighbours) rather than O(N^2). Used by the 2PCF
// and the pairwise velocity, which differ only in what they accumulate per pair.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ds::detail {

// Squared bin edges for the periodic pair statistics, after checking them: strictly increasing,
// the first >= 0, the last <= box / 2. Throws InvalidArgument naming `what`.
std::vector<double> squared_pair_edges(const std::vector<double>& edges, double box,
                                       const std::string& what);

class PeriodicPairSearch {
 public:
  // positions in [0, box)^3 (Mpc/h); 0 < r_max <= box / 2 (minimum image must be unique),
  // else InvalidArgument.
  PeriodicPairSearch(const std::vector<std::array<double, 3>>& positions, double box, double r_max);

  // Fixed work units (groups of cells); their number depends only on the input, not on threads.
  std::size_t chunk_count() const { return chunk_start_.size() - 1; }

  // Calls visit(i, j, dx, dy, dz, r2) for every ordered pair of distinct points (i, j) with i in
  // the cells of `chunk` and r2 = |x_j - x_i|^2 < r_max^2, where (dx, dy, dz) = x_j - x_i is the
  // minimum-image separation. i and j are indices into the input positions. r2 is summed as
  // (dx^2 + dy^2) + dz^2, like Corrfunc and scipy, so counts at bin edges agree exactly.
  template <class Visit>
  void visit_chunk(std::size_t chunk, Visit&& visit) const;

 private:
  double box_, half_box_, r_max2_;
  int cells_per_side_;
  std::vector<int> offsets_;                   // distinct neighbour offsets per axis
  std::vector<std::array<double, 3>> sorted_;  // positions ordered by cell
  std::vector<std::uint32_t> index_;           // input index of each sorted position
  std::vector<std::size_t> cell_start_;        // cells^3 + 1 offsets into sorted_
  std::vector<std::size_t> chunk_start_;       // first cell of each chunk, + end

  double wrap(double d) const {
    if (d > half_box_) return d - box_;
    if (d < -half_box_) return d + box_;
    return d;
  }
};

template <class Visit>
void PeriodicPairSearch::visit_chunk(std::size_t chunk, Visit&& visit) const {
  const int m = cells_per_side_;
  for (std::size_t cell = chunk_start_[chunk]; cell < chunk_start_[chunk + 1]; ++cell) {
    const int cx = int(cell / (std::size_t(m) * m)), cy = int(cell / m % m), cz = int(cell % m);
    for (int ox : offsets_)
      for (int oy : offsets_)
        for (int oz : offsets_) {
          const std::size_t other =
              (std::size_t((cx + ox + m) % m) * m + std::size_t((cy + oy + m) % m)) * m +
              std::size_t((cz + oz + m) % m);
          const bool same = other == cell;
          for (std::size_t a = cell_start_[cell]; a < cell_start_[cell + 1]; ++a) {
            const auto& xi = sorted_[a];
            for (std::size_t b = cell_start_[other]; b < cell_start_[other + 1]; ++b) {
              if (same && a == b) continue;
              const auto& xj = sorted_[b];
              const double dx = wrap(xj[0] - xi[0]);
              const double dy = wrap(xj[1] - xi[1]);
              const double dz = wrap(xj[2] - xi[2]);
              const double r2 = dx * dx + dy * dy + dz * dz;
              if (r2 < r_max2_) visit(index_[a], index_[b], dx, dy, dz, r2);
            }
          }
        }
  }
}

}  // namespace ds::detail
