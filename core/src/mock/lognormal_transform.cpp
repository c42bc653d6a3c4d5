#include "mock/lognormal_transform.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "numerics/fft.h"

namespace ds::detail {

namespace {

// Number of modes of the full k-space a half-space entry stands for: 1 on the planes l = 0 and
// l = n/2 of the last axis (their partners are stored elsewhere in the same half space), 2 else.
double multiplicity(std::size_t index, int n) {
  const int half = n / 2 + 1;
  const int l = int(index % std::size_t(half));
  return (l == 0 || (n % 2 == 0 && l == n / 2)) ? 1.0 : 2.0;
}

template <class Fft>
GaussianSpectrum transform(Fft& fft, std::size_t real_size, std::size_t complex_size,
                           const std::vector<double>& target, int n, double volume) {
  if (target.size() != complex_size)
    throw InvalidArgument("lognormal transform: target spectrum has " +
                          std::to_string(target.size()) + " modes, the grid needs " +
                          std::to_string(complex_size));
  // xi(x) = (1/V) sum_k P(k) e^{ikx}: the unnormalised c2r of the real target, over V.
  std::complex<double>* modes = fft.complex();
  modes[0] = 0.0;
  for (std::size_t m = 1; m < complex_size; ++m) modes[m] = target[m];
  fft.backward();
  double* xi = fft.real();
  double xi_min = xi[0];
  for (std::size_t x = 0; x < real_size; ++x) {
    xi[x] /= volume;
    xi_min = std::min(xi_min, xi[x]);
  }
  if (!(xi_min > -1.0))
    throw InvalidArgument("lognormal transform: the target correlation function reaches " +
                          std::to_string(xi_min) + " <= -1; no lognormal field has it");

  // The free DC value of the target adds a constant c to xi; choose c >= 0 with
  // sum_x ln(1 + xi + c) = 0 (P_G(0) = 0). g(c) is increasing and concave with g(0) <= 0, so
  // Newton's iteration from c = 0 approaches the root monotonically from below.
  double c = 0.0;
  for (int iteration = 0; iteration < 100; ++iteration) {
    double g = 0.0, slope = 0.0;
    for (std::size_t x = 0; x < real_size; ++x) {
      g += std::log1p(xi[x] + c);
      slope += 1.0 / (1.0 + xi[x] + c);
    }
    const double step = -g / slope;
    c += step;
    if (std::abs(step) <= 1e-15 * (1.0 + c)) break;
  }
  for (std::size_t x = 0; x < real_size; ++x) xi[x] = std::log1p(xi[x] + c);

  // P_G(k) = (V / N) sum_x xi_G(x) e^{-ikx}, N the number of cells.
  fft.forward();
  GaussianSpectrum out;
  out.power.resize(complex_size);
  const double scale = volume / double(real_size);
  double positive = 0.0, negative = 0.0, total = 0.0;
  for (std::size_t m = 0; m < complex_size; ++m) {
    double p = m == 0 ? 0.0 : modes[m].real() * scale;
    if (p < 0.0) {
      negative -= p * multiplicity(m, n);
      ++out.clipped_modes;
      p = 0.0;
    } else {
      positive += p * multiplicity(m, n);
    }
    out.power[m] = p;
    total += p * multiplicity(m, n);
  }
  out.variance = total / volume;
  out.clipped_fraction = positive > 0.0 ? negative / positive : 0.0;
  return out;
}

}  // namespace

GaussianSpectrum lognormal_gaussian_spectrum(const std::vector<double>& target, int n,
                                             double box_size, int dimensions) {
  if (dimensions == 2) {
    auto& fft = RealFft2d::for_this_thread(n);
    return transform(fft, std::size_t(n) * n, std::size_t(n) * fft.half(), target, n,
                     box_size * box_size);
  }
  if (dimensions == 3) {
    auto& fft = RealFft3d::for_this_thread(n);
    return transform(fft, fft.real_size(), std::size_t(n) * n * fft.half(), target, n,
                     box_size * box_size * box_size);
  }
  throw InvalidArgument("lognormal transform: dimensions must be 2 or 3");
}

}  // namespace ds::detail
