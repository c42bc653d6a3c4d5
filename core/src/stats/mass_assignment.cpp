#include "diffuscope/stats/mass_assignment.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"

namespace ds {

int mass_assignment_order(MassAssignment scheme) {
  switch (scheme) {
    case MassAssignment::None:
      return 0;
    case MassAssignment::Ngp:
      return 1;
    case MassAssignment::Cic:
      return 2;
    case MassAssignment::Tsc:
      return 3;
    case MassAssignment::Pcs:
      return 4;
  }
  throw InvalidArgument("unregistered mass assignment scheme");
}

double mass_assignment_window(int mode, int n, MassAssignment scheme) {
  const int p = mass_assignment_order(scheme);
  if (p == 0 || mode == 0) return 1.0;
  const double x = M_PI * double(mode) / double(n);
  return std::pow(std::sin(x) / x, p);
}

namespace {

// Cells and weights one point touches along one axis: at most 4 (PCS).
struct AxisStencil {
  int cells[4];
  double weights[4];
  int size = 0;
};

// u: the position in cell units, in [0, n]. Weights are the B-spline kernel of order p evaluated
// at the distance between u and each grid point.
AxisStencil axis_stencil(double u, int n, int p) {
  AxisStencil s;
  auto add = [&](long cell, double w) {
    long c = cell % n;
    if (c < 0) c += n;
    s.cells[s.size] = int(c);
    s.weights[s.size] = w;
    ++s.size;
  };
  switch (p) {
    case 1:
      add(long(std::floor(u + 0.5)), 1.0);
      break;  // Pylians: int(u + 0.5)
    case 2: {
      const double base = std::floor(u), t = u - base;
      add(long(base), 1.0 - t);
      add(long(base) + 1, t);
      break;
    }
    case 3: {
      const double nearest = std::floor(u + 0.5), d = u - nearest;  // d in [-1/2, 1/2)
      add(long(nearest) - 1, 0.5 * (0.5 - d) * (0.5 - d));
      add(long(nearest), 0.75 - d * d);
      add(long(nearest) + 1, 0.5 * (0.5 + d) * (0.5 + d));
      break;
    }
    case 4: {
      const double base = std::floor(u), t = u - base;  // grid points base-1 .. base+2
      const double s1 = 1.0 - t, s2 = 2.0 - t;
      add(long(base) - 1, (1.0 - t) * (1.0 - t) * (1.0 - t) / 6.0);  // distance 1 + t
      add(long(base), (4.0 - 6.0 * t * t + 3.0 * t * t * t) / 6.0);
      add(long(base) + 1, (4.0 - 6.0 * s1 * s1 + 3.0 * s1 * s1 * s1) / 6.0);
      add(long(base) + 2, (2.0 - s2) * (2.0 - s2) * (2.0 - s2) / 6.0);
      break;
    }
    default:
      break;
  }
  return s;
}

}  // namespace

std::vector<double> paint_mesh_3d(const std::vector<std::array<double, 3>>& positions,
                                  double box_size, int n, MassAssignment scheme) {
  const int p = mass_assignment_order(scheme);
  if (p == 0) throw InvalidArgument("paint: choose a mass assignment scheme (ngp, cic, tsc, pcs)");
  if (n < 2) throw InvalidArgument("paint: mesh size " + std::to_string(n) + " must be >= 2");
  if (!(box_size > 0.0) || !std::isfinite(box_size))
    throw InvalidArgument("paint: box size must be positive and finite");
  std::vector<double> mesh(std::size_t(n) * n * n, 0.0);
  const double cells_per_length = double(n) / box_size;
  for (const auto& x : positions) {
    const AxisStencil sx = axis_stencil(x[0] * cells_per_length, n, p);
    const AxisStencil sy = axis_stencil(x[1] * cells_per_length, n, p);
    const AxisStencil sz = axis_stencil(x[2] * cells_per_length, n, p);
    for (int a = 0; a < sx.size; ++a)
      for (int b = 0; b < sy.size; ++b) {
        const std::size_t row = (std::size_t(sx.cells[a]) * n + sy.cells[b]) * n;
        const double wxy = sx.weights[a] * sy.weights[b];
        for (int c = 0; c < sz.size; ++c) mesh[row + sz.cells[c]] += wxy * sz.weights[c];
      }
  }
  return mesh;
}

}  // namespace ds
