// A smooth interpolant of values known at scattered points of a grid (the adaptive likelihood
// scan's exact evaluations): the polyharmonic spline of order 3,
//   s(x) = sum_k w_k |x - x_k|^3 + p(x),   p a quadratic in (x, y),
// with sum_k w_k q(x_k) = 0 for every quadratic q. It passes through the values, is twice
// continuously differentiable, and reproduces any quadratic exactly: a log-likelihood near its
// peak (a Gaussian posterior) is interpolated with no error, and the error elsewhere falls with
// the cube or faster of the point spacing, against the square for bilinear interpolation.
// Several value columns (log L and every per-step term) share one factorised system.
// Coordinates are grid indices scaled to [0, 1] by the caller's `scale`; no parameter to tune.
#pragma once

#include <cstddef>
#include <vector>

namespace ds::detail {

class GridInterpolant {
 public:
  // points [m, 2] (x, y), values [m, columns] row-major. Throws InvalidArgument for fewer than 6
  // points or points on which a quadratic is not determined (e.g. all on one line).
  GridInterpolant(const std::vector<double>& points, const std::vector<double>& values,
                  std::size_t columns);
  std::size_t columns() const { return columns_; }
  // The value of column c at (x, y).
  double value(double x, double y, std::size_t column = 0) const;
  // Every column at (x, y) into out[columns()].
  void values(double x, double y, double* out) const;

 private:
  std::size_t m_ = 0, columns_ = 0;
  std::vector<double> points_;   // [m, 2]
  std::vector<double> weights_;  // [m + 6, columns]: w_k, then the quadratic's 6 coefficients
};

}  // namespace ds::detail
