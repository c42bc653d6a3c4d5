// Lognormal halo catalogues: count, box, mass ordering and abundance against the mass function,
// clustering against linear theory, velocities, reproducibility.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/mock/halo_catalogue.h"

namespace {

ds::Cosmology cosmology(double omega_m, double sigma_8) {
  ds::Cosmology c;
  c.omega_m = omega_m;
  c.sigma_8 = sigma_8;
  return c;
}

double rms_velocity(const ds::HaloCatalogue& h) {
  double sum = 0.0;
  for (const auto& v : h.velocities) sum += v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
  return std::sqrt(sum / (3.0 * h.size()));  // per component
}

// Periodic pair counts of one catalogue in [r_lo, r_hi) (brute force, minimum image).
double pair_count(const ds::HaloCatalogue& h, double box, double r_lo, double r_hi) {
  double count = 0.0;
  for (std::size_t i = 0; i < h.size(); ++i)
    for (std::size_t j = i + 1; j < h.size(); ++j) {
      double d2 = 0.0;
      for (int a = 0; a < 3; ++a) {
        double d = std::abs(h.positions[i][a] - h.positions[j][a]);
        if (d > 0.5 * box) d = box - d;
        d2 += d * d;
      }
      if (d2 >= r_lo * r_lo && d2 < r_hi * r_hi) count += 1.0;
    }
  return count;
}

}  // namespace

TEST(HaloCatalogue, CountBoxOrderAndAbundanceFollowTheMassFunction) {
  const ds::HaloCatalogueSettings settings;  // 5000 halos, 1000 Mpc/h, 128^3
  const ds::LognormalHaloModel model(ds::Cosmology{}, settings);
  const auto start = std::chrono::steady_clock::now();
  const ds::HaloCatalogue halos = model.draw(21);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "halos: M_keep %.3e, M_draw %.3e Msun/h, bias %.3f, R_s %.2f Mpc/h, sigma_G^2 %.3f, "
      "clipped %.1e, f %.3f; draw %.2f s\n",
      model.keep_mass(), model.draw_mass(), model.bias(), model.smoothing_radius(),
      model.gaussian_variance(), model.clipped_fraction(), model.growth_rate(), seconds);
  ASSERT_EQ(halos.size(), 5000u);
  for (std::size_t h = 0; h < halos.size(); ++h) {
    for (int a = 0; a < 3; ++a) {
      ASSERT_GE(halos.positions[h][a], 0.0);
      ASSERT_LT(halos.positions[h][a], 1000.0);
    }
    if (h) {
      ASSERT_GE(halos.masses[h - 1], halos.masses[h]) << "not heaviest first at " << h;
    }
  }
  // The 5000 heaviest of (1 Gpc/h)^3: masses ~1e14 to 1e15.5 Msun/h.
  EXPECT_GT(halos.masses.back(), 5e13);
  EXPECT_LT(halos.masses.back(), 5e14);
  EXPECT_GT(halos.masses.front(), 1e15);
  EXPECT_LT(halos.masses.front(), 1e16);
  // Abundance: the lightest kept mass M_min has n(>M_min) V = N up to Poisson noise (sqrt N).
  const double volume = 1e9;
  const double expected = model.mass_function().number_above(halos.masses.back()) * volume;
  std::printf("n(>M_min) V = %.0f for N = 5000 (Poisson sigma 71)\n", expected);
  EXPECT_NEAR(expected, 5000.0, 4.0 * std::sqrt(5000.0));
  // And the mass distribution above it follows the mass function: half the halos above the
  // mass with n(>M) V = 2500.
  const double median_mass = model.mass_function().mass_above_density(2500.0 / volume);
  int above = 0;
  for (double m : halos.masses) above += m > median_mass;
  EXPECT_NEAR(above, 2500, 4.0 * std::sqrt(2500.0));
}

TEST(HaloCatalogue, ClusteringFollowsTheBiasedLinearCorrelationFunction) {
  // Pair counts at 20-60 Mpc/h against b^2 xi(r) of the target spectrum, averaged over the shell
  // (xi from a Hankel transform of halo_power). Poisson would give xi = 0.
  const ds::HaloCatalogueSettings settings;
  const ds::LognormalHaloModel model(ds::Cosmology{}, settings);
  const double box = settings.box_size, r_lo = 20.0, r_hi = 60.0;
  auto xi_target = [&](double r) {
    double sum = 0.0;
    const double dk = 1e-3;
    for (double k = 0.5 * dk; k < 2.0; k += dk) {
      const double kr = k * r;
      sum += k * k * model.halo_power(k) * std::sin(kr) / kr * dk;
    }
    return sum / (2.0 * M_PI * M_PI);
  };
  double xi_shell = 0.0, weight = 0.0;
  for (double r = r_lo + 0.5; r < r_hi; r += 1.0) {
    xi_shell += r * r * xi_target(r);
    weight += r * r;
  }
  xi_shell /= weight;
  double pairs = 0.0, randoms = 0.0;
  const int catalogues = 3;
  for (int c = 0; c < catalogues; ++c) {
    const auto halos = model.draw(500 + c);
    pairs += pair_count(halos, box, r_lo, r_hi);
    const double n = double(halos.size());
    randoms += 0.5 * n * (n - 1) / (box * box * box) * 4.0 / 3.0 * M_PI *
               (r_hi * r_hi * r_hi - r_lo * r_lo * r_lo);
  }
  const double xi = pairs / randoms - 1.0;
  const double error = std::sqrt(pairs) / randoms;  // Poisson error of the pair count
  std::printf("halos: xi(20-60 Mpc/h) = %.4f +- %.4f, target b^2 xi_lin = %.4f (b = %.2f)\n", xi,
              error, xi_shell, model.bias());
  EXPECT_GT(xi, 5.0 * error);  // clustered, not Poisson
  EXPECT_NEAR(xi / xi_shell, 1.0, 0.35);
}

TEST(HaloCatalogue, VelocitiesAreLinearAndScaleWithGrowthRateTimesSigma8) {
  ds::HaloCatalogueSettings settings;
  settings.mesh = 64;  // cheaper; velocities come from the large scales
  const ds::LognormalHaloModel low(cosmology(0.3, 0.6), settings);
  const ds::LognormalHaloModel high(cosmology(0.3, 1.0), settings);
  const double v_low = rms_velocity(low.draw(8)), v_high = rms_velocity(high.draw(8));
  std::printf("halos: v_rms per component %.1f km/s (sigma_8 0.6), %.1f km/s (1.0)\n", v_low,
              v_high);
  // Linear theory with the same white noise: v ~ f sigma_8; halos sit at different places in the
  // two boxes, so allow 10 %. Quijote's halos: ~300-400 km/s per component.
  EXPECT_GT(v_low, 150.0);
  EXPECT_LT(v_high, 700.0);
  EXPECT_NEAR((v_high / v_low) / (1.0 / 0.6), 1.0, 0.1);
  // Omega_m through f: at fixed sigma_8, a higher Omega_m has a larger f but less large-scale
  // power; the velocity factor f H is what changes the normalisation.
  EXPECT_NEAR(high.growth_rate(), std::pow(0.3, 0.55), 0.01);
}

TEST(HaloCatalogue, SameSeedIsBitIdenticalAcrossThreadCounts) {
  ds::HaloCatalogueSettings settings;
  settings.mesh = 32;
  settings.n_halos = 300;
  ds::SetDesign design;
  design.kind = ds::SetKind::LatinHypercube;
  design.n_cosmo = 2;
  design.per_cosmo = 2;
  design.seed = 77;
  const ds::Dataset one = ds::generate_halo_set(settings, ds::HaloFeatures::All, design, {}, 1);
  const ds::Dataset two = ds::generate_halo_set(settings, ds::HaloFeatures::All, design, {}, 2);
  ASSERT_EQ(one.shape, (std::vector<std::size_t>{4, 300, 7}));
  EXPECT_EQ(one.samples, two.samples);
  EXPECT_EQ(one.params, two.params);
  EXPECT_EQ(one.feature_names, ds::halo_feature_names(ds::HaloFeatures::All));
  EXPECT_EQ(one.source, "mock");
  EXPECT_EQ(one.box_size, 1000.0);
  const ds::Dataset positions =
      ds::generate_halo_set(settings, ds::HaloFeatures::Positions, design, {}, 2);
  ASSERT_EQ(positions.shape[2], 3u);
  // The same catalogues: positions equal the first three features.
  for (std::size_t h = 0; h < 300; ++h)
    for (int a = 0; a < 3; ++a) EXPECT_EQ(positions.samples[h * 3 + a], one.samples[h * 7 + a]);
}

TEST(HaloCatalogue, RejectsImpossibleRequests) {
  ds::HaloCatalogueSettings s;
  s.n_halos = 0;
  EXPECT_THROW(ds::LognormalHaloModel(ds::Cosmology{}, s), ds::InvalidArgument);
  s = {};
  s.mesh = 17;
  EXPECT_THROW(ds::LognormalHaloModel(ds::Cosmology{}, s), ds::InvalidArgument);
  s = {};
  s.box_size = 1.0;  // 5000 halos in 1 (Mpc/h)^3: beyond the mass function's table
  EXPECT_THROW(ds::LognormalHaloModel(ds::Cosmology{}, s), ds::InvalidArgument);
}
