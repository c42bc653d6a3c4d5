#include "infer/grids/grid_interpolant.h"

#include <Eigen/Dense>
#include <cmath>

#include "diffuscope/error.h"

namespace ds::detail {

namespace {

constexpr std::size_t kPolynomialTerms = 6;  // 1, x, y, x^2, xy, y^2

void polynomial_terms(double x, double y, double* out) {
  out[0] = 1.0;
  out[1] = x;
  out[2] = y;
  out[3] = x * x;
  out[4] = x * y;
  out[5] = y * y;
}

double kernel(double dx, double dy) {
  const double r = std::sqrt(dx * dx + dy * dy);
  return r * r * r;
}

}  // namespace

GridInterpolant::GridInterpolant(const std::vector<double>& points,
                                 const std::vector<double>& values, std::size_t columns)
    : m_(points.size() / 2), columns_(columns), points_(points) {
  if (columns == 0 || values.size() != m_ * columns || points.size() != 2 * m_)
    throw InvalidArgument("grid interpolant: the values do not match the points");
  if (m_ < kPolynomialTerms)
    throw InvalidArgument("grid interpolant: " + std::to_string(m_) +
                          " points; a quadratic needs at least 6");
  const auto size = Eigen::Index(m_ + kPolynomialTerms);
  Eigen::MatrixXd system = Eigen::MatrixXd::Zero(size, size);
  Eigen::MatrixXd right = Eigen::MatrixXd::Zero(size, Eigen::Index(columns));
  double terms[kPolynomialTerms];
  for (std::size_t a = 0; a < m_; ++a) {
    const double xa = points[2 * a], ya = points[2 * a + 1];
    for (std::size_t b = 0; b < a; ++b) {
      const double k = kernel(xa - points[2 * b], ya - points[2 * b + 1]);
      system(Eigen::Index(a), Eigen::Index(b)) = k;
      system(Eigen::Index(b), Eigen::Index(a)) = k;
    }
    polynomial_terms(xa, ya, terms);
    for (std::size_t t = 0; t < kPolynomialTerms; ++t) {
      system(Eigen::Index(a), Eigen::Index(m_ + t)) = terms[t];
      system(Eigen::Index(m_ + t), Eigen::Index(a)) = terms[t];
    }
    for (std::size_t c = 0; c < columns; ++c)
      right(Eigen::Index(a), Eigen::Index(c)) = values[a * columns + c];
  }
  // The system is symmetric but indefinite (a saddle point): LU with partial pivoting; a
  // reciprocal condition number near round-off means the points do not determine a quadratic.
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(system);
  const Eigen::MatrixXd solution = lu.solve(right);
  if (!(lu.rcond() > 1e-13) || !solution.allFinite())
    throw InvalidArgument("grid interpolant: the points do not determine a quadratic");
  weights_.resize(std::size_t(size) * columns);
  for (Eigen::Index r = 0; r < size; ++r)
    for (std::size_t c = 0; c < columns; ++c)
      weights_[std::size_t(r) * columns + c] = solution(r, Eigen::Index(c));
}

double GridInterpolant::value(double x, double y, std::size_t column) const {
  double s = 0.0;
  for (std::size_t k = 0; k < m_; ++k)
    s += weights_[k * columns_ + column] * kernel(x - points_[2 * k], y - points_[2 * k + 1]);
  double terms[kPolynomialTerms];
  polynomial_terms(x, y, terms);
  for (std::size_t t = 0; t < kPolynomialTerms; ++t)
    s += weights_[(m_ + t) * columns_ + column] * terms[t];
  return s;
}

void GridInterpolant::values(double x, double y, double* out) const {
  for (std::size_t c = 0; c < columns_; ++c) out[c] = 0.0;
  for (std::size_t k = 0; k < m_; ++k) {
    const double phi = kernel(x - points_[2 * k], y - points_[2 * k + 1]);
    const double* w = &weights_[k * columns_];
    for (std::size_t c = 0; c < columns_; ++c) out[c] += w[c] * phi;
  }
  double terms[kPolynomialTerms];
  polynomial_terms(x, y, terms);
  for (std::size_t t = 0; t < kPolynomialTerms; ++t) {
    const double* w = &weights_[(m_ + t) * columns_];
    for (std::size_t c = 0; c < columns_; ++c) out[c] += w[c] * terms[t];
  }
}

}  // namespace ds::detail
