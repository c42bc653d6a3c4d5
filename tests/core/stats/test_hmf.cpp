// Cumulative mass function on constructed catalogues.
#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/stats/hmf.h"

TEST(CumulativeMassFunction, CountsHalosAtOrAboveEachLowerEdgePerVolume) {
  const std::vector<double> logm{12.0, 12.5, 13.0, 13.2, 14.9, 13.0};
  const auto h = ds::cumulative_mass_function(logm, {12.0, 13.0, 14.0, 15.0}, 8.0);
  EXPECT_EQ(h.logm_lo, (std::vector<double>{12.0, 13.0, 14.0}));
  EXPECT_EQ(h.logm_hi, (std::vector<double>{13.0, 14.0, 15.0}));
  // >= 12: 6, >= 13: 4 (13.0 twice, 13.2, 14.9), >= 14: 1.
  EXPECT_EQ(h.n_greater, (std::vector<double>{6 / 8.0, 4 / 8.0, 1 / 8.0}));
}

TEST(CumulativeMassFunction, BadInputIsRejected) {
  EXPECT_THROW(ds::cumulative_mass_function({}, {12.0, 13.0}, 1.0), ds::InvalidArgument);
  EXPECT_THROW(ds::cumulative_mass_function({12.0}, {13.0, 12.0}, 1.0), ds::InvalidArgument);
  EXPECT_THROW(ds::cumulative_mass_function({12.0}, {12.0, 13.0}, 0.0), ds::InvalidArgument);
  EXPECT_THROW(ds::cumulative_mass_function({NAN}, {12.0, 13.0}, 1.0), ds::InvalidArgument);
}
