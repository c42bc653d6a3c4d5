#include "diffuscope/mock/lognormal_field.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "mock/lognormal_transform.h"
#include "numerics/fft.h"

namespace ds {

LognormalField2d::LognormalField2d(const Cosmology& cosmology, const GrfSettings& settings)
    : n_(settings.n), box_size_(settings.box_size) {
  const ProjectedPowerSpectrum target = grf_spectrum_2d(cosmology, settings);
  prepare(target);
}

LognormalField2d::LognormalField2d(const std::function<double(double)>& target_power, int n,
                                   double box_size)
    : n_(n), box_size_(box_size) {
  prepare(target_power);
}

void LognormalField2d::prepare(const std::function<double(double)>& target_power) {
  require_field_size(n_);
  if (!(box_size_ > 0.0) || !std::isfinite(box_size_))
    throw InvalidArgument("box size " + std::to_string(box_size_) + " must be positive");
  const int half = n_ / 2 + 1;
  const double k_fundamental = 2.0 * M_PI / box_size_;
  std::vector<double> target(std::size_t(n_) * half);
  for (int i = 0; i < n_; ++i) {
    const int kx = i <= n_ / 2 ? i : i - n_;
    for (int j = 0; j < half; ++j)
      target[std::size_t(i) * half + j] =
          (i == 0 && j == 0) ? 0.0
                             : target_power(k_fundamental * std::sqrt(double(kx * kx + j * j)));
  }
  const detail::GaussianSpectrum gaussian =
      detail::lognormal_gaussian_spectrum(target, n_, box_size_, 2);
  gaussian_power_ = gaussian.power;
  variance_ = gaussian.variance;
  clipped_fraction_ = gaussian.clipped_fraction;
}

Field2D LognormalField2d::draw(std::uint64_t seed, const JobContext& job) const {
  auto& fft = detail::RealFft2d::for_this_thread(n_);
  Rng rng(seed);
  double* real = fft.real();
  const std::size_t size = std::size_t(n_) * n_;
  for (std::size_t i = 0; i < size; ++i) real[i] = rng.normal();
  job.check_cancelled();
  fft.forward();
  // Colouring as gaussian_random_field_2d: E|W_k|^2 = n^2 for unit white noise, so the factor
  // sqrt(P_G) n / L gives E|G_k|^2 (L/n^2)^2 = P_G.
  const double scale = double(n_) / box_size_;
  std::complex<double>* modes = fft.complex();
  for (std::size_t m = 0; m < gaussian_power_.size(); ++m)
    modes[m] *= std::sqrt(gaussian_power_[m]) * scale;
  fft.backward();
  Field2D field;
  field.n = n_;
  field.box_size = box_size_;
  field.kind = FieldKind::Density;
  field.values.resize(size);
  const double inverse_norm = 1.0 / double(size), shift = 0.5 * variance_;
  for (std::size_t i = 0; i < size; ++i) field.values[i] = std::exp(real[i] * inverse_norm - shift);
  return field;
}

Field2D cosmological_lognormal_2d(const Cosmology& cosmology, const GrfSettings& settings,
                                  std::uint64_t seed, const JobContext& job) {
  const LognormalField2d generator(cosmology, settings);
  job.check_cancelled();
  return generator.draw(seed, job);
}

}  // namespace ds
