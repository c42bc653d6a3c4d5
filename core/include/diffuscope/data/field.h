// In-memory samples: one 2D field, one point cloud.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ds {

// What the values of a field mean: a positive density (mean ~ its mean density), or a density
// contrast delta (mean ~ 0, density = 1 + delta).
enum class FieldKind { Density, Contrast };

// The box of a 2D field whose file does not say: CAMELS maps and the default models are 25 Mpc/h.
inline constexpr double kDefaultFieldBoxSize = 25.0;  // Mpc/h

// An n x n field on a periodic square of side box_size (Mpc/h), row-major: values[i * n + j] is
// row i (the first axis), column j.
struct Field2D {
  int n = 0;
  double box_size = 0.0;
  FieldKind kind = FieldKind::Density;
  std::vector<double> values;

  double& at(int i, int j) { return values[std::size_t(i) * n + j]; }
  double at(int i, int j) const { return values[std::size_t(i) * n + j]; }
};

// Points in a periodic cube [0, box_size)^3 (Mpc/h), with optional per-point features.
struct PointCloud {
  double box_size = 0.0;
  std::vector<std::array<double, 3>> positions;
};

}  // namespace ds
