#include "diffuscope/cosmology/projected_power.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <tuple>

#include "diffuscope/error.h"
#include "numerics/quadrature.h"

namespace ds {

namespace {

double sinc(double x) {
  return std::abs(x) < 1e-6 ? 1.0 - x * x / 6.0 : std::sin(x) / x;
}

// Calls node(q, weight) for every node of the quadrature of
//   \int_0^inf dq / pi sinc^2(q d / 2) f(q),
// the weight including the window and 1/pi, so that the integral is sum weight * f(q).
//
// Below the first zero of the window the integrand only varies on the scale of k and of the
// turnover of P_lin: composite Simpson in ln q. Above it, the window oscillates with period
// 2 pi/d in q: Simpson in q with 32 points per period up to where the window envelope (2/(qd))^2
// and the falling P_lin make the rest negligible. The range [0, q_min) adds q_min f(0) / pi.
void for_each_slab_node(double d, const std::function<void(double q, double weight)>& node) {
  const double q_min = 1e-6, q_split = 2.0 * M_PI / d, q_max = 400.0 / d;
  auto window = [d](double q) {
    const double w = sinc(0.5 * q * d);
    return w * w / M_PI;
  };
  node(0.0, q_min * window(0.0));
  detail::for_each_simpson_node(std::log(q_min), std::log(q_split), 512, [&](double u, double w) {
    const double q = std::exp(u);
    node(q, w * q * window(q));  // dq = q du
  });
  const int high_intervals = 2 * int(std::ceil((q_max - q_split) / (q_split / 32.0) / 2.0));
  detail::for_each_simpson_node(q_split, q_max, high_intervals,
                                [&](double q, double w) { node(q, w * window(q)); });
}

// P_2D at the table nodes as a linear map of P_lin sampled at kappa_m = exp(log_kappa_min +
// m dlog_kappa): row i holds the weights on kappa_{first_i}, kappa_{first_i + 1}, ...
struct ProjectionKernel {
  static constexpr double kDlogKappa = 0.01;
  double log_kappa_min = 0.0;
  int kappa_count = 0;
  std::vector<int> first;
  std::vector<std::vector<double>> rows;
};

std::shared_ptr<const ProjectionKernel> build_kernel(double d, double log_k_min, double dlog_k,
                                                     int points) {
  auto kernel = std::make_shared<ProjectionKernel>();
  const double h = ProjectionKernel::kDlogKappa;
  const double log_k_max = log_k_min + (points - 1) * dlog_k;
  // kappa = sqrt(k^2 + q^2) spans [k_min, sqrt(k_max^2 + q_max^2)]; margins keep the stencils
  // inside the grid.
  kernel->log_kappa_min = log_k_min - 2.0 * h;
  const double log_kappa_max = 0.5 * std::log(std::exp(2.0 * log_k_max) + std::pow(400.0 / d, 2));
  kernel->kappa_count = int(std::ceil((log_kappa_max - kernel->log_kappa_min) / h)) + 4;
  kernel->first.resize(points);
  kernel->rows.resize(points);
  std::vector<std::pair<double, double>> nodes;  // (q^2, weight), the same for every k
  for_each_slab_node(d, [&](double q, double weight) { nodes.emplace_back(q * q, weight); });
  std::vector<double> row(kernel->kappa_count);
  for (int i = 0; i < points; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    const double k = std::exp(log_k_min + i * dlog_k);
    int lo = kernel->kappa_count, hi = 0;
    for (const auto& [q2, weight] : nodes) {
      const double x = (0.5 * std::log(k * k + q2) - kernel->log_kappa_min) / h;
      const int m = int(std::floor(x)) - 1;
      const auto w = detail::cubic_lagrange_weights(x - m);
      for (int j = 0; j < 4; ++j) row[m + j] += weight * w[j];
      lo = std::min(lo, m);
      hi = std::max(hi, m + 3);
    }
    kernel->first[i] = lo;
    kernel->rows[i].assign(row.begin() + lo, row.begin() + hi + 1);
  }
  return kernel;
}

// Kernels depend on (thickness, k grid) only: a GUI slider or a likelihood revisits the same few.
std::shared_ptr<const ProjectionKernel> cached_kernel(double d, double log_k_min, double dlog_k,
                                                      int points) {
  using Key = std::tuple<double, double, double, int>;
  static std::mutex mutex;
  static std::deque<std::pair<Key, std::shared_ptr<const ProjectionKernel>>> cache;
  const Key key{d, log_k_min, dlog_k, points};
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& entry : cache)
      if (entry.first == key) return entry.second;
  }
  auto kernel = build_kernel(d, log_k_min, dlog_k, points);
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace_back(key, kernel);
  if (cache.size() > 8) cache.pop_front();
  return kernel;
}

}  // namespace

double ProjectedPowerSpectrum::integrate(const LinearPowerSpectrum& linear, double d, double k) {
  double sum = 0.0;
  for_each_slab_node(
      d, [&](double q, double weight) { sum += weight * linear(std::sqrt(k * k + q * q)); });
  return sum;
}

ProjectedPowerSpectrum::ProjectedPowerSpectrum(const LinearPowerSpectrum& linear,
                                               double slab_thickness, double k_min, double k_max,
                                               int points)
    : thickness_(slab_thickness) {
  if (!(slab_thickness > 0.0) || !std::isfinite(slab_thickness) || !(k_min > 0.0) ||
      !(k_max > k_min) || !std::isfinite(k_max) || points < 4)
    throw InvalidArgument(
        "projected power spectrum: need slab thickness > 0, 0 < k_min < k_max and at least 4 "
        "points");
  log_k_min_ = std::log(k_min);
  dlog_k_ = (std::log(k_max) - log_k_min_) / (points - 1);
  const auto kernel = cached_kernel(slab_thickness, log_k_min_, dlog_k_, points);

  // P_lin on the part of the kappa grid the rows touch.
  const int lo = *std::min_element(kernel->first.begin(), kernel->first.end());
  int hi = lo;
  for (int i = 0; i < points; ++i)
    hi = std::max(hi, kernel->first[i] + int(kernel->rows[i].size()));
  std::vector<double> p_lin(hi - lo);
  for (int m = lo; m < hi; ++m)
    p_lin[m - lo] = linear(std::exp(kernel->log_kappa_min + m * ProjectionKernel::kDlogKappa));

  log_p_.resize(points);
  for (int i = 0; i < points; ++i) {
    const std::vector<double>& row = kernel->rows[i];
    const double* p = p_lin.data() + (kernel->first[i] - lo);
    double sum = 0.0;
    for (std::size_t j = 0; j < row.size(); ++j) sum += row[j] * p[j];
    log_p_[i] = std::log(sum);
  }
}

ProjectedPowerSpectrum::Stencil ProjectedPowerSpectrum::stencil(double k) const {
  Stencil s;
  const int last = int(log_p_.size()) - 1;
  const double x = (std::log(k) - log_k_min_) / dlog_k_;
  if (x < 0.0) {  // power law through the first two nodes
    s.first = 0;
    s.weights = {1.0 - x, x, 0.0, 0.0};
  } else if (x > last) {  // power law through the last two nodes
    s.first = last - 3;
    const double t = x - last;
    s.weights = {0.0, 0.0, -t, 1.0 + t};
  } else {
    s.first = std::min(std::max(int(std::floor(x)) - 1, 0), last - 3);
    s.weights = detail::cubic_lagrange_weights(x - s.first);
  }
  return s;
}

double ProjectedPowerSpectrum::log_value(const Stencil& s) const {
  const double* p = log_p_.data() + s.first;
  return s.weights[0] * p[0] + s.weights[1] * p[1] + s.weights[2] * p[2] + s.weights[3] * p[3];
}

double ProjectedPowerSpectrum::operator()(double k) const {
  if (!(k > 0.0)) return 0.0;
  return std::exp(log_value(stencil(k)));
}

}  // namespace ds
