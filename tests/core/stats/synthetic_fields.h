// Fields with a prescribed power spectrum for the P(k) tests, made by colouring real-space white
// noise in Fourier space (so Hermitian symmetry, real Nyquist modes and periodicity hold exactly).
// `phase_only` sets every mode's amplitude to exactly sqrt(P): the estimator must then return the
// mean of P over the modes of each bin with no sampling noise at all.
#pragma once

#include <cmath>
#include <functional>
#include <vector>

#include "diffuscope/random.h"
#include "numerics/fft.h"

namespace dstest {

// d = 2 or 3; returns an n^d density contrast in C order with E|delta_k|^2 (L/N^2)^d = P(|k|).
inline std::vector<double> coloured_field(int d, int n, double box,
                                          const std::function<double(double)>& power,
                                          std::uint64_t seed, bool phase_only) {
  ds::Rng rng(seed);
  const std::size_t cells = d == 2 ? std::size_t(n) * n : std::size_t(n) * n * n;
  const int half = n / 2 + 1;
  const double cell_volume = std::pow(box / n, d);
  const double k_fundamental = 2.0 * M_PI / box;
  auto colour = [&](double* real, std::complex<double>* modes, const auto& forward,
                    const auto& backward) {
    for (std::size_t i = 0; i < cells; ++i) real[i] = rng.normal();
    forward();
    const std::size_t rows = cells / n;  // all axes but the last
    for (std::size_t r = 0; r < rows; ++r) {
      const int i = d == 2 ? int(r) : int(r / n), j = d == 2 ? 0 : int(r % n);
      const int kx = i > n / 2 ? i - n : i, ky = j > n / 2 ? j - n : j;
      for (int l = 0; l < half; ++l) {
        std::complex<double>& m = modes[r * half + l];
        const double k =
            k_fundamental * std::sqrt(double(kx) * kx + double(ky) * ky + double(l) * l);
        if (k == 0.0) {
          m = 0.0;
          continue;
        }
        // White noise of unit variance has E|W_k|^2 = n^d: scale to E|delta_k|^2 = P n^d / V_cell.
        const double amplitude = std::sqrt(power(k) / cell_volume);
        if (phase_only)
          m *= amplitude * std::sqrt(double(cells)) / std::abs(m);
        else
          m *= amplitude;
      }
    }
    backward();
    for (std::size_t i = 0; i < cells; ++i) real[i] /= double(cells);
    return std::vector<double>(real, real + cells);
  };
  if (d == 2) {
    auto& fft = ds::detail::RealFft2d::for_this_thread(n);
    return colour(
        fft.real(), fft.complex(), [&] { fft.forward(); }, [&] { fft.backward(); });
  }
  auto& fft = ds::detail::RealFft3d::for_this_thread(n);
  return colour(
      fft.real(), fft.complex(), [&] { fft.forward(); }, [&] { fft.backward(); });
}

}  // namespace dstest
