// Diagnostics against ArviZ v0.23.4 and rstan 2.21.7 on diag_a (../shared/testdata/goldens,
// README.md: two AR(1) parameters, phi = 0.9 and 0.5, 4 chains x 1000 draws), plus the analytic
// properties the definitions rest on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

#include "../../test_helpers.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"
#include "diffuscope/random.h"

namespace {

ds::Chains diag_a_chains() {
  const auto array = ds::read_npy(dstest::testdata("goldens/diag_a_chains.npy"));
  EXPECT_EQ(array.shape, (std::vector<std::size_t>{4, 1000, 2}));
  ds::Chains c;
  c.names = {"phi09", "phi05"};
  c.chains = array.shape[0];
  c.draws = array.shape[1];
  c.values = array.data;
  return c;
}

// Columns of diag_a_expected.csv by name.
struct Expected {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;
  double at(const std::string& column, std::size_t param) const {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == column) return columns[i][param];
    ADD_FAILURE() << "no column " << column;
    return std::numeric_limits<double>::quiet_NaN();
  }
};

Expected expected() {
  const std::string path = dstest::testdata("goldens/diag_a_expected.csv");
  Expected e;
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  std::stringstream row(header);
  std::string cell;
  while (std::getline(row, cell, ',')) e.names.push_back(cell);
  e.columns = dstest::read_csv_columns(path);
  return e;
}

void expect_relative(double value, double reference, double tolerance, const std::string& what) {
  const double error = std::abs(value - reference) / std::abs(reference);
  EXPECT_LE(error, tolerance) << what << ": got " << std::setprecision(17) << value << ", expected "
                              << reference << " (relative error " << error << ", tolerance "
                              << tolerance << ")";
}

using Metric = double (*)(const ds::ChainDraws&);
struct Column {
  const char* name;
  Metric metric;
};
const Column kArvizColumns[] = {{"rhat", ds::rhat},
                                {"ess_bulk", ds::ess_bulk},
                                {"ess_tail", ds::ess_tail},
                                {"mcse_mean", ds::mcse_mean},
                                {"ess_mean", ds::ess_mean},
                                {"rhat_bulk", ds::rhat_bulk},
                                {"rhat_folded", ds::rhat_folded}};

TEST(DiagnosticsGolden, ReproducesEveryArvizColumnTo1e6) {
  const auto chains = diag_a_chains();
  const auto e = expected();
  double worst = 0;
  for (std::size_t p = 0; p < 2; ++p) {
    const auto x = ds::parameter_draws(chains, p);
    for (const auto& column : kArvizColumns) {
      const double value = column.metric(x), reference = e.at(column.name, p);
      expect_relative(value, reference, 1e-6,
                      std::string(column.name) + " of parameter " + std::to_string(p));
      worst = std::max(worst, std::abs(value - reference) / std::abs(reference));
    }
  }
  std::printf("diag_a vs ArviZ 0.23.4: worst relative difference %.3g\n", worst);
}

// rstan 2.21.7 differs from ArviZ by design in one place: its rank normalisation uses
// (r - 1/2) / S instead of Blom's (r - 3/8) / (S + 1/4). The README gives the size of the
// differences this makes: R-hat by <= 4e-6, bulk ESS by <= 1.4e-3; the other columns agree to
// <= 1e-13. The tolerances below are those, with a margin for our own rounding.
TEST(DiagnosticsGolden, AgreesWithRstanWithinItsKnownConventionDifference) {
  const auto chains = diag_a_chains();
  const auto e = expected();
  for (std::size_t p = 0; p < 2; ++p) {
    const auto x = ds::parameter_draws(chains, p);
    const std::string param = " of parameter " + std::to_string(p);
    EXPECT_NEAR(ds::rhat(x), e.at("rhat_rstan", p), 1e-5) << "rhat" << param;
    expect_relative(ds::ess_bulk(x), e.at("ess_bulk_rstan", p), 1.4e-3, "ess_bulk" + param);
    expect_relative(ds::ess_tail(x), e.at("ess_tail_rstan", p), 1e-10, "ess_tail" + param);
    expect_relative(ds::mcse_mean(x), e.at("mcse_mean_rstan", p), 1e-10, "mcse_mean" + param);
    expect_relative(ds::ess_mean(x), e.at("ess_mean_rstan", p), 1e-10, "ess_mean" + param);
  }
}

TEST(DiagnosticsGolden, SummaryRowsUseTheSameDefinitions) {
  const auto chains = diag_a_chains();
  const auto e = expected();
  const auto s = ds::summarize(chains);
  ASSERT_EQ(s.parameters.size(), 2u);
  for (std::size_t p = 0; p < 2; ++p) {
    expect_relative(s.parameters[p].r_hat, e.at("rhat", p), 1e-6, "summary r_hat");
    expect_relative(s.parameters[p].ess_bulk, e.at("ess_bulk", p), 1e-6, "summary ess_bulk");
    expect_relative(s.parameters[p].ess_tail, e.at("ess_tail", p), 1e-6, "summary ess_tail");
    expect_relative(s.parameters[p].mcse_mean, e.at("mcse_mean", p), 1e-6, "summary mcse_mean");
    // Unit marginal variance: the sd is near 1 and the 94% HDI near +-1.88 (within the Monte
    // Carlo error of a few hundred effective draws).
    EXPECT_NEAR(s.parameters[p].sd, 1.0, 0.15);
    EXPECT_NEAR(s.parameters[p].hdi_low, -1.881, 0.3);
    EXPECT_NEAR(s.parameters[p].hdi_high, 1.881, 0.3);
  }
  EXPECT_FALSE(s.acceptance_rate.has_value());
  EXPECT_FALSE(s.divergences.has_value());
}

}  // namespace

namespace {

// AR(1) chains x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t with a stationary start: unit variance,
// integrated autocorrelation time (1 + phi) / (1 - phi).
ds::ChainDraws ar1(std::size_t chains, std::size_t draws, double phi, std::uint64_t seed) {
  ds::ChainDraws x{std::vector<double>(chains * draws), chains, draws};
  for (std::size_t c = 0; c < chains; ++c) {
    ds::Rng rng(seed, c);
    double v = rng.normal();
    for (std::size_t d = 0; d < draws; ++d) {
      x.values[c * draws + d] = v;
      v = phi * v + std::sqrt(1 - phi * phi) * rng.normal();
    }
  }
  return x;
}

TEST(InverseNormalCdf, MatchesTabulatedQuantiles) {
  // Reference values: Phi^{-1}(0.975) = 1.95996398454005423552 (Abramowitz & Stegun 26.2),
  // Phi(1) = 0.84134474606854292578, qnorm(1e-10) = -6.3613409024040557.
  EXPECT_NEAR(ds::inverse_normal_cdf(0.975), 1.95996398454005423552, 2e-15);
  EXPECT_NEAR(ds::inverse_normal_cdf(0.84134474606854292578), 1.0, 4e-15);
  EXPECT_NEAR(ds::inverse_normal_cdf(1e-10), -6.3613409024040557, 1e-14);
  EXPECT_EQ(ds::inverse_normal_cdf(0.5), 0.0);
  EXPECT_EQ(ds::inverse_normal_cdf(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(ds::inverse_normal_cdf(1.0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(ds::inverse_normal_cdf(1.5)));
}

TEST(InverseNormalCdf, InvertsTheNormalCdfInAllThreeRegions) {
  // Phi(x) = erfc(-x / sqrt 2) / 2 is accurate in relative terms in the lower tail, so compare in
  // p; an error dx in x moves p by a relative |x| dx, hence the x-dependent tolerance.
  for (double p : {1e-300, 1e-100, 1e-20, 1e-12, 1e-6, 0.01, 0.05, 0.074, 0.076, 0.2, 0.4999}) {
    const double x = ds::inverse_normal_cdf(p);
    const double back = 0.5 * std::erfc(-x / std::sqrt(2.0));
    EXPECT_NEAR(back / p, 1.0, 1e-15 * std::max(4.0, 4 * x * x)) << "p = " << p << ", x = " << x;
    // Exact symmetry for a pair p_up, 1 - p_up that are both doubles (p itself may round).
    const double p_up = 1 - p, p_low = 1 - p_up;
    if (p_up < 1) {
      EXPECT_EQ(ds::inverse_normal_cdf(p_up), -ds::inverse_normal_cdf(p_low)) << p;
    }
  }
}

TEST(Diagnostics, RankNormalizationAveragesTies) {
  ds::ChainDraws x{{3.0, 1.0, 3.0, 2.0}, 1, 4};
  const auto z = ds::rank_normalize(x).values;
  // Ranks 3.5, 1, 3.5, 2 of n = 4: z = Phi^{-1}((r - 3/8) / 4.25).
  EXPECT_DOUBLE_EQ(z[0], ds::inverse_normal_cdf((3.5 - 0.375) / 4.25));
  EXPECT_DOUBLE_EQ(z[1], ds::inverse_normal_cdf((1 - 0.375) / 4.25));
  EXPECT_EQ(z[0], z[2]);
  EXPECT_DOUBLE_EQ(z[3], ds::inverse_normal_cdf((2 - 0.375) / 4.25));
}

TEST(Diagnostics, SplitChainsDropsTheMiddleDrawOfOddChains) {
  ds::ChainDraws x{{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}, 2, 5};
  const auto s = ds::split_chains(x);
  EXPECT_EQ(s.chains, 4u);
  EXPECT_EQ(s.draws, 2u);
  EXPECT_EQ(s.values, (std::vector<double>{0, 1, 10, 11, 3, 4, 13, 14}));
}

TEST(Diagnostics, FftAutocovarianceEqualsTheDirectSum) {
  ds::Rng rng(7);
  std::vector<double> x(37);
  for (double& v : x) v = rng.normal() + 3.0;
  const auto acov = ds::autocovariance(x);
  double mean = 0;
  for (double v : x) mean += v / double(x.size());
  for (std::size_t lag = 0; lag < x.size(); ++lag) {
    double direct = 0;
    for (std::size_t t = 0; t + lag < x.size(); ++t) direct += (x[t] - mean) * (x[t + lag] - mean);
    EXPECT_NEAR(acov[lag], direct / double(x.size()), 1e-13) << "lag " << lag;
  }
}

TEST(Diagnostics, EssOfAr1ChainsMatchesTheIntegratedAutocorrelationTime) {
  // 4 x 20000 draws: the Geyer estimate scatters by ~2-3% here; 10% is > 3 sigma.
  for (double phi : {0.0, 0.5, 0.8}) {
    const auto x = ar1(4, 20000, phi, 11);
    const double expected = 80000.0 * (1 - phi) / (1 + phi);
    EXPECT_NEAR(ds::ess_mean(x) / expected, 1.0, 0.10) << "phi = " << phi;
    EXPECT_NEAR(ds::ess_bulk(x) / expected, 1.0, 0.10) << "phi = " << phi;
    EXPECT_LT(ds::rhat(x), 1.01) << "phi = " << phi;
  }
}

TEST(Diagnostics, RhatFlagsChainsThatDisagree) {
  auto x = ar1(4, 1000, 0.5, 3);
  auto shifted = x;
  for (std::size_t d = 0; d < 1000; ++d) shifted.values[d] += 2.0;  // chain 0 elsewhere
  EXPECT_GT(ds::rhat(shifted), 1.3);
  auto wider = x;
  for (std::size_t d = 0; d < 1000; ++d) wider.values[d] *= 4.0;  // same centre, wider
  EXPECT_LT(ds::rhat_bulk(wider), 1.05);
  EXPECT_GT(ds::rhat_folded(wider), 1.1) << "the folded R-hat sees a scale mismatch";
  EXPECT_EQ(ds::rhat(wider), std::max(ds::rhat_bulk(wider), ds::rhat_folded(wider)));
}

TEST(Diagnostics, DegenerateInputsGiveNanOrTheSampleSize) {
  auto x = ar1(2, 100, 0.5, 5);
  x.values[17] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(ds::rhat(x)));
  EXPECT_TRUE(std::isnan(ds::ess_bulk(x)));
  EXPECT_TRUE(std::isnan(ds::rhat(ar1(1, 100, 0.5, 5)))) << "R-hat needs two chains";
  EXPECT_FALSE(std::isnan(ds::ess_bulk(ar1(1, 100, 0.5, 5))));
  EXPECT_TRUE(std::isnan(ds::ess_mean(ar1(2, 3, 0.5, 5)))) << "fewer than 4 draws";
  ds::ChainDraws constant{std::vector<double>(400, 0.25), 4, 100};
  EXPECT_EQ(ds::ess_mean(constant), 400.0);
}

TEST(Diagnostics, HdiIsTheShortestIntervalHoldingFloorProbTimesNSteps) {
  EXPECT_EQ(ds::hdi({10, 0, 3, 1, 2}, 0.6), std::make_pair(0.0, 3.0));
  std::vector<double> grid;
  for (int i = 1; i <= 100; ++i) grid.push_back(i);
  EXPECT_EQ(ds::hdi(grid, 0.9), std::make_pair(1.0, 91.0)) << "ties: the first interval wins";
  EXPECT_THROW(ds::hdi({}, 0.9), ds::InvalidArgument);
  EXPECT_THROW(ds::hdi(grid, 1.0), ds::InvalidArgument);
}

TEST(Diagnostics, EbfmiIsTwoForIndependentEnergiesAndSmallForARandomWalk) {
  // Independent energies: E[(E_t - E_{t-1})^2] = 2 var E.
  const auto iid = ds::e_bfmi(ar1(2, 5000, 0.0, 9));
  for (double v : iid) EXPECT_NEAR(v, 2.0, 0.12);
  // Strongly autocorrelated energies: 2 (1 - phi) = 0.02.
  for (double v : ds::e_bfmi(ar1(2, 5000, 0.99, 9))) EXPECT_LT(v, 0.1);
}

TEST(Diagnostics, SummaryCountsAcceptanceAndDivergences) {
  ds::Chains c;
  c.names = {"Omega_m"};
  c.chains = 2;
  c.draws = 4;
  c.values = {0.30, 0.31, 0.29, 0.30, 0.32, 0.30, 0.31, 0.28};
  c.acceptance_rate = {1, 0.5, 0.5, 1, 0, 0, 1, 1};
  c.diverging = {0, 0, 1, 0, 1, 1, 0, 0};
  c.energy = {1, 2, 1, 2, 1, 2, 1, 2};
  const auto s = ds::summarize(c);
  ASSERT_TRUE(s.acceptance_rate && s.divergences);
  EXPECT_DOUBLE_EQ(*s.acceptance_rate, 0.625);
  EXPECT_EQ(s.acceptance_rate_per_chain, (std::vector<double>{0.75, 0.5}));
  EXPECT_EQ(*s.divergences, 3u);
  EXPECT_EQ(s.divergences_per_chain, (std::vector<std::size_t>{1, 2}));
  // Alternating energies: jumps 3 x 1 over spread 4 x 0.25 = 3.
  EXPECT_EQ(s.e_bfmi, (std::vector<double>{3.0, 3.0}));
  const std::string json = ds::summary_to_json(s);
  EXPECT_NE(json.find("\"Omega_m\""), std::string::npos);
  EXPECT_NE(json.find("\"hdi_3%\""), std::string::npos);
  EXPECT_NE(json.find("\"divergences\": 3"), std::string::npos) << json;
}

}  // namespace
