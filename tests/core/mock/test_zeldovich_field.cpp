// Zel'dovich 2D mocks: mass conservation, positivity, response of the spectrum to sigma_8 and
// Omega_m, reproducibility, the large-map path.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "diffuscope/cosmology/linear_power.h"
#include "diffuscope/cosmology/mass_function.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/zeldovich_field.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "mock_test_helpers.h"

namespace {

ds::Cosmology cosmology(double omega_m, double sigma_8) {
  ds::Cosmology c;
  c.omega_m = omega_m;
  c.sigma_8 = sigma_8;
  return c;
}

// Mean spectrum of `count` maps (seeds 100..) of one generator.
std::vector<double> mean_spectrum(const ds::ZeldovichField2d& generator, int count) {
  std::vector<double> mean;
  for (int r = 0; r < count; ++r) {
    const auto pk = ds::power_spectrum_2d(generator.draw(100 + r)).pk;
    mean.resize(pk.size(), 0.0);
    for (std::size_t b = 0; b < pk.size(); ++b) mean[b] += pk[b] / count;
  }
  return mean;
}

}  // namespace

TEST(ZeldovichField, ConservesMassAndIsPositiveInCamelsUnits) {
  ds::ZeldovichSettings settings;  // 64^2, 25 Mpc/h, 5 Mpc/h slab
  const ds::Cosmology c = cosmology(0.3, 0.8);
  const ds::ZeldovichField2d generator(c, settings);
  EXPECT_EQ(generator.mesh(), 64);
  const double expected_mean = ds::mean_matter_density(c) * 5.0;  // (Msun/h)/(Mpc/h)^2
  EXPECT_NEAR(generator.mean_surface_density(), 2.77536627e11 * 0.3 * 5.0, 1.0);
  double grand_mean = 0.0, grand_min = 1e300, grand_max = 0.0;
  const int maps = 10;
  for (int r = 0; r < maps; ++r) {
    const auto f = generator.draw(40 + r);
    EXPECT_EQ(f.kind, ds::FieldKind::Density);
    ASSERT_EQ(f.values.size(), 64u * 64u);
    const double mean = dstest::mean_of(f.values);
    grand_mean += mean / maps;
    for (double v : f.values) {
      grand_min = std::min(grand_min, v);
      grand_max = std::max(grand_max, v);
    }
    // Mass moves in and out of the slab: the slab-averaged compression (psi_z(top) -
    // psi_z(bottom)) / 5 Mpc/h, with psi ~ 3 Mpc/h, moves a map's mean by tens of per cent
    // (observed 0.63 to 1.77 over these 10 maps); the mean over maps is unbiased.
    EXPECT_GT(mean / expected_mean, 0.3) << "map " << r;
    EXPECT_LT(mean / expected_mean, 2.5) << "map " << r;
  }
  std::printf("zeldovich 64^2: mean/expected %.4f, min %.3e, max %.3e (Msun/h)/(Mpc/h)^2\n",
              grand_mean / expected_mean, grand_min, grand_max);
  EXPECT_NEAR(grand_mean / expected_mean, 1.0, 0.1);
  EXPECT_GE(grand_min, 0.0);
  // Filaments and knots: a long tail of dense pixels, and empty-ish voids.
  EXPECT_GT(grand_max / expected_mean, 10.0);
  EXPECT_LT(grand_min / expected_mean, 0.2);
}

TEST(ZeldovichField, LargeScalePowerRisesWithSigma8) {
  // Same seeds, so the same linear modes scaled by sigma_8. Linear theory would give
  // P ~ sigma_8^2 (2.78x from 0.6 to 1.0); the ZA damps the large-scale power by
  // exp(-k^2 sigma_psi^2) with sigma_psi ~ sigma_8, so the map's response on the largest scales
  // (first two bins, k = 0.25-0.5 h/Mpc) is weaker: observed 1.67x. Untruncated it would even be
  // reversed (1.4x, 1.0x), which is why the linear field is truncated (zeldovich_field.h).
  ds::ZeldovichSettings settings;
  const auto low = mean_spectrum(ds::ZeldovichField2d(cosmology(0.3, 0.6), settings), 8);
  const auto high = mean_spectrum(ds::ZeldovichField2d(cosmology(0.3, 1.0), settings), 8);
  const double linear = (1.0 / 0.6) * (1.0 / 0.6);
  const double ratio = 0.5 * (high[0] / low[0] + high[1] / low[1]);
  std::printf("zeldovich large-scale P ratio sigma_8 1.0/0.6: %.3f (linear %.3f)\n", ratio, linear);
  EXPECT_GT(ratio / linear, 0.5);
  EXPECT_LT(ratio / linear, 1.1);
  for (int b = 0; b < 3; ++b) EXPECT_GT(high[b], 1.2 * low[b]) << "bin " << b;
}

namespace {
// 1D rms of the (truncated) linear displacement carried by the modes of a 25 Mpc/h box,
// sigma_psi^2 = (1/6 pi^2) \int_{k_F} P(k) e^{-k^2/k_t^2} dk (longer waves move the box as a whole
// and damp nothing).
double displacement_rms(const ds::Cosmology& c, double k_t) {
  const ds::LinearPowerSpectrum linear(c);
  double sum = 0.0;
  const double step = 1e-3;
  for (double k = 2.0 * M_PI / 25.0; k < 5.0; k += step)
    sum += linear(k) * std::exp(-k * k / (k_t * k_t));
  return std::sqrt(sum * step / (6.0 * M_PI * M_PI));
}
}  // namespace

TEST(ZeldovichField, ShapeFollowsOmegaM) {
  // At fixed sigma_8 a larger Omega_m moves the turnover of P_lin to larger k (k_eq ~ Omega_m h):
  // the linear field has relatively more power at k ~ 1 h/Mpc than at the box scale (the GRF
  // mocks show that). The ZA map's shape is dominated by the Zel'dovich damping
  // exp(-k^2 sigma_psi^2) instead: at fixed sigma_8 the larger Omega_m has the larger displacement
  // rms (more power between 0.3 and 1 h/Mpc), so its map loses relatively more small-scale power.
  // Expected direction therefore: the tilt P(k ~ 1.5)/P(k_F) falls with Omega_m, by a factor of
  // order exp(-k^2 (sigma_high^2 - sigma_low^2)). Observed: 0.77 at bin 3 (k = 1 h/Mpc) and
  // 0.5-0.7 beyond (0.55 at k = 1.5 h/Mpc); the mass scales with Omega_m exactly.
  ds::ZeldovichSettings settings;
  const ds::Cosmology c_low = cosmology(0.15, 0.8), c_high = cosmology(0.45, 0.8);
  const ds::ZeldovichField2d g_low(c_low, settings), g_high(c_high, settings);
  const auto low = mean_spectrum(g_low, 8);
  const auto high = mean_spectrum(g_high, 8);
  const double s_low = displacement_rms(c_low, settings.truncation_k);
  const double s_high = displacement_rms(c_high, settings.truncation_k);
  const std::size_t bin = 5;  // k = 1.5 h/Mpc
  const double k = 2.0 * M_PI / 25.0 * (bin + 1);
  const double damping = std::exp(-k * k * (s_high * s_high - s_low * s_low));
  const double tilt = (high[bin] / high[0]) / (low[bin] / low[0]);
  std::printf(
      "zeldovich Omega_m 0.45 vs 0.15: sigma_psi %.2f vs %.2f Mpc/h, tilt ratio %.3f "
      "(ZA damping alone %.3f)\n",
      s_high, s_low, tilt, damping);
  EXPECT_GT(s_high, s_low);
  EXPECT_LT(tilt, 0.9);
  EXPECT_GT(tilt, 0.5 * damping);
  EXPECT_NEAR(g_high.mean_surface_density() / g_low.mean_surface_density(), 3.0, 1e-12);
}

TEST(ZeldovichField, SameSeedIsBitIdenticalOnAnyThreadAndSeedsDiffer) {
  ds::ZeldovichSettings settings;
  settings.n = 32;
  const ds::ZeldovichField2d generator(ds::Cosmology{}, settings);
  const auto a = generator.draw(5);
  ds::Field2D b;
  std::thread worker([&] { b = generator.draw(5); });
  worker.join();
  EXPECT_EQ(a.values, b.values);
  EXPECT_NE(a.values, generator.draw(6).values);
}

TEST(ZeldovichField, MapsLargerThanTheMeshInterpolateTheDisplacement) {
  // 256^2 maps use a 128^3 mesh and a 256 x 256 x 128 lattice: same mean, and on the scales both
  // resolve, the same spectrum as a 128^2 map of the same white noise.
  ds::ZeldovichSettings small, large;
  small.n = 128;
  large.n = 256;
  const ds::ZeldovichField2d a(ds::Cosmology{}, small), b(ds::Cosmology{}, large);
  EXPECT_EQ(b.mesh(), 128);
  const auto fa = a.draw(3), fb = b.draw(3);
  EXPECT_NEAR(dstest::mean_of(fb.values) / dstest::mean_of(fa.values), 1.0, 1e-3);
  const auto pa = ds::power_spectrum_2d(fa), pb = ds::power_spectrum_2d(fb);
  for (int bin = 0; bin < 10; ++bin)
    EXPECT_NEAR(pb.pk[bin] / pa.pk[bin], 1.0, 0.1) << "bin " << bin;
}

TEST(ZeldovichField, RejectsBadSettings) {
  ds::ZeldovichSettings s;
  s.n = 8;
  EXPECT_THROW(ds::ZeldovichField2d(ds::Cosmology{}, s), ds::InvalidArgument);
  s = {};
  s.slab_thickness = 30.0;
  EXPECT_THROW(ds::ZeldovichField2d(ds::Cosmology{}, s), ds::InvalidArgument);
  s = {};
  s.box_size = -1.0;
  EXPECT_THROW(ds::ZeldovichField2d(ds::Cosmology{}, s), ds::InvalidArgument);
}

TEST(ZeldovichField, OneMapAt64IsFast) {
  const ds::ZeldovichField2d generator(ds::Cosmology{}, ds::ZeldovichSettings{});
  generator.draw(1);  // plans
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < 10; ++r) generator.draw(r);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 10;
  std::printf("zeldovich 64^2 (64^3 lattice): %.1f ms per map\n", seconds * 1e3);
  EXPECT_LT(seconds, 0.2);  // the bench target is 60 ms on one of two cores; loose here
}
