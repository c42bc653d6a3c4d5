#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/cosmology/linear_power.h"
#include "diffuscope/error.h"

namespace {

// sigma(R) of a spectrum by an independent quadrature: composite Simpson in ln k on a uniform grid
// much finer than the library's Gauss-Legendre panels.
double sigma_by_simpson(const ds::LinearPowerSpectrum& p, double radius) {
  const int intervals = 30000;
  const double lo = std::log(1e-6), hi = std::log(2e3 / radius), h = (hi - lo) / intervals;
  double sum = 0.0;
  for (int i = 0; i <= intervals; ++i) {
    const double k = std::exp(lo + i * h), w = ds::top_hat_window(k * radius);
    sum += (i == 0 || i == intervals ? 1.0 : (i % 2 ? 4.0 : 2.0)) * k * k * k * p(k) * w * w;
  }
  return std::sqrt(sum * h / 3.0 / (2.0 * M_PI * M_PI));
}

}  // namespace

TEST(LinearPower, RecoversSigma8AtEveryPriorCorner) {
  // The normalised spectrum integrated by an independent quadrature gives sigma_8 back to 1e-5
  // (required: 1e-4), for both transfer functions.
  for (auto transfer : {ds::TransferFunction::Eh98, ds::TransferFunction::Eh98NoWiggle})
    for (double om : {0.1, 0.3, 0.5})
      for (double s8 : {0.6, 0.8, 1.0}) {
        ds::Cosmology c;
        c.omega_m = om;
        c.sigma_8 = s8;
        const ds::LinearPowerSpectrum p(c, transfer);
        EXPECT_NEAR(sigma_by_simpson(p, 8.0) / s8, 1.0, 1e-5)
            << ds::kTransferFunctions.name(transfer) << " Omega_m " << om << " sigma_8 " << s8;
        EXPECT_NEAR(p.sigma_r(8.0) / s8, 1.0, 1e-12);
      }
}

TEST(LinearPower, Sigma8QuadratureHasConverged) {
  // Doubling and quadrupling the number of panels changes sigma(R) by < 1e-7 (relative; observed
  // at most 7.5e-8, at R = 30 Mpc/h), well inside the 1e-5 budget, wiggles included.
  for (double om : {0.1, 0.5}) {
    ds::Cosmology c;
    c.omega_m = om;
    const ds::LinearPowerSpectrum p(c);
    const double base = p.sigma_r(8.0, 1);
    EXPECT_NEAR(p.sigma_r(8.0, 2) / base, 1.0, 1e-7) << "Omega_m " << om;
    EXPECT_NEAR(p.sigma_r(8.0, 4) / base, 1.0, 1e-7) << "Omega_m " << om;
    // Other radii too (the mass function uses sigma(R) over a range).
    for (double r : {1.0, 30.0})
      EXPECT_NEAR(p.sigma_r(r, 2) / p.sigma_r(r, 1), 1.0, 1e-7) << "R " << r;
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
  for (auto transfer : {ds::TransferFunction::Eh98, ds::TransferFunction::Eh98NoWiggle}) {
    ds::Cosmology a, b, low_om;
    b.sigma_8 = 1.0;
    low_om.omega_m = 0.15;
    const ds::LinearPowerSpectrum pa(a, transfer), pb(b, transfer), pl(low_om, transfer);
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
}

TEST(LinearPower, DefaultIsTheWigglyForm) {
  const ds::Cosmology c;
  const ds::LinearPowerSpectrum p(c);
  EXPECT_EQ(p.transfer_function(), ds::TransferFunction::Eh98);
  const ds::LinearPowerSpectrum smooth(c, ds::TransferFunction::Eh98NoWiggle);
  // Both are normalised to the same sigma_8, so they differ only by the BAO and a slight shape
  // change: within 10 % over the BAO range, not identical.
  double largest = 0.0;
  for (double k = 0.02; k < 0.4; k += 0.001) {
    const double r = p(k) / smooth(k);
    EXPECT_NEAR(r, 1.0, 0.1) << "k " << k;
    largest = std::max(largest, std::abs(r - 1.0));
  }
  EXPECT_GT(largest, 0.02);
}

TEST(LinearPower, RejectsUnphysicalParameters) {
  ds::Cosmology c;
  c.omega_m = std::nan("");
  EXPECT_THROW(ds::LinearPowerSpectrum{c}, ds::InvalidArgument);
  c.omega_m = 0.03;  // below Omega_b
  EXPECT_THROW(ds::LinearPowerSpectrum{c}, ds::InvalidArgument);
  c.omega_m = 0.3;
  c.h = -0.7;
  EXPECT_THROW(ds::LinearPowerSpectrum(c, ds::TransferFunction::Eh98NoWiggle), ds::InvalidArgument);
  const ds::LinearPowerSpectrum ok{ds::Cosmology{}};
  EXPECT_THROW(ok.sigma_r(-1.0), ds::InvalidArgument);
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
