#include "diffuscope/mock/halo_catalogue.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "diffuscope/cosmology/growth.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/runtime.h"
#include "mock/displacement.h"
#include "mock/lognormal_transform.h"
#include "mock/prepared_cache.h"
#include "numerics/parallel.h"

namespace ds {

namespace {

constexpr double kHubble = 100.0;  // H0 in km/s per Mpc/h

// Poisson draw by inversion of the CDF with our own uniforms (std::poisson_distribution differs
// between standard libraries). Means above 20 are split into pieces, which stays exact.
std::uint64_t poisson(double mean, Rng& rng) {
  std::uint64_t count = 0;
  while (mean > 20.0) {
    count += poisson(20.0, rng);
    mean -= 20.0;
  }
  const double u = rng.uniform();
  double p = std::exp(-mean), cumulative = p;
  std::uint64_t k = 0;
  while (u >= cumulative && k < 1000) {
    ++k;
    p *= mean / double(k);
    cumulative += p;
  }
  return count + k;
}

void validate(const HaloCatalogueSettings& s) {
  if (s.n_halos < 1 || s.n_halos > 10000000)
    throw InvalidArgument("halo mock: --n-halos must be in [1, 10^7], got " +
                          std::to_string(s.n_halos));
  if (!(s.box_size > 0.0) || !std::isfinite(s.box_size))
    throw InvalidArgument("halo mock: box size " + std::to_string(s.box_size) +
                          " must be positive");
  if (s.mesh < 16 || s.mesh > 256 || s.mesh % 2)
    throw InvalidArgument("halo mock: mesh " + std::to_string(s.mesh) +
                          " must be even and in [16, 256]");
  if (!(s.headroom >= 1.2) || !(s.headroom <= 10.0))
    throw InvalidArgument("halo mock: headroom " + std::to_string(s.headroom) +
                          " must be in [1.2, 10]");
}

}  // namespace

LognormalHaloModel::LognormalHaloModel(const Cosmology& cosmology,
                                       const HaloCatalogueSettings& settings)
    : cosmology_(cosmology),
      settings_((validate(settings), settings)),
      linear_(cosmology),
      mass_function_(linear_, settings.mass_function) {
  const double volume = std::pow(settings.box_size, 3);
  const double kept_density = settings.n_halos / volume;
  try {
    keep_mass_ = mass_function_.mass_above_density(kept_density);
    draw_mass_ = mass_function_.mass_above_density(settings.headroom * kept_density);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("halo mock: " + std::to_string(settings.n_halos) + " halos in (" +
                          std::to_string(settings.box_size) +
                          " Mpc/h)^3 need halos outside the mass function's range 1e10 to "
                          "10^16.5 Msun/h; change --n-halos or --box");
  }
  bias_ = mass_function_.mean_bias_above(keep_mass_);
  smoothing_radius_ = lagrangian_radius(keep_mass_, cosmology) / std::sqrt(5.0);
  growth_rate_ = ds::growth_rate(cosmology);

  const int n = settings.mesh, half = n / 2 + 1;
  const double k_fundamental = 2.0 * M_PI / settings.box_size;
  std::vector<double> power_by_q(3 * (n / 2) * (n / 2) + 1, 0.0);
  for (std::size_t q = 1; q < power_by_q.size(); ++q)
    power_by_q[q] = halo_power(k_fundamental * std::sqrt(double(q)));
  std::vector<double> target(std::size_t(n) * n * half);
  std::size_t m = 0;
  for (int i = 0; i < n; ++i) {
    const int fi = i <= n / 2 ? i : i - n;
    for (int j = 0; j < n; ++j) {
      const int fj = j <= n / 2 ? j : j - n;
      for (int l = 0; l < half; ++l) target[m++] = power_by_q[fi * fi + fj * fj + l * l];
    }
  }
  const detail::GaussianSpectrum gaussian =
      detail::lognormal_gaussian_spectrum(target, n, settings.box_size, 3);
  gaussian_variance_ = gaussian.variance;
  clipped_fraction_ = gaussian.clipped_fraction;
  const double scale = std::pow(double(n) / settings.box_size, 1.5);
  gaussian_amplitude_.resize(gaussian.power.size());
  for (std::size_t i = 0; i < gaussian.power.size(); ++i)
    gaussian_amplitude_[i] = std::sqrt(gaussian.power[i]) * scale;
  linear_amplitude_ = detail::colouring_amplitudes(linear_, n, settings.box_size);
}

double LognormalHaloModel::halo_power(double k) const {
  return bias_ * bias_ * linear_(k) * std::exp(-k * k * smoothing_radius_ * smoothing_radius_);
}

HaloCatalogue LognormalHaloModel::draw(std::uint64_t seed, const JobContext& job) const {
  const int n = settings_.mesh;
  const double L = settings_.box_size, cell = L / n;
  auto& fft = detail::RealFft3d::for_this_thread(n);
  Rng noise(seed, 0);
  const detail::Modes3d white = detail::white_noise_modes(fft, noise);
  job.check_cancelled();

  // Halo density 1 + delta_h = exp(G - sigma_G^2 / 2), normalised to the expected total.
  detail::Mesh3d density;
  detail::coloured_field(fft, white, gaussian_amplitude_, true, density);
  double total = 0.0;
  for (double& g : density) {
    g = std::exp(g - 0.5 * gaussian_variance_);
    total += g;
  }
  job.check_cancelled();

  // Poisson sampling, cell by cell in mesh order; masses from the mass function above M_draw.
  Rng draws(seed, 1);
  const double expected = settings_.headroom * settings_.n_halos;
  const double density_above_draw = mass_function_.number_above(draw_mass_);
  std::vector<std::array<double, 3>> positions;
  std::vector<double> masses;
  positions.reserve(std::size_t(expected * 1.2));
  masses.reserve(positions.capacity());
  std::size_t c = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int l = 0; l < n; ++l, ++c) {
        const std::uint64_t count = poisson(expected * density[c] / total, draws);
        for (std::uint64_t h = 0; h < count; ++h) {
          const double x = (i + draws.uniform()) * cell, y = (j + draws.uniform()) * cell;
          const double z = (l + draws.uniform()) * cell;
          positions.push_back({x, y, z});
          // n(>M) uniform in (0, n(>M_draw)]: M follows dn/dM above M_draw.
          masses.push_back(
              mass_function_.mass_above_density(density_above_draw * (1.0 - draws.uniform())));
        }
      }
  const std::size_t keep = std::size_t(settings_.n_halos);
  if (masses.size() < keep)
    throw Error("halo mock: drew only " + std::to_string(masses.size()) + " halos for " +
                std::to_string(keep) + " (raise the headroom)");
  job.check_cancelled();

  std::vector<std::size_t> order(masses.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](std::size_t a, std::size_t b) {
                      return masses[a] > masses[b] || (masses[a] == masses[b] && a < b);
                    });

  // Linear velocities v = f a H psi at the kept halos.
  std::array<detail::Mesh3d, 3> psi;
  detail::zeldovich_displacement(fft, white, linear_amplitude_, L, psi);
  HaloCatalogue out;
  out.positions.resize(keep);
  out.velocities.resize(keep);
  out.masses.resize(keep);
  const double velocity_factor = growth_rate_ * kHubble;  // a = 1
  for (std::size_t h = 0; h < keep; ++h) {
    const std::size_t k = order[h];
    out.positions[h] = positions[k];
    out.masses[h] = masses[k];
    for (int a = 0; a < 3; ++a)
      out.velocities[h][a] =
          velocity_factor * detail::interpolate_periodic(psi[a], n, L, positions[k]);
  }
  return out;
}

HaloCatalogue lognormal_halo_catalogue(const Cosmology& cosmology,
                                       const HaloCatalogueSettings& settings, std::uint64_t seed,
                                       const JobContext& job) {
  const LognormalHaloModel model(cosmology, settings);
  job.check_cancelled();
  return model.draw(seed, job);
}

Dataset generate_halo_set(const HaloCatalogueSettings& settings, HaloFeatures features,
                          const SetDesign& design, const JobContext& job, int threads) {
  validate(settings);
  const std::vector<SetSample> samples = make_set(design);
  Dataset dataset;
  dataset.kind = SampleKind::Points;
  dataset.feature_names = halo_feature_names(features);
  const std::size_t F = dataset.feature_names.size(), N = std::size_t(settings.n_halos);
  dataset.shape = {samples.size(), N, F};
  dataset.samples.resize(samples.size() * N * F);
  dataset.box_size = settings.box_size;
  dataset.generator = "lognormal-halos";
  dataset.units =
      F == 3 ? "positions Mpc/h" : "positions Mpc/h, velocities km/s, log10 mass in Msun/h";
  describe_set(design, samples, dataset);

  detail::PreparedCache<LognormalHaloModel> models(samples, [&](const SetSample& s) {
    return std::make_unique<LognormalHaloModel>(sample_cosmology(s), settings);
  });
  // Float positions are kept inside [0, L): rounding to float may land exactly on L.
  const float top = std::nextafter(float(settings.box_size), 0.0f);
  detail::parallel_for(
      samples.size(), threads > 0 ? threads : thread_count(),
      [&](std::size_t i) {
        const auto model = models.acquire(i);
        const HaloCatalogue halos = model->draw(samples[i].seed);
        models.release(i);
        float* out = dataset.samples.data() + i * N * F;
        for (std::size_t h = 0; h < N; ++h, out += F) {
          for (int a = 0; a < 3; ++a) out[a] = std::min(float(halos.positions[h][a]), top);
          if (F == 7) {
            for (int a = 0; a < 3; ++a) out[3 + a] = float(halos.velocities[h][a]);
            out[6] = float(std::log10(halos.masses[h]));
          }
        }
      },
      job, "halo catalogue");
  return dataset;
}

}  // namespace ds
