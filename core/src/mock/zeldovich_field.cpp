#include "diffuscope/mock/zeldovich_field.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "diffuscope/cosmology/linear_power.h"
#include "diffuscope/cosmology/mass_function.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/gaussian_field.h"
#include "mock/displacement.h"

namespace ds {

namespace {

constexpr int kMaximumMesh = 128;

// Length of the overlap of [s - h, s + h] with the slab [0, d) on a periodic axis of length L,
// s already wrapped into [0, L). Only the image s - L can also reach the slab (d + 2h < L).
double slab_overlap(double s, double h, double d, double L) {
  double overlap = 0.0;
  for (double image : {s, s - L})
    overlap += std::max(0.0, std::min(image + h, d) - std::max(image - h, 0.0));
  return overlap;
}

double wrap(double x, double L) {
  double y = std::fmod(x, L);
  if (y < 0.0) y += L;
  return y >= L ? 0.0 : y;
}

}  // namespace

double nonlinear_wavenumber(const LinearPowerSpectrum& linear) {
  // Trapezoid in ln k from k = 1e-5 (where the integrand k^3 P ~ k^(3+n_s) is negligible) in
  // steps of 0.005; linear interpolation of the crossing.
  const double step = 0.005;
  double sum = 0.0, ln_k = std::log(1e-5);
  auto integrand = [&](double lk) {
    const double k = std::exp(lk);
    return k * k * k * linear(k) / (2.0 * M_PI * M_PI);
  };
  double previous = integrand(ln_k);
  while (ln_k < std::log(1e3)) {
    const double next = integrand(ln_k + step);
    const double increment = 0.5 * step * (previous + next);
    if (sum + increment >= 1.0) return std::exp(ln_k + step * (1.0 - sum) / increment);
    sum += increment;
    ln_k += step;
    previous = next;
  }
  return 1e3;
}

ZeldovichField2d::ZeldovichField2d(const Cosmology& cosmology, const ZeldovichSettings& settings)
    : settings_(settings) {
  require_field_size(settings.n);
  const double L = settings.box_size;
  if (!(L > 0.0) || !std::isfinite(L))
    throw InvalidArgument("box size " + std::to_string(L) + " must be positive");
  mesh_ = settings.mesh > 0 ? settings.mesh : std::min(settings.n, kMaximumMesh);
  if (mesh_ < 8 || mesh_ > 256 || mesh_ > settings.n)
    throw InvalidArgument("Zel'dovich mesh " + std::to_string(mesh_) +
                          " must be in [8, 256] and at most the map size " +
                          std::to_string(settings.n));
  if (!(settings.slab_thickness > 0.0) || settings.slab_thickness + L / mesh_ >= L)
    throw InvalidArgument("slab thickness " + std::to_string(settings.slab_thickness) +
                          " Mpc/h must be positive and leave room in the " + std::to_string(L) +
                          " Mpc/h box");
  const LinearPowerSpectrum linear(cosmology);
  if (settings.truncation_k < 0.0 || !std::isfinite(settings.truncation_k))
    throw InvalidArgument("Zel'dovich truncation wavenumber " +
                          std::to_string(settings.truncation_k) + " must be >= 0");
  truncation_k_ = settings.truncation_k;
  const double kt = truncation_k_;
  amplitude_ = detail::colouring_amplitudes(
      [&](double k) { return kt > 0.0 ? linear(k) * std::exp(-k * k / (kt * kt)) : linear(k); },
      mesh_, L);
  mean_surface_density_ = mean_matter_density(cosmology) * settings.slab_thickness;
}

Field2D ZeldovichField2d::draw(std::uint64_t seed, const JobContext& job) const {
  const int n = settings_.n, nm = mesh_;
  const double L = settings_.box_size, d = settings_.slab_thickness;
  auto& fft = detail::RealFft3d::for_this_thread(nm);
  Rng rng(seed);
  const detail::Modes3d white = detail::white_noise_modes(fft, rng);
  job.check_cancelled();
  std::array<detail::Mesh3d, 3> psi;
  detail::zeldovich_displacement(fft, white, amplitude_, L, psi);
  job.check_cancelled();

  // Layers that can reach the slab: |psi_z| <= its maximum over the mesh.
  double psi_z_max = 0.0;
  for (double v : psi[2]) psi_z_max = std::max(psi_z_max, std::abs(v));
  const double spacing_z = L / nm, half_z = 0.5 * spacing_z;
  const double spacing = L / n;
  // Each particle: a cube of side spacing x spacing x spacing_z; mass rho_m times its volume.
  const double particle_mass = mean_surface_density_ / d * spacing * spacing * spacing_z;

  Field2D field;
  field.n = n;
  field.box_size = L;
  field.kind = FieldKind::Density;
  field.values.assign(std::size_t(n) * n, 0.0);
  const bool on_mesh = n == nm;
  const double ratio = double(nm) / n;
  for (int layer = 0; layer < nm; ++layer) {
    const double qz = (layer + 0.5) * spacing_z;
    const double s_layer = wrap(qz - settings_.slab_offset, L);
    if (slab_overlap(s_layer, half_z + psi_z_max, d, L) <= 0.0) continue;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        double displacement[3];
        if (on_mesh) {
          const std::size_t index = (std::size_t(i) * nm + j) * nm + layer;
          for (int a = 0; a < 3; ++a) displacement[a] = psi[a][index];
        } else {
          // Bilinear in (x, y) within the particle's layer; mesh points at cell centres.
          const double u = (i + 0.5) * ratio - 0.5, v = (j + 0.5) * ratio - 0.5;
          const double iu = std::floor(u), iv = std::floor(v), tu = u - iu, tv = v - iv;
          const int i0 = (int(iu) + nm) % nm, j0 = (int(iv) + nm) % nm;
          const int i1 = (i0 + 1) % nm, j1 = (j0 + 1) % nm;
          auto at = [&](int a, int ii, int jj) {
            return psi[a][(std::size_t(ii) * nm + jj) * nm + layer];
          };
          for (int a = 0; a < 3; ++a)
            displacement[a] = (1 - tu) * ((1 - tv) * at(a, i0, j0) + tv * at(a, i0, j1)) +
                              tu * ((1 - tv) * at(a, i1, j0) + tv * at(a, i1, j1));
        }
        const double z = wrap(qz + displacement[2] - settings_.slab_offset, L);
        const double weight = slab_overlap(z, half_z, d, L) / spacing_z;
        if (weight <= 0.0) continue;
        // 2D cloud in cell onto pixel centres (i + 1/2) L / n.
        const double x = ((i + 0.5) * spacing + displacement[0]) / spacing - 0.5;
        const double y = ((j + 0.5) * spacing + displacement[1]) / spacing - 0.5;
        const double fx = std::floor(x), fy = std::floor(y), tx = x - fx, ty = y - fy;
        const int x0 = int(((long long)(fx) % n + n) % n), y0 = int(((long long)(fy) % n + n) % n);
        const int x1 = (x0 + 1) % n, y1 = (y0 + 1) % n;
        const double m = particle_mass * weight;
        field.values[std::size_t(x0) * n + y0] += m * (1 - tx) * (1 - ty);
        field.values[std::size_t(x0) * n + y1] += m * (1 - tx) * ty;
        field.values[std::size_t(x1) * n + y0] += m * tx * (1 - ty);
        field.values[std::size_t(x1) * n + y1] += m * tx * ty;
      }
    }
    if (layer % 8 == 0) job.check_cancelled();
  }
  const double pixel_area = spacing * spacing;
  for (double& v : field.values) v /= pixel_area;
  return field;
}

Field2D zeldovich_field_2d(const Cosmology& cosmology, const ZeldovichSettings& settings,
                           std::uint64_t seed, const JobContext& job) {
  const ZeldovichField2d generator(cosmology, settings);
  job.check_cancelled();
  return generator.draw(seed, job);
}

}  // namespace ds
