// Density histograms with numpy.histogram(..., density=True) semantics.
#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/stats/histogram.h"

TEST(Histogram, MatchesNumpyDensityHistogram) {
  // numpy.histogram([0, 0.5, 1, 1, 2.5, 3, 7], bins=3, range=(0, 3), density=True):
  // counts [2, 2, 2] (3 is in the closed last bin, 7 outside), density 2 / (6 * 1) each.
  const auto h = ds::density_histogram({0, 0.5, 1, 1, 2.5, 3, 7}, 0.0, 3.0, 3);
  EXPECT_EQ(h.counts, (std::vector<std::int64_t>{2, 2, 2}));
  EXPECT_EQ(h.outside, 1);
  for (double d : h.density) EXPECT_DOUBLE_EQ(d, 1.0 / 3.0);
  EXPECT_EQ(h.edges, (std::vector<double>{0, 1, 2, 3}));
}

TEST(Histogram, DensityIntegratesToOneOnTheDefaultLogRange) {
  ds::Field2D field{64, 25.0, ds::FieldKind::Density, {}};
  for (int i = 0; i < 64 * 64; ++i) field.values.push_back(std::pow(10.0, 10.0 + 2.0 * i / 4096.0));
  const auto h = ds::log10_density_histogram(field, ds::FieldScaling::Linear);
  ASSERT_EQ(h.density.size(), 100u);
  double integral = 0.0;
  for (double d : h.density) integral += d * 0.04;
  EXPECT_NEAR(integral, 1.0, 1e-12);
  EXPECT_EQ(h.outside, 0);
  // Uniform in log10 over [10, 12): density 1/2 per dex there, none elsewhere.
  EXPECT_EQ(h.density[0], 0.0);
  EXPECT_NEAR(h.density[30], 0.5, 0.5 * 0.02);
  // The same field given as log10 values.
  ds::Field2D logs = field;
  for (double& v : logs.values) v = std::log10(v);
  const auto g = ds::log10_density_histogram(logs, ds::FieldScaling::Log);
  EXPECT_EQ(g.counts, h.counts);
}

TEST(Histogram, BadInputIsRejected) {
  EXPECT_THROW(ds::density_histogram({1.0}, 1.0, 1.0, 10), ds::InvalidArgument);
  EXPECT_THROW(ds::density_histogram({1.0}, 0.0, 2.0, 0), ds::InvalidArgument);
  EXPECT_THROW(ds::density_histogram({NAN}, 0.0, 2.0, 4), ds::InvalidArgument);
  EXPECT_THROW(ds::density_histogram({5.0}, 0.0, 2.0, 4), ds::InvalidArgument);  // none inside
  ds::Field2D field{2, 25.0, ds::FieldKind::Density, {1.0, 2.0, -1.0, 3.0}};
  try {
    ds::log10_density_histogram(field, ds::FieldScaling::Linear, 0.0, 1.0, 4);
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pixel 1,0"), std::string::npos) << e.what();
  }
}
