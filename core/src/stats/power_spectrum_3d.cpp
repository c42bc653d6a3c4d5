#include "diffuscope/stats/power_spectrum_3d.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/stats/mass_assignment.h"
#include "numerics/fft.h"
#include "stats/spectrum_bins.h"

namespace ds {

PowerSpectrum power_spectrum_3d_of_contrast(const double* delta, int n, double box_size,
                                            MassAssignment deconvolve) {
  if (n < 2 || n % 2)
    throw InvalidArgument("pk3d: mesh size " + std::to_string(n) + " must be even");
  if (!(box_size > 0.0) || !std::isfinite(box_size))
    throw InvalidArgument("pk3d: box size must be positive and finite");
  auto& fft = detail::RealFft3d::for_this_thread(n);
  std::copy(delta, delta + fft.real_size(), fft.real());
  fft.forward();

  const int middle = n / 2;
  // 1 / W(m)^2 per signed mode index m (offset by middle): P is divided by prod_i W(k_i)^2.
  const std::vector<double> inverse_window2 = detail::inverse_window_squared(n, deconvolve);

  const int bins = int(std::sqrt(3.0) * middle) + 1;  // bin 0 (DC) dropped below
  detail::SpectrumBins binned(bins);
  const std::complex<double>* modes = fft.complex();
  const int half = fft.half();
  for (int i = 0; i < n; ++i) {
    const int kx = i > middle ? i - n : i;  // index n/2 is +n/2 (Pylians)
    for (int j = 0; j < n; ++j) {
      const int ky = j > middle ? j - n : j;
      const double wxy =
          inverse_window2[std::size_t(kx + middle)] * inverse_window2[std::size_t(ky + middle)];
      const std::complex<double>* row = modes + (std::size_t(i) * n + j) * half;
      for (int kz = 0; kz < half; ++kz) {
        // Independent modes only: on the kz = 0 and kz = n/2 planes drop kx < 0, and on their
        // kx = 0 and kx = n/2 lines drop ky < 0 (the complex conjugates of kept modes).
        if (kz == 0 || kz == middle) {
          if (kx < 0) continue;
          if ((kx == 0 || kx == middle) && ky < 0) continue;
        }
        const double k = std::sqrt(double(kx) * kx + double(ky) * ky + double(kz) * kz);
        binned.add(k, std::norm(row[kz]) * wxy * inverse_window2[std::size_t(kz + middle)]);
      }
    }
  }
  const double k_fundamental = 2.0 * M_PI / box_size;
  const double norm = std::pow(box_size / (double(n) * n), 3);
  return binned.finish(k_fundamental, norm);
}

PowerSpectrum power_spectrum_3d(const PointCloud& points, int n, MassAssignment scheme,
                                const WarningCallback& warn) {
  if (n < 2 || n % 2)
    throw InvalidArgument("pk3d: mesh size " + std::to_string(n) + " must be even");
  if (scheme == MassAssignment::None)
    throw InvalidArgument("pk3d: points need a mass assignment scheme (ngp, cic, tsc, pcs)");
  const auto positions = positions_in_box(points, "pk3d", warn);
  std::vector<double> mesh = paint_mesh_3d(positions, points.box_size, n, scheme);
  double mean = 0.0;
  for (double v : mesh) mean += v;
  mean /= double(mesh.size());
  for (double& v : mesh) v = v / mean - 1.0;
  return power_spectrum_3d_of_contrast(mesh.data(), n, points.box_size, scheme);
}

}  // namespace ds
