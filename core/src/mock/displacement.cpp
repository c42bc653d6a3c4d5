#include "mock/displacement.h"

#include <cmath>

namespace ds::detail {

namespace {
int signed_frequency(int i, int n) {
  return i <= n / 2 ? i : i - n;
}
}  // namespace

Modes3d white_noise_modes(RealFft3d& fft, Rng& rng) {
  double* real = fft.real();
  for (std::size_t i = 0, size = fft.real_size(); i < size; ++i) real[i] = rng.normal();
  fft.forward();
  const int n = fft.n();
  return Modes3d(fft.complex(), fft.complex() + std::size_t(n) * n * fft.half());
}

std::vector<double> colouring_amplitudes(const std::function<double(double)>& power, int n,
                                         double box_size) {
  const int q_max = 3 * (n / 2) * (n / 2);
  const double k_fundamental = 2.0 * M_PI / box_size;
  const double scale = std::pow(double(n) / box_size, 1.5);
  std::vector<double> amplitude(q_max + 1, 0.0);
  for (int q = 1; q <= q_max; ++q)
    amplitude[q] = std::sqrt(power(k_fundamental * std::sqrt(double(q)))) * scale;
  return amplitude;
}

void coloured_field(RealFft3d& fft, const Modes3d& white, const std::vector<double>& amplitude,
                    bool per_mode, Mesh3d& out) {
  const int n = fft.n(), half = fft.half();
  std::complex<double>* modes = fft.complex();
  std::size_t m = 0;
  for (int i = 0; i < n; ++i) {
    const int fi = signed_frequency(i, n);
    for (int j = 0; j < n; ++j) {
      const int fj = signed_frequency(j, n);
      for (int l = 0; l < half; ++l, ++m)
        modes[m] = white[m] * (per_mode ? amplitude[m] : amplitude[fi * fi + fj * fj + l * l]);
    }
  }
  modes[0] = 0.0;
  fft.backward();
  const std::size_t size = fft.real_size();
  out.resize(size);
  const double inverse_norm = 1.0 / double(size);
  for (std::size_t x = 0; x < size; ++x) out[x] = fft.real()[x] * inverse_norm;
}

void zeldovich_displacement(RealFft3d& fft, const Modes3d& white,
                            const std::vector<double>& amplitude, double box_size,
                            std::array<Mesh3d, 3>& psi) {
  const int n = fft.n(), half = fft.half();
  const double k_fundamental = 2.0 * M_PI / box_size;
  const std::size_t size = fft.real_size();
  const double inverse_norm = 1.0 / double(size);
  std::complex<double>* modes = fft.complex();
  for (int axis = 0; axis < 3; ++axis) {
    std::size_t m = 0;
    for (int i = 0; i < n; ++i) {
      const int fi = signed_frequency(i, n);
      for (int j = 0; j < n; ++j) {
        const int fj = signed_frequency(j, n);
        for (int l = 0; l < half; ++l, ++m) {
          const int f[3] = {fi, fj, l};
          const int q = fi * fi + fj * fj + l * l;
          // psi_k = i k_a / k^2 delta_k; the Nyquist component has no real counterpart.
          if (q == 0 || 2 * std::abs(f[axis]) == n) {
            modes[m] = 0.0;
            continue;
          }
          const double factor = amplitude[q] * f[axis] / (k_fundamental * q);
          modes[m] = std::complex<double>(-white[m].imag(), white[m].real()) * factor;
        }
      }
    }
    fft.backward();
    psi[axis].resize(size);
    for (std::size_t x = 0; x < size; ++x) psi[axis][x] = fft.real()[x] * inverse_norm;
  }
}

double interpolate_periodic(const Mesh3d& mesh, int n, double box_size,
                            const std::array<double, 3>& position) {
  int lower[3];
  double t[3];
  for (int a = 0; a < 3; ++a) {
    const double u = position[a] / box_size * n - 0.5;  // mesh points at cell centres
    const double cell = std::floor(u);
    t[a] = u - cell;
    lower[a] = int(((long long)(cell) % n + n) % n);
  }
  double value = 0.0;
  for (int c = 0; c < 8; ++c) {
    const int di = c >> 2 & 1, dj = c >> 1 & 1, dl = c & 1;
    const double w = (di ? t[0] : 1.0 - t[0]) * (dj ? t[1] : 1.0 - t[1]) * (dl ? t[2] : 1.0 - t[2]);
    const std::size_t i = (lower[0] + di) % n, j = (lower[1] + dj) % n, l = (lower[2] + dl) % n;
    value += w * mesh[(i * n + j) * n + l];
  }
  return value;
}

}  // namespace ds::detail
