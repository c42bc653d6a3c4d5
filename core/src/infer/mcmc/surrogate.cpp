#include "diffuscope/infer/mcmc/surrogate.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "infer/mcmc/linear_algebra.h"

namespace ds {

namespace {

constexpr double kNugget = 1e-6;               // relative to the kernel's unit amplitude
constexpr double kEigenFloor = 1e-3;           // clamped eigenvalues: at most -floor x the largest
constexpr double kDuplicateDistance2 = 1e-12;  // squared Mahalanobis distance of a duplicate
constexpr double kTailDof = 4.0;               // degrees of freedom of the defensive Student-t
constexpr double kTailWeight = 0.2;            // its weight at the mode, relative to the peak
constexpr double kTailInflation = 3.0;         // its covariance, relative to q's

// Eigen-decomposition of a symmetric [d, d] matrix by cyclic Jacobi rotations: a = V diag(w) V^T,
// V's columns the eigenvectors.
void symmetric_eigen(std::vector<double> a, std::size_t d, std::vector<double>& w,
                     std::vector<double>& v) {
  v.assign(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i) v[i * d + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = i + 1; j < d; ++j) off += a[i * d + j] * a[i * d + j];
    if (off < 1e-30) break;
    for (std::size_t p = 0; p < d; ++p)
      for (std::size_t q = p + 1; q < d; ++q) {
        const double apq = a[p * d + q];
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (std::size_t k = 0; k < d; ++k) {  // A <- A J
          const double akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < d; ++k) {  // A <- J^T A
          const double apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < d; ++k) {  // V <- V J
          const double vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  w.resize(d);
  for (std::size_t i = 0; i < d; ++i) w[i] = a[i * d + i];
}

// x^T M x for a [d, d] matrix M; when mx is not null, also M x into it (d values).
double quadratic_form(const std::vector<double>& m, std::size_t d, const double* x,
                      double* mx = nullptr) {
  double s = 0.0;
  for (std::size_t i = 0; i < d; ++i) {
    double row = 0.0;
    for (std::size_t j = 0; j < d; ++j) row += m[i * d + j] * x[j];
    if (mx) mx[i] = row;
    s += x[i] * row;
  }
  return s;
}

}  // namespace

LogDensitySurrogate LogDensitySurrogate::fit(std::size_t d, const std::vector<double>& thetas,
                                             const std::vector<double>& values,
                                             double length_scale) {
  if (d == 0) throw InvalidArgument("a surrogate needs at least one parameter");
  if (!(length_scale > 0.0) || !std::isfinite(length_scale))
    throw InvalidArgument("surrogate length scale " + std::to_string(length_scale) +
                          " must be positive and finite");
  if (thetas.size() != values.size() * d)
    throw InvalidArgument("surrogate fit: " + std::to_string(thetas.size()) + " coordinates for " +
                          std::to_string(values.size()) + " values of " + std::to_string(d) +
                          " parameters");
  const std::size_t coefficients = (d + 1) * (d + 2) / 2;
  std::vector<std::size_t> finite;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bool ok = std::isfinite(values[i]);
    for (std::size_t k = 0; k < d && ok; ++k) ok = std::isfinite(thetas[i * d + k]);
    if (ok) finite.push_back(i);
  }
  if (finite.size() < coefficients)
    throw InvalidArgument("a surrogate of " + std::to_string(d) + " parameters needs at least " +
                          std::to_string(coefficients) + " finite evaluations, got " +
                          std::to_string(finite.size()));

  LogDensitySurrogate s;
  s.dimension_ = d;
  // Centre at the best point, scale by the points' spread per parameter.
  std::size_t best = finite[0];
  for (std::size_t i : finite)
    if (values[i] > values[best]) best = i;
  const double top = values[best];
  s.center_.assign(thetas.begin() + std::ptrdiff_t(best * d),
                   thetas.begin() + std::ptrdiff_t(best * d + d));
  s.scale_.assign(d, 0.0);
  for (std::size_t k = 0; k < d; ++k) {
    double mean = 0.0, m2 = 0.0;
    for (std::size_t i : finite) mean += thetas[i * d + k];
    mean /= double(finite.size());
    for (std::size_t i : finite) m2 += std::pow(thetas[i * d + k] - mean, 2);
    const double sd = std::sqrt(m2 / double(finite.size()));
    s.scale_[k] = sd > 0.0 ? sd : std::max(1e-12, std::abs(s.center_[k]) * 1e-6 + 1e-12);
  }
  std::vector<double> u(finite.size() * d);
  for (std::size_t r = 0; r < finite.size(); ++r)
    for (std::size_t k = 0; k < d; ++k)
      u[r * d + k] = (thetas[finite[r] * d + k] - s.center_[k]) / s.scale_[k];

  // Weighted least squares for [c, b_k, q_kl (k <= l)]: features 1, u_k, u_k u_l.
  const auto features = [&](const double* x, std::vector<double>& f) {
    f.clear();
    f.push_back(1.0);
    for (std::size_t k = 0; k < d; ++k) f.push_back(x[k]);
    for (std::size_t k = 0; k < d; ++k)
      for (std::size_t l = k; l < d; ++l) f.push_back(x[k] * x[l]);
  };
  std::vector<double> normal(coefficients * coefficients, 0.0), rhs(coefficients, 0.0), f;
  for (std::size_t r = 0; r < finite.size(); ++r) {
    features(&u[r * d], f);
    const double delta = (top - values[finite[r]]) / 10.0;
    const double w = 1.0 / (1.0 + delta * delta);
    for (std::size_t i = 0; i < coefficients; ++i) {
      rhs[i] += w * f[i] * values[finite[r]];
      for (std::size_t j = 0; j <= i; ++j) normal[i * coefficients + j] += w * f[i] * f[j];
    }
  }
  for (std::size_t i = 0; i < coefficients; ++i)  // symmetric to the bit (sums that cancel)
    for (std::size_t j = 0; j < i; ++j) normal[j * coefficients + i] = normal[i * coefficients + j];
  double trace = 0.0;
  for (std::size_t i = 0; i < coefficients; ++i) trace += normal[i * coefficients + i];
  for (std::size_t i = 0; i < coefficients; ++i)
    normal[i * coefficients + i] += 1e-10 * trace / double(coefficients) + 1e-300;
  const auto chol = detail::cholesky(normal, coefficients, "the surrogate's normal equations");
  std::vector<double> beta = rhs;
  detail::solve_lower(chol, coefficients, beta.data());
  detail::solve_lower_transposed(chol, coefficients, beta.data());
  s.c_ = beta[0];
  s.b_.assign(beta.begin() + 1, beta.begin() + 1 + std::ptrdiff_t(d));
  std::vector<double> hessian(d * d, 0.0);
  std::size_t index = 1 + d;
  for (std::size_t k = 0; k < d; ++k)
    for (std::size_t l = k; l < d; ++l, ++index) {
      if (k == l) {
        hessian[k * d + k] = 2.0 * beta[index];
      } else {
        hessian[k * d + l] = beta[index];
        hessian[l * d + k] = beta[index];
      }
    }
  // Clamp the eigenvalues: negative definite, none flatter than a thousandth of the steepest.
  std::vector<double> w, v;
  symmetric_eigen(hessian, d, w, v);
  double steepest = 0.0;
  s.concave_ = true;
  for (double e : w) {
    steepest = std::max(steepest, std::abs(e));
    s.concave_ = s.concave_ && e < 0.0;
  }
  if (!(steepest > 0.0) || !std::isfinite(steepest)) steepest = 1.0;
  for (double& e : w) e = std::min(e, -kEigenFloor * steepest);
  if (!s.concave_) {
    // No peak yet: a Gaussian of the points' own spread (unit in u) is the honest fallback.
    for (double& e : w) e = std::min(e, -1.0);
  }
  s.a_.assign(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double sum = 0.0;
      for (std::size_t k = 0; k < d; ++k) sum += v[i * d + k] * w[k] * v[j * d + k];
      s.a_[i * d + j] = s.a_[j * d + i] = sum;
    }
  // Mode and covariance of q: u* = -A^-1 b, Cov_u = (-A)^-1; in theta by the scales.
  std::vector<double> negative(d * d);
  for (std::size_t i = 0; i < d * d; ++i) negative[i] = -s.a_[i];
  const auto neg_chol = detail::cholesky(negative, d, "the surrogate's Hessian");
  const auto cov_u = detail::inverse_from_cholesky(neg_chol, d);
  std::vector<double> mode_u = s.b_;
  detail::solve_lower(neg_chol, d, mode_u.data());
  detail::solve_lower_transposed(neg_chol, d, mode_u.data());
  s.mode_.resize(d);
  s.covariance_.resize(d * d);
  for (std::size_t i = 0; i < d; ++i) {
    s.mode_[i] = s.center_[i] + s.scale_[i] * mode_u[i];
    for (std::size_t j = 0; j <= i; ++j)  // symmetric to the bit
      s.covariance_[i * d + j] = s.covariance_[j * d + i] =
          s.scale_[i] * s.scale_[j] * 0.5 * (cov_u[i * d + j] + cov_u[j * d + i]);
  }

  // The defensive Student-t: q's mode, twice its covariance, kTailWeight of its peak.
  s.mode_u_ = mode_u;
  s.precision_ = negative;
  for (double& p : s.precision_) p /= kTailInflation;
  s.peak_ = s.c_;
  for (std::size_t k = 0; k < d; ++k) s.peak_ += s.b_[k] * mode_u[k];
  s.peak_ += 0.5 * quadratic_form(s.a_, d, mode_u.data());
  // The residuals' Gaussian process over the Mahalanobis distance of q.
  s.metric_ = negative;
  for (double& m : s.metric_) m /= length_scale * length_scale;
  std::vector<double> residual;
  for (std::size_t r = 0; r < finite.size(); ++r) {
    const double* x = &u[r * d];
    bool duplicate = false;
    for (std::size_t n = 0; n < s.nodes_.size() / d && !duplicate; ++n) {
      std::vector<double> diff(d);
      for (std::size_t k = 0; k < d; ++k) diff[k] = x[k] - s.nodes_[n * d + k];
      duplicate = quadratic_form(s.metric_, d, diff.data()) < kDuplicateDistance2;
    }
    if (duplicate) continue;
    s.nodes_.insert(s.nodes_.end(), x, x + d);
    double q = s.c_;
    for (std::size_t k = 0; k < d; ++k) q += s.b_[k] * x[k];
    q += 0.5 * quadratic_form(s.a_, d, x);
    residual.push_back(values[finite[r]] - q);
  }
  const std::size_t n = residual.size();
  std::vector<double> kernel(n * n);
  std::vector<double> diff(d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      for (std::size_t k = 0; k < d; ++k) diff[k] = s.nodes_[i * d + k] - s.nodes_[j * d + k];
      const double kij = std::exp(-0.5 * quadratic_form(s.metric_, d, diff.data()));
      kernel[i * n + j] = kernel[j * n + i] = kij + (i == j ? kNugget : 0.0);
    }
  const auto kernel_chol = detail::cholesky(kernel, n, "the surrogate's kernel matrix");
  s.alpha_ = residual;
  detail::solve_lower(kernel_chol, n, s.alpha_.data());
  detail::solve_lower_transposed(kernel_chol, n, s.alpha_.data());
  return s;
}

double LogDensitySurrogate::tail(const double* u, double* grad_u) const {
  // t(u) = peak + log w - (nu + D)/2 log(1 + x / (nu + D)), x = (u - mode)^T P (u - mode).
  const std::size_t d = dimension_;
  const double dof = kTailDof + double(d);
  std::vector<double> diff(d), p_diff(d);
  for (std::size_t k = 0; k < d; ++k) diff[k] = u[k] - mode_u_[k];
  const double x = quadratic_form(precision_, d, diff.data(), p_diff.data());
  if (grad_u)
    for (std::size_t k = 0; k < d; ++k) grad_u[k] = -p_diff[k] / (1.0 + x / dof);
  return peak_ + std::log(kTailWeight) - 0.5 * dof * std::log1p(x / dof);
}

double LogDensitySurrogate::interpolant(const double* theta) const {
  return evaluate(theta, nullptr, false);
}

double LogDensitySurrogate::value(const double* theta, double* gradient) const {
  return evaluate(theta, gradient, true);
}

double LogDensitySurrogate::evaluate(const double* theta, double* gradient, bool with_tail) const {
  const std::size_t d = dimension_;
  std::vector<double> u(d), grad_u(d, 0.0), diff(d), m_diff(d);
  for (std::size_t k = 0; k < d; ++k) u[k] = (theta[k] - center_[k]) / scale_[k];
  double value = c_;
  value += 0.5 * quadratic_form(a_, d, u.data(), grad_u.data());  // grad_u = A u here
  for (std::size_t k = 0; k < d; ++k) {
    value += b_[k] * u[k];
    grad_u[k] += b_[k];
  }
  const std::size_t n = alpha_.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < d; ++k) diff[k] = u[k] - nodes_[i * d + k];
    const double r2 = quadratic_form(metric_, d, diff.data(), m_diff.data());
    const double term = alpha_[i] * std::exp(-0.5 * r2);
    value += term;
    if (gradient)
      for (std::size_t k = 0; k < d; ++k) grad_u[k] -= term * m_diff[k];
  }
  if (!with_tail) return value;
  // log(exp(value) + exp(tail)): the tail takes over where the fit falls below it.
  std::vector<double> grad_tail(d, 0.0);
  const double t = tail(u.data(), gradient ? grad_tail.data() : nullptr);
  const double top = std::max(value, t);
  const double w_fit = std::exp(value - top), w_tail = std::exp(t - top);
  const double total = top + std::log(w_fit + w_tail);
  if (gradient)
    for (std::size_t k = 0; k < d; ++k)
      gradient[k] = (w_fit * grad_u[k] + w_tail * grad_tail[k]) / (w_fit + w_tail) / scale_[k];
  return total;
}

}  // namespace ds
