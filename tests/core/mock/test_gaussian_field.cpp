#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/gaussian_field.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "mock_test_helpers.h"

TEST(GaussianField, MeasuredSpectrumRecoversTheInputSpectrum) {
  const ds::LinearPowerSpectrum linear{ds::Cosmology{}};
  const ds::ProjectedPowerSpectrum p2d(linear);
  const int n = 64, realisations = 24;
  const double box = 25.0;
  const auto expected = dstest::expected_binned_2d(p2d, n, box);
  std::vector<double> mean(expected.size(), 0.0);
  std::vector<std::int64_t> nmodes;
  for (int r = 0; r < realisations; ++r) {
    const auto field = ds::gaussian_random_field_2d(p2d, n, box, 100 + r);
    const auto pk = ds::power_spectrum_2d(field);
    ASSERT_EQ(pk.size(), expected.size());
    for (std::size_t b = 0; b < pk.size(); ++b) mean[b] += pk.pk[b] / realisations;
    nmodes = pk.nmodes;
  }
  double chi2 = 0.0;
  for (std::size_t b = 0; b < mean.size(); ++b) {
    // Each mode's |delta_k|^2 is exponential (variance P^2), averaged over nmodes x realisations.
    const double sigma = expected[b] / std::sqrt(double(nmodes[b]) * realisations);
    const double pull = (mean[b] - expected[b]) / sigma;
    EXPECT_LT(std::abs(pull), 5.0)
        << "bin " << b << " measured " << mean[b] << " expected " << expected[b];
    chi2 += pull * pull;
  }
  const double dof = double(mean.size());
  EXPECT_GT(chi2 / dof, 0.5);
  EXPECT_LT(chi2 / dof, 1.7) << "chi2 " << chi2 << " for " << dof << " bins";
}

TEST(GaussianField, AmplitudeFollowsSigma8AndShapeFollowsOmegaM) {
  ds::GrfSettings settings;
  settings.n = 64;
  ds::Cosmology low, high, dense;
  low.sigma_8 = 0.6;
  high.sigma_8 = 1.0;
  dense.omega_m = 0.5;
  auto rms = [](const ds::Field2D& f) {
    double s = 0;
    for (double v : f.values) s += v * v;
    return std::sqrt(s / f.values.size());
  };
  // Same seed: the same white noise, so the field scales exactly with sigma_8.
  const auto f_low = ds::cosmological_grf_2d(low, settings, 5);
  const auto f_high = ds::cosmological_grf_2d(high, settings, 5);
  EXPECT_NEAR(rms(f_high) / rms(f_low), 1.0 / 0.6, 1e-9);
  const auto f_dense = ds::cosmological_grf_2d(dense, settings, 5);
  const auto p_fid = ds::power_spectrum_2d(ds::cosmological_grf_2d(ds::Cosmology{}, settings, 5));
  const auto p_dense = ds::power_spectrum_2d(f_dense);
  // Higher Omega_m at fixed sigma_8: more small-scale power relative to large scales.
  const std::size_t lo = 1, hi = p_fid.size() - 5;
  EXPECT_GT(p_dense.pk[hi] / p_dense.pk[lo], p_fid.pk[hi] / p_fid.pk[lo]);
}

TEST(GaussianField, SameSeedIsBitIdenticalAcrossThreadsAndSeedsDiffer) {
  ds::GrfSettings settings;
  settings.n = 128;
  const auto reference = ds::cosmological_grf_2d(ds::Cosmology{}, settings, 42);
  ds::Field2D from_thread;
  std::thread worker([&] { from_thread = ds::cosmological_grf_2d(ds::Cosmology{}, settings, 42); });
  worker.join();
  EXPECT_EQ(reference.values, from_thread.values);
  const auto other = ds::cosmological_grf_2d(ds::Cosmology{}, settings, 43);
  EXPECT_NE(reference.values, other.values);
  double mean = 0;
  for (double v : reference.values) mean += v;
  EXPECT_NEAR(mean / reference.values.size(), 0.0, 1e-12);  // DC mode removed
}

TEST(GaussianField, RejectsBadSizesAndBoxes) {
  auto flat = [](double) { return 1.0; };
  EXPECT_THROW(ds::gaussian_random_field_2d(flat, 8, 25.0, 1), ds::InvalidArgument);
  EXPECT_THROW(ds::gaussian_random_field_2d(flat, 1024, 25.0, 1), ds::InvalidArgument);
  EXPECT_THROW(ds::gaussian_random_field_2d(flat, 64, -1.0, 1), ds::InvalidArgument);
}
