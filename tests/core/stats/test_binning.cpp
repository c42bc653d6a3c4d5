// Log rebinning of power spectra (35 bins in the Diffusion-HMC figures) and bin-edge checks.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "diffuscope/error.h"
#include "diffuscope/stats/binning.h"
#include "synthetic_fields.h"

TEST(Binning, LogSpacedEdgesHaveConstantRatioAndExactEnds) {
  const auto e = ds::log_spaced_edges(0.25, 25.0, 35);
  ASSERT_EQ(e.size(), 36u);
  EXPECT_EQ(e.front(), 0.25);
  EXPECT_EQ(e.back(), 25.0);
  for (std::size_t i = 1; i < e.size(); ++i)
    EXPECT_NEAR(e[i] / e[i - 1], std::pow(100.0, 1.0 / 35), 1e-12);
}

TEST(Binning, RebinIsTheModeWeightedMeanOfTheInputBins) {
  ds::PowerSpectrum s;
  s.k = {1.0, 2.0, 3.0, 4.0};
  s.pk = {10.0, 20.0, 30.0, 40.0};
  s.nmodes = {1, 3, 2, 4};
  const auto r = ds::rebin(s, {0.5, 2.5, 4.0});  // 4.0 == last edge goes to the last bin
  ASSERT_EQ(r.size(), 2u);
  EXPECT_DOUBLE_EQ(r.k[0], (1.0 * 1 + 2.0 * 3) / 4);
  EXPECT_DOUBLE_EQ(r.pk[0], (10.0 * 1 + 20.0 * 3) / 4);
  EXPECT_EQ(r.nmodes[0], 4);
  EXPECT_DOUBLE_EQ(r.pk[1], (30.0 * 2 + 40.0 * 4) / 6);
  EXPECT_EQ(r.nmodes[1], 6);
  // An empty bin is dropped.
  EXPECT_EQ(ds::rebin(s, {0.5, 0.7, 2.5, 4.0}).size(), 2u);
}

TEST(Binning, ThirtyFiveLogBinsOfA256FieldKeepEveryMode) {
  const int n = 256;
  const auto delta = dstest::coloured_field(
      2, n, 25.0, [](double k) { return 1.0 / (0.1 + k * k); }, 4, false);
  const auto pk = ds::power_spectrum_2d_of_contrast(delta.data(), n, 25.0);
  const auto log = ds::rebin_log(pk, 35);
  EXPECT_LE(log.size(), 35u);
  // From k_F to 181 k_F a log bin is 16% wide: below ~6 k_F some hold no mode and are dropped.
  EXPECT_GE(log.size(), 25u);
  const auto total = [](const ds::PowerSpectrum& s) {
    return std::accumulate(s.nmodes.begin(), s.nmodes.end(), std::int64_t(0));
  };
  EXPECT_EQ(total(log), total(pk));
  double mode_power = 0.0, log_power = 0.0;
  for (std::size_t b = 0; b < pk.size(); ++b) mode_power += pk.pk[b] * double(pk.nmodes[b]);
  for (std::size_t b = 0; b < log.size(); ++b) log_power += log.pk[b] * double(log.nmodes[b]);
  EXPECT_NEAR(log_power, mode_power, 1e-10 * mode_power);
  for (std::size_t b = 1; b < log.size(); ++b) EXPECT_GT(log.k[b], log.k[b - 1]);
  EXPECT_EQ(log.k.front(), pk.k.front());
}

TEST(Binning, NonIncreasingOrShortEdgesAreRejected) {
  EXPECT_THROW(ds::require_increasing_edges({1.0}, "x"), ds::InvalidArgument);
  EXPECT_THROW(ds::require_increasing_edges({1.0, 1.0}, "x"), ds::InvalidArgument);
  EXPECT_THROW(ds::require_increasing_edges({1.0, 3.0, 2.0}, "x"), ds::InvalidArgument);
  EXPECT_THROW(ds::require_increasing_edges({1.0, INFINITY}, "x"), ds::InvalidArgument);
  EXPECT_THROW(ds::log_spaced_edges(0.0, 1.0, 5), ds::InvalidArgument);
  EXPECT_THROW(ds::log_spaced_edges(1.0, 2.0, 0), ds::InvalidArgument);
  try {
    ds::require_increasing_edges({0.0, 2.0, 2.0}, "tpcf");
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("tpcf: bin edges must be strictly increasing (edge 2"),
              std::string::npos)
        << e.what();
  }
}
