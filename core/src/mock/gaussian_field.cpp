#include "diffuscope/mock/gaussian_field.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "numerics/fft.h"

namespace ds {

void require_field_size(int n) {
  if (n < 16 || n > 512)
    throw InvalidArgument("field resolution " + std::to_string(n) + " is outside [16, 512]");
}

Field2D gaussian_random_field_2d(const std::function<double(double)>& power, int n, double box_size,
                                 std::uint64_t seed, const JobContext& job) {
  require_field_size(n);
  if (!(box_size > 0.0) || !std::isfinite(box_size))
    throw InvalidArgument("box size " + std::to_string(box_size) + " must be positive");
  const std::int64_t stages = 4;
  job.report(0, stages, "white noise");
  auto& fft = detail::RealFft2d::for_this_thread(n);
  Rng rng(seed);
  double* noise = fft.real();
  for (std::size_t i = 0, size = std::size_t(n) * n; i < size; ++i) noise[i] = rng.normal();
  job.check_cancelled();

  job.report(1, stages, "forward FFT");
  fft.forward();
  job.check_cancelled();

  // Unit white noise has E|W_k|^2 = n^2; scaling by sqrt(P) n / L gives E|delta_k|^2 (L/n^2)^2 = P.
  job.report(2, stages, "colouring");
  const double k_fundamental = 2.0 * M_PI / box_size;
  const double scale = double(n) / box_size;
  std::complex<double>* modes = fft.complex();
  const int half = fft.half();
  for (int i = 0; i < n; ++i) {
    const double kx = k_fundamental * (i <= n / 2 ? i : i - n);
    for (int j = 0; j < half; ++j) {
      const double ky = k_fundamental * j;
      const double k = std::sqrt(kx * kx + ky * ky);
      const double amplitude = (i == 0 && j == 0) ? 0.0 : std::sqrt(power(k)) * scale;
      modes[std::size_t(i) * half + j] *= amplitude;
    }
  }
  job.check_cancelled();

  job.report(3, stages, "inverse FFT");
  fft.backward();
  Field2D field;
  field.n = n;
  field.box_size = box_size;
  field.kind = FieldKind::Contrast;
  field.values.resize(std::size_t(n) * n);
  const double inverse_norm = 1.0 / (double(n) * n);
  for (std::size_t i = 0; i < field.values.size(); ++i)
    field.values[i] = fft.real()[i] * inverse_norm;
  job.report(stages, stages, "done");
  return field;
}

ProjectedPowerSpectrum grf_spectrum_2d(const Cosmology& cosmology, const GrfSettings& settings) {
  require_field_size(settings.n);
  const LinearPowerSpectrum linear(cosmology);
  // Tabulate over the grid's |k| range with margin: k_F / 2 to beyond the corner sqrt(2) k_Nyq.
  const double k_fundamental = 2.0 * M_PI / settings.box_size;
  const double k_corner = std::sqrt(2.0) * M_PI * settings.n / settings.box_size;
  return ProjectedPowerSpectrum(linear, settings.slab_thickness, 0.5 * k_fundamental,
                                1.05 * k_corner, 160);
}

Field2D cosmological_grf_2d(const Cosmology& cosmology, const GrfSettings& settings,
                            std::uint64_t seed, const JobContext& job) {
  const ProjectedPowerSpectrum projected = grf_spectrum_2d(cosmology, settings);
  job.check_cancelled();
  return gaussian_random_field_2d(projected, settings.n, settings.box_size, seed, job);
}

}  // namespace ds
