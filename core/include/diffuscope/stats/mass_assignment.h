// Mass assignment: painting points on a periodic mesh (NGP / CIC / TSC / PCS, as Pylians'
// MAS_library) and the Fourier window of each scheme, which power spectra divide out.
#pragma once

#include <array>
#include <vector>

#include "diffuscope/registries.h"

namespace ds {

// The order p of the scheme's B-spline kernel: 0 for None, 1 NGP, 2 CIC, 3 TSC, 4 PCS.
int mass_assignment_order(MassAssignment scheme);

// The scheme's window on one axis for the integer mode index m (-n/2..n/2) of an n-cell axis:
// W = sinc(pi m / n)^p with sinc(x) = sin(x)/x (1 for None and for m = 0). Pylians divides
// delta_k by the product of W over the axes.
double mass_assignment_window(int mode, int n, MassAssignment scheme);

// Paints unit-weight points onto an n^3 mesh (C order: cell (i, j, l) at (i * n + j) * n + l,
// i along x). Grid points sit at integer multiples of the cell size L/n, as in Pylians (a point
// at x = i L/n lands entirely on cell i with CIC), and the mesh is periodic. Positions must lie in
// [0, box_size)^3 (Mpc/h); the sum of the mesh is the number of points. Scheme None is rejected.
std::vector<double> paint_mesh_3d(const std::vector<std::array<double, 3>>& positions,
                                  double box_size, int n, MassAssignment scheme);

}  // namespace ds
