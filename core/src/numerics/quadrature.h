// Quadrature rules shared by core's integrals (the numerics floor, issue 14): composite
// Gauss-Legendre panels (sigma(R) of the linear power spectrum, the growth integral), composite
// Simpson nodes (the slab projection of P(k), the box mass of a truncated Gaussian target) and
// cubic Lagrange weights on a uniform grid (the projected-spectrum tables). Header-only, so the
// callers' integrands inline. Each rule visits its nodes in the order its callers always did; the
// slab projection is bit for bit what it was, the Gauss-Legendre integrals (weight times the
// integrand rather than inside its product) moved in the last bit only.
#pragma once

#include <array>
#include <cstddef>

namespace ds::detail {

// The 8-point Gauss-Legendre rule on [-1, 1]: nodes +-x_i with weights w_i (its positive half).
inline constexpr std::array<double, 4> kGaussLegendre8Nodes{0.1834346424956498, 0.5255324099163290,
                                                            0.7966664774136267, 0.9602898564975363};
inline constexpr std::array<double, 4> kGaussLegendre8Weights{
    0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};

// \int_lo^hi f(x) dx by the 8-point rule on `panels` equal panels: (width / 2) sum_p sum_i w_i
// [f(m_p - width x_i / 2) + f(m_p + width x_i / 2)], m_p the middle of panel p, summed panel by
// panel, node by node, the minus side first.
template <class F>
double gauss_legendre_panels(double lo, double hi, int panels, F&& f) {
  const double width = (hi - lo) / panels;
  double sum = 0.0;
  for (int p = 0; p < panels; ++p) {
    const double middle = lo + (p + 0.5) * width;
    for (std::size_t i = 0; i < kGaussLegendre8Nodes.size(); ++i)
      for (double sign : {-1.0, 1.0})
        sum += kGaussLegendre8Weights[i] * f(middle + sign * 0.5 * width * kGaussLegendre8Nodes[i]);
  }
  return 0.5 * width * sum;
}

// Composite Simpson on [lo, hi] with `intervals` (even) equal intervals: calls node(x, weight)
// for x = lo + i h, i = 0 .. intervals, with weight (1, 4, 2, ..., 4, 1)_i h / 3, so that the
// integral is the sum of weight * f(x).
template <class Node>
void for_each_simpson_node(double lo, double hi, int intervals, Node&& node) {
  const double h = (hi - lo) / intervals;
  for (int i = 0; i <= intervals; ++i) {
    const double coefficient = (i == 0 || i == intervals) ? 1.0 : (i % 2 ? 4.0 : 2.0);
    node(lo + i * h, coefficient * h / 3.0);
  }
}

// Weights of the cubic through nodes 0..3 of a uniform grid at position t (in node spacings from
// node 0): f(t) ~ sum_j w_j f_j, exact for cubics.
inline std::array<double, 4> cubic_lagrange_weights(double t) {
  return {-(t - 1.0) * (t - 2.0) * (t - 3.0) / 6.0, t * (t - 2.0) * (t - 3.0) / 2.0,
          -t * (t - 1.0) * (t - 3.0) / 2.0, t * (t - 1.0) * (t - 2.0) / 6.0};
}

}  // namespace ds::detail
