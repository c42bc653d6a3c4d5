#include "diffuscope/stats/power_spectrum_2d.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/stats/mass_assignment.h"
#include "numerics/fft.h"
#include "stats/spectrum_bins.h"

namespace ds {

PowerSpectrum power_spectrum_2d_of_contrast(const double* delta, int n, double box_size,
                                            MassAssignment deconvolve) {
  if (n < 2 || n % 2)
    throw InvalidArgument("pk2d: grid size " + std::to_string(n) + " must be even");
  if (!(box_size > 0.0) || !std::isfinite(box_size))
    throw InvalidArgument("pk2d: box size must be positive and finite");
  auto& fft = detail::RealFft2d::for_this_thread(n);
  std::copy(delta, delta + std::size_t(n) * n, fft.real());
  fft.forward();

  const int middle = n / 2;
  // 1 / W(m)^2 per signed mode index m (offset by middle): P is divided by prod_i W(k_i)^2.
  const std::vector<double> inverse_window2 = detail::inverse_window_squared(n, deconvolve);

  const int bins = int(std::sqrt(2.0) * middle) + 1;  // bin 0 (DC) included here, dropped below
  detail::SpectrumBins binned(bins);
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
      const double window =
          inverse_window2[std::size_t(kx + middle)] * inverse_window2[std::size_t(ky + middle)];
      binned.add(k, std::norm(modes[std::size_t(i) * half + j]) * window);
    }
  }
  const double k_fundamental = 2.0 * M_PI / box_size;
  const double norm = std::pow(box_size / (double(n) * n), 2);
  return binned.finish(k_fundamental, norm);
}

PowerSpectrum power_spectrum_2d(const Field2D& field, const PowerSpectrum2dOptions& options) {
  const std::size_t size = std::size_t(field.n) * field.n;
  if (field.n < 2 || field.values.size() != size)
    throw InvalidArgument("pk2d: field holds " + std::to_string(field.values.size()) +
                          " values, expected " + std::to_string(field.n) + " x " +
                          std::to_string(field.n));
  std::vector<double> values = field.values;
  for (std::size_t i = 0; i < size; ++i) {
    if (!std::isfinite(values[i]))
      throw InvalidArgument("pk2d: the field holds a non-finite value at pixel " +
                            std::to_string(i / field.n) + "," + std::to_string(i % field.n));
    if (options.scaling == FieldScaling::Log) {
      values[i] = std::pow(10.0, values[i]);
      if (field.kind == FieldKind::Contrast) values[i] -= 1.0;  // 10^x = 1 + delta
    }
  }
  if (field.kind == FieldKind::Contrast)
    return power_spectrum_2d_of_contrast(values.data(), field.n, field.box_size,
                                         options.deconvolve);
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= double(size);
  if (!(mean > 0.0) || !std::isfinite(mean))
    throw InvalidArgument("pk2d: the mean of a density field must be positive and finite (got " +
                          std::to_string(mean) + ")");
  for (double& v : values) v = v / mean - 1.0;
  return power_spectrum_2d_of_contrast(values.data(), field.n, field.box_size, options.deconvolve);
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
