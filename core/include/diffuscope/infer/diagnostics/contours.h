// Iso-lines of a map on a rectilinear grid (marching squares), for the likelihood heatmap and the
// corner plot: the GUI draws the polylines, so this file holds the numerics only (no painting).
//
// Map layout (the one grid_scan.h and posterior_density.h use): map is [ny, nx] row-major,
// map[i * nx + j] is the value at (x[j], y[i]); x and y are strictly ascending. A row is one y
// value. Points are returned in the axes' own units (data coordinates), never in cell indices.
#pragma once

#include <vector>

namespace ds {

// One iso-line: points (x[k], y[k]) in data coordinates, at least 2 of them. A closed line repeats
// its first point at the end (x.front() == x.back(), y.front() == y.back()), so it draws as a
// polyline without special-casing; an open line ends on the grid border or next to a skipped cell.
struct ContourLine {
  std::vector<double> x, y;
  bool closed = false;
};

// The lines where `map` crosses `level`. Each cell contributes segments between the crossing
// points on its edges (linear interpolation of the two corner values); segments sharing an edge
// crossing are joined into maximal polylines, so a level set is as few lines as the grid allows.
// A corner counts as inside when value >= level. A cell with a non-finite corner (NaN, +-inf) is
// skipped, so lines end at its border: a NaN hole in a likelihood map cuts the contour rather than
// inventing one. Saddle cells (corners alternate) are resolved by the average of the four
// corners: when it is inside, the two inside corners are joined through the cell.
// Throws InvalidArgument for map.size() != x.size() * y.size(), fewer than 2 points on an axis,
// a non-finite or non-ascending axis, or a non-finite level.
std::vector<ContourLine> contour_lines(const std::vector<double>& map, const std::vector<double>& x,
                                       const std::vector<double>& y, double level);

}  // namespace ds
