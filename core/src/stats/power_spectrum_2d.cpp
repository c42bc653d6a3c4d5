#include "diffuscope/stats/power_spectrum_2d.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "stats/fft2d.h"

namespace ds {

PowerSpectrum power_spectrum_2d_of_contrast(const double* delta, int n, double box_size) {
  if (n < 2 || n % 2)
    throw InvalidArgument("pk2d: grid size " + std::to_string(n) + " must be even");
  if (!(box_size > 0.0)) throw InvalidArgument("pk2d: box size must be positive");
  auto& fft = detail::RealFft2d::for_this_thread(n);
  std::copy(delta, delta + std::size_t(n) * n, fft.real());
  fft.forward();

  const int middle = n / 2;
  const int bins = int(std::sqrt(2.0) * middle) + 1;  // bin 0 (DC) included here, dropped below
  std::vector<double> k_sum(bins, 0.0), p_sum(bins, 0.0);
  std::vector<std::int64_t> count(bins, 0);
  const std::complex<double>* modes = fft.complex();
  const int half = fft.half();
  for (int i = 0; i < n; ++i) {
    // Index n/2 is taken as +n/2 (Pylians).
    const int kx = i > middle ? i - n : i;
    for (int j = 0; j < half; ++j) {
      const int ky = j;
      // On the ky = 0 and ky = n/2 lines the modes with kx < 0 are complex conjugates of modes
      // already counted: keep only independent modes.
      if ((ky == 0 || ky == middle) && kx < 0) continue;
      const double k = std::sqrt(double(kx) * kx + double(ky) * ky);
      const int bin = int(k);
      k_sum[bin] += k;
      p_sum[bin] += std::norm(modes[std::size_t(i) * half + j]);
      ++count[bin];
    }
  }
  const double k_fundamental = 2.0 * M_PI / box_size;
  const double norm = std::pow(box_size / (double(n) * n), 2);
  PowerSpectrum out;
  for (int b = 1; b < bins; ++b) {
    if (count[b] == 0) continue;
    out.k.push_back(k_fundamental * k_sum[b] / double(count[b]));
    out.pk.push_back(norm * p_sum[b] / double(count[b]));
    out.nmodes.push_back(count[b]);
  }
  return out;
}

PowerSpectrum power_spectrum_2d(const Field2D& field) {
  const std::size_t size = std::size_t(field.n) * field.n;
  if (field.values.size() != size)
    throw InvalidArgument("pk2d: field holds " + std::to_string(field.values.size()) +
                          " values, expected " + std::to_string(size));
  if (field.kind == FieldKind::Contrast)
    return power_spectrum_2d_of_contrast(field.values.data(), field.n, field.box_size);
  double mean = 0.0;
  for (double v : field.values) mean += v;
  mean /= double(size);
  if (!(mean > 0.0) || !std::isfinite(mean))
    throw InvalidArgument("pk2d: the mean of a density field must be positive and finite");
  std::vector<double> delta(size);
  for (std::size_t i = 0; i < size; ++i) delta[i] = field.values[i] / mean - 1.0;
  return power_spectrum_2d_of_contrast(delta.data(), field.n, field.box_size);
}

PowerSpectrum cut_at_nyquist(const PowerSpectrum& s, int n, double box_size) {
  const double k_nyquist = M_PI * n / box_size;
  PowerSpectrum out;
  for (std::size_t b = 0; b < s.size(); ++b) {
    if (s.k[b] > k_nyquist) continue;
    out.k.push_back(s.k[b]);
    out.pk.push_back(s.pk[b]);
    out.nmodes.push_back(s.nmodes[b]);
  }
  return out;
}

}  // namespace ds
