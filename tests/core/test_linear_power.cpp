#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/cosmology/linear_power.h"
#include "diffuscope/error.h"

TEST(LinearPower, RecoversSigma8ToOnePartIn1e5) {
  for (double om : {0.1, 0.3, 0.5})
    for (double s8 : {0.6, 0.8, 1.0}) {
      ds::Cosmology c;
      c.omega_m = om;
      c.sigma_8 = s8;
      const ds::LinearPowerSpectrum p(c);
      EXPECT_NEAR(p.sigma_r(8.0) / s8, 1.0, 1e-5) << "Omega_m " << om << " sigma_8 " << s8;
    }
}

TEST(LinearPower, TransferIsOneOnLargeScalesAndFallsOnSmallOnes) {
  const ds::Cosmology c;
  EXPECT_NEAR(ds::eisenstein_hu_nowiggle_transfer(1e-5, c), 1.0, 1e-3);
  EXPECT_LT(ds::eisenstein_hu_nowiggle_transfer(1.0, c), 0.05);
  double previous = 1.0;
  for (double k = 1e-4; k < 10.0; k *= 1.5) {
    const double t = ds::eisenstein_hu_nowiggle_transfer(k, c);
    EXPECT_LT(t, previous) << "k " << k;
    previous = t;
  }
}

TEST(LinearPower, AmplitudeScalesAsSigma8SquaredAndShapeFollowsOmegaM) {
  ds::Cosmology a, b, low_om;
  b.sigma_8 = 1.0;
  low_om.omega_m = 0.15;
  const ds::LinearPowerSpectrum pa(a), pb(b), pl(low_om);
  for (double k : {0.01, 0.1, 1.0}) EXPECT_NEAR(pb(k) / pa(k), (1.0 / 0.8) * (1.0 / 0.8), 1e-9);
  // Lower Omega_m moves the turnover to larger scales: relatively less small-scale power.
  EXPECT_LT(pl(2.0) / pl(0.02), pa(2.0) / pa(0.02));
  // Peak of P(k) near k_eq ~ 0.01-0.03 h/Mpc for Omega_m = 0.3.
  double k_peak = 0, p_peak = 0;
  for (double k = 1e-3; k < 1.0; k *= 1.01)
    if (pa(k) > p_peak) p_peak = pa(k), k_peak = k;
  EXPECT_GT(k_peak, 0.008);
  EXPECT_LT(k_peak, 0.03);
}

TEST(LinearPower, RejectsUnphysicalParameters) {
  ds::Cosmology c;
  c.omega_m = std::nan("");
  EXPECT_THROW(ds::LinearPowerSpectrum{c}, ds::InvalidArgument);
  c.omega_m = 0.03;  // below Omega_b
  EXPECT_THROW(ds::LinearPowerSpectrum{c}, ds::InvalidArgument);
}

TEST(Prior, NamesTheParameterOutsideTheBox) {
  const ds::Prior prior;
  EXPECT_TRUE(prior.contains(0.3, 0.8));
  EXPECT_FALSE(prior.contains(0.05, 0.8));
  try {
    prior.require_inside(0.3, 1.2);
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("sigma_8 = 1.2 is outside the prior [0.6, 1]"),
              std::string::npos)
        << e.what();
  }
}
