// A cheap stand-in for a smooth, expensive log density of a few parameters, fitted to exact
// evaluations: what delayed-acceptance HMC (surrogate_hmc.h) integrates its trajectories on.
//
//   log p~(theta) = log( exp(q(theta) + g(theta)) + exp(t(theta)) )
//
// q is a quadratic (a Gaussian) fitted by weighted least squares to the evaluations (weights
// 1 / (1 + (Delta_i / 10)^2), Delta_i = max log p - log p_i, so that the far tails do not pull the
// bulk), its Hessian made negative definite (eigenvalues clamped at -1e-3 of the largest). g
// interpolates q's residuals with a Gaussian process (squared-exponential kernel over q's
// Mahalanobis distance, length `length_scale` standard deviations, relative nugget 1e-6): at the
// evaluated points q + g equals the exact values (to about 1e-5), between them it is smooth, away
// from them it falls back to q. t is a defensive Student-t (4 degrees of freedom, three times q's
// covariance, at 20% of q's peak): a mixture component that holds about a sixth of the surrogate's
// mass near the mode and all of it in the far tails, which are then heavier than the target's
// wherever no evaluation says otherwise, so that trajectories on the surrogate reach every part of
// the posterior. (A surrogate lighter-tailed than the target leaves delayed acceptance exact but
// makes the chains stick wherever the target has more mass than the surrogate: on a strongly
// curved banana, 5% at twice the covariance left the arms' variance 10-20% short in runs of 8000
// draws that looked converged; 20% at three times brought it within Monte Carlo error, at a
// second-stage acceptance of about 0.8 instead of 0.9.)
//
// Cost: a fit is O(n^3) in the number of points (30 ms at n = 500); a value with its gradient
// O(n D). Deterministic for the same points in the same order.
#pragma once

#include <cstddef>
#include <vector>

namespace ds {

class LogDensitySurrogate {
 public:
  LogDensitySurrogate() = default;
  // Fits to n points: thetas [n, D] row-major, values [n]; points whose value is not finite are
  // left out, and so is a point closer than 1e-6 standard deviations to a kept one. Throws
  // InvalidArgument when fewer finite points than the quadratic's (D + 1)(D + 2) / 2 coefficients
  // remain, or for a non-positive length scale.
  static LogDensitySurrogate fit(std::size_t dimension, const std::vector<double>& thetas,
                                 const std::vector<double>& values, double length_scale = 1.0);

  std::size_t dimension() const { return dimension_; }
  std::size_t points() const { return nodes_.size() / (dimension_ == 0 ? 1 : dimension_); }
  bool empty() const { return dimension_ == 0; }

  // log p~ at theta (D values) and, when gradient is not null, its gradient (D values).
  double value(const double* theta, double* gradient = nullptr) const;
  // q + g alone (without the defensive tail): equal to the exact values at the fitted points.
  double interpolant(const double* theta) const;

  // The Gaussian of the quadratic q: its mode (D) and covariance ([D, D], after clamping).
  const std::vector<double>& mode() const { return mode_; }
  const std::vector<double>& covariance() const { return covariance_; }
  // Whether the fitted Hessian was negative definite before clamping (false: the points do not
  // yet describe a peak, e.g. all on one slope).
  bool concave() const { return concave_; }

 private:
  std::size_t dimension_ = 0;
  // q(theta) = c + b.u + 0.5 u^T A u, u = (theta - center) / scale (per parameter).
  std::vector<double> center_, scale_;
  double c_ = 0.0;
  std::vector<double> b_, a_;   // [D], [D, D] (negative definite)
  std::vector<double> metric_;  // -A / length_scale^2 in u: the kernel's squared distance form
  std::vector<double> nodes_;   // [n, D] in u
  std::vector<double> alpha_;   // [n]
  std::vector<double> mode_, covariance_;
  bool concave_ = false;
  double evaluate(const double* theta, double* gradient, bool with_tail) const;
  // The defensive Student-t and its u-gradient.
  double tail(const double* u, double* grad_u) const;
  std::vector<double> mode_u_, precision_;  // in u; precision = -A / kTailInflation
  double peak_ = 0.0;                       // q at its mode
};

}  // namespace ds
