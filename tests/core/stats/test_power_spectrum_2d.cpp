// Golden test against Pylians3 Pk_plane (../shared/testdata/goldens/README.md, case pk2d_a).
#include <gtest/gtest.h>

#include <cmath>

#include "../test_helpers.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/stats/power_spectrum_2d.h"

TEST(PowerSpectrum2dGolden, ReproducesPyliansPkPlane) {
  const auto delta = ds::read_npy(dstest::testdata("goldens/pk2d_a_delta.npy"));
  const auto expected = dstest::read_csv_columns(dstest::testdata("goldens/pk2d_a_expected.csv"));
  const auto pk = ds::power_spectrum_2d_of_contrast(delta.data.data(), 64, 25.0);
  ASSERT_EQ(pk.size(), expected[0].size());
  ASSERT_EQ(pk.size(), std::size_t(std::sqrt(2.0) * 32));  // floor(sqrt(2) N/2) bins
  for (std::size_t b = 0; b < pk.size(); ++b) {
    EXPECT_NEAR(pk.k[b], expected[0][b], 1e-12 * expected[0][b]) << "bin " << b;
    // Pylians works in float32; a float64 calculation agrees to 3.2e-7 (README).
    EXPECT_NEAR(pk.pk[b], expected[1][b], 1e-5 * expected[1][b]) << "bin " << b << " k " << pk.k[b];
    EXPECT_EQ(pk.nmodes[b], std::int64_t(expected[2][b])) << "bin " << b;
  }
}

TEST(PowerSpectrum2dGolden, DensityFieldIsNormalisedByItsMean) {
  const auto raw = ds::read_npy(dstest::testdata("goldens/pk2d_a_field.npy"));
  const auto expected = dstest::read_csv_columns(dstest::testdata("goldens/pk2d_a_expected.csv"));
  ds::Field2D field{64, 25.0, ds::FieldKind::Density, raw.data};
  const auto pk = ds::power_spectrum_2d(field);
  ASSERT_EQ(pk.size(), expected[0].size());
  // The peer received float32(field/mean - 1): agreement to float32 rounding of delta.
  for (std::size_t b = 0; b < pk.size(); ++b)
    EXPECT_NEAR(pk.pk[b], expected[1][b], 1e-4 * expected[1][b]) << "bin " << b;
}

TEST(PowerSpectrum2dGolden, CutAtNyquistKeepsOnlyResolvedBins) {
  const auto delta = ds::read_npy(dstest::testdata("goldens/pk2d_a_delta.npy"));
  const auto pk = ds::power_spectrum_2d_of_contrast(delta.data.data(), 64, 25.0);
  const auto cut = ds::cut_at_nyquist(pk, 64, 25.0);
  ASSERT_LT(cut.size(), pk.size());
  EXPECT_LE(cut.k.back(), M_PI * 64 / 25.0);
  EXPECT_GT(pk.k[cut.size()], M_PI * 64 / 25.0);
}
