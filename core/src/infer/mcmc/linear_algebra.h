// Small dense linear algebra for the samplers (D is a handful of parameters): Cholesky factors,
// triangular solves and inverses of [D, D] row-major matrices.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "diffuscope/error.h"

namespace ds::detail {

// Lower Cholesky factor L of a symmetric positive definite a (L L^T = a). Throws InvalidArgument
// "<what> is not symmetric positive definite" otherwise.
inline std::vector<double> cholesky(const std::vector<double>& a, std::size_t d,
                                    const std::string& what) {
  std::vector<double> l(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      const double aij = a[i * d + j], aji = a[j * d + i];
      if (!std::isfinite(aij) || std::abs(aij - aji) > 1e-10 * (std::abs(aij) + std::abs(aji)))
        throw InvalidArgument(what + " is not a finite symmetric matrix");
      double s = aij;
      for (std::size_t k = 0; k < j; ++k) s -= l[i * d + k] * l[j * d + k];
      if (i == j) {
        if (!(s > 0.0)) throw InvalidArgument(what + " is not symmetric positive definite");
        l[i * d + i] = std::sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  }
  return l;
}

// Solves L x = b in place (L lower triangular).
inline void solve_lower(const std::vector<double>& l, std::size_t d, double* x) {
  for (std::size_t i = 0; i < d; ++i) {
    double s = x[i];
    for (std::size_t k = 0; k < i; ++k) s -= l[i * d + k] * x[k];
    x[i] = s / l[i * d + i];
  }
}

// Solves L^T x = b in place (L lower triangular).
inline void solve_lower_transposed(const std::vector<double>& l, std::size_t d, double* x) {
  for (std::size_t i = d; i-- > 0;) {
    double s = x[i];
    for (std::size_t k = i + 1; k < d; ++k) s -= l[k * d + i] * x[k];
    x[i] = s / l[i * d + i];
  }
}

// (L L^T)^-1 from L, by solving for each unit vector.
inline std::vector<double> inverse_from_cholesky(const std::vector<double>& l, std::size_t d) {
  std::vector<double> inv(d * d, 0.0), column(d);
  for (std::size_t j = 0; j < d; ++j) {
    for (std::size_t i = 0; i < d; ++i) column[i] = i == j ? 1.0 : 0.0;
    solve_lower(l, d, column.data());
    solve_lower_transposed(l, d, column.data());
    for (std::size_t i = 0; i < d; ++i) inv[i * d + j] = column[i];
  }
  return inv;
}

}  // namespace ds::detail
