// Ensemble tools on constructed inputs with known answers: envelopes, per-seed ratios, jackknife
// scatter, correlations and the chi^2 tests of Diffusion-HMC (eqs. 8-10) with the Hartlap factor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/ensemble.h"

namespace {

ds::SampleSet gaussian_set(ds::Rng& rng, std::size_t samples, std::size_t bins, double sigma) {
  ds::SampleSet set(samples, std::vector<double>(bins));
  for (auto& row : set)
    for (double& v : row) v = sigma * rng.normal();
  return set;
}

double mean_chi2(const std::vector<ds::Chi2>& chi2) {
  double s = 0.0;
  for (const auto& c : chi2) s += c.chi2;
  return s / double(chi2.size());
}

// Mean and standard error over replications of a statistic.
struct MeanAndError {
  double mean = 0.0, error = 0.0;
};
MeanAndError over(const std::vector<double>& values) {
  MeanAndError m;
  for (double v : values) m.mean += v / double(values.size());
  double var = 0.0;
  for (double v : values) var += (v - m.mean) * (v - m.mean) / double(values.size() - 1);
  m.error = std::sqrt(var / double(values.size()));
  return m;
}

}  // namespace

TEST(Ensemble, PercentileAndEnvelopeFollowNumpy) {
  EXPECT_DOUBLE_EQ(ds::percentile({4, 1, 3, 2}, 16), 1.48);  // numpy.percentile, linear
  EXPECT_DOUBLE_EQ(ds::percentile({4, 1, 3, 2}, 84), 3.52);
  EXPECT_DOUBLE_EQ(ds::percentile({7}, 84), 7.0);
  ds::SampleSet set;
  for (int m = 100; m >= 0; --m) set.push_back({double(m), 2.0 * m});
  const auto e = ds::ensemble_envelope(set);
  EXPECT_DOUBLE_EQ(e.mean[0], 50.0);
  EXPECT_DOUBLE_EQ(e.median[1], 100.0);
  EXPECT_DOUBLE_EQ(e.lower[0], 16.0);
  EXPECT_DOUBLE_EQ(e.upper[1], 168.0);
}

TEST(Ensemble, RatioToFiducialCancelsTheSharedSeed) {
  // Sample m = fiducial m (same seed, its own cosmic variance) times a response f(k): the
  // per-seed ratio recovers f exactly, whatever the scatter of the fiducials.
  ds::Rng rng(1);
  const std::vector<double> response{1.1, 0.9, 1.3};
  ds::SampleSet fiducial, samples;
  for (int m = 0; m < 10; ++m) {
    std::vector<double> f, s;
    for (double r : response) {
      f.push_back(std::exp(rng.normal()));
      s.push_back(f.back() * r);
    }
    fiducial.push_back(f);
    samples.push_back(s);
  }
  for (const auto& row : ds::ratio_to_fiducial(samples, fiducial))
    for (std::size_t b = 0; b < 3; ++b) EXPECT_NEAR(row[b], response[b], 1e-15);
  fiducial.pop_back();
  EXPECT_THROW(ds::ratio_to_fiducial(samples, fiducial), ds::InvalidArgument);
}

TEST(Ensemble, JackknifeErrorOfTheStdMatchesTheGaussianValue) {
  // 400 bins of 100 draws each from N(0, 2^2): the std per bin scatters by
  // sigma / sqrt(2 (M - 1)) = 0.1421, which the jackknife must estimate.
  ds::Rng rng(2);
  const std::size_t m = 100, bins = 400;
  const auto set = gaussian_set(rng, m, bins, 2.0);
  const auto s = ds::standard_deviation_with_jackknife(set);
  const double analytic = 2.0 / std::sqrt(2.0 * (m - 1));
  const auto stds = over(s.std), errors = over(s.std_error);
  double scatter = 0.0;
  for (double v : s.std) scatter += (v - stds.mean) * (v - stds.mean) / (bins - 1);
  std::printf("jackknife: mean std %.4f (2), mean error %.4f, scatter %.4f, analytic %.4f\n",
              stds.mean, errors.mean, std::sqrt(scatter), analytic);
  EXPECT_NEAR(stds.mean, 2.0, 4 * stds.error + 2.0 / (4 * m));  // c4 bias ~ 1/(4M)
  EXPECT_NEAR(errors.mean, analytic, 0.05 * analytic);
  EXPECT_NEAR(std::sqrt(scatter), analytic, 0.1 * analytic);
  // The delete-one estimates reproduce a direct recomputation on a tiny set.
  const ds::SampleSet tiny{{1.0}, {2.0}, {4.0}, {8.0}};
  const auto t = ds::standard_deviation_with_jackknife(tiny);
  const double loo[] = {
      std::sqrt(
          (std::pow(2 - 14 / 3.0, 2) + std::pow(4 - 14 / 3.0, 2) + std::pow(8 - 14 / 3.0, 2)) / 2),
      std::sqrt(
          (std::pow(1 - 13 / 3.0, 2) + std::pow(4 - 13 / 3.0, 2) + std::pow(8 - 13 / 3.0, 2)) / 2),
      std::sqrt(
          (std::pow(1 - 11 / 3.0, 2) + std::pow(2 - 11 / 3.0, 2) + std::pow(8 - 11 / 3.0, 2)) / 2),
      std::sqrt((std::pow(1 - 7 / 3.0, 2) + std::pow(2 - 7 / 3.0, 2) + std::pow(4 - 7 / 3.0, 2)) /
                2)};
  const double loo_mean = (loo[0] + loo[1] + loo[2] + loo[3]) / 4;
  double jk = 0.0;
  for (double v : loo) jk += (v - loo_mean) * (v - loo_mean) * 3.0 / 4.0;
  EXPECT_NEAR(t.std_error[0], std::sqrt(jk), 1e-12);
}

TEST(Ensemble, CorrelationMatrixOfConstructedBins) {
  ds::Rng rng(3);
  ds::SampleSet set;
  for (int m = 0; m < 20000; ++m) {
    const double z1 = rng.normal(), z2 = rng.normal();
    set.push_back({z1, -3.0 * z1 + 1.0, 0.6 * z1 + 0.8 * z2});
  }
  const auto c = ds::correlation_matrix(set);
  EXPECT_NEAR(c[0], 1.0, 1e-12);
  EXPECT_NEAR(c[1], -1.0, 1e-12);
  EXPECT_NEAR(c[2], 0.6, 4 * (1 - 0.36) / std::sqrt(20000.0));
  EXPECT_DOUBLE_EQ(c[2], c[6]);
  const auto cov = ds::covariance_matrix(set);
  EXPECT_NEAR(cov[4], 9.0 * cov[0], 1e-9);
}

TEST(Ensemble, HartlapFactor) {
  EXPECT_DOUBLE_EQ(ds::hartlap_factor(350, 35), 313.0 / 349.0);  // the CV set of Diffusion-HMC
  EXPECT_DOUBLE_EQ(ds::hartlap_factor(40, 5), 33.0 / 39.0);
  EXPECT_THROW(ds::hartlap_factor(7, 5), ds::InvalidArgument);  // N <= p + 2
}

TEST(Ensemble, DiagonalChi2OfConstructedSamples) {
  const ds::SampleSet reference{{0.0, 0.0}, {2.0, 2.0}, {1.0, 4.0}};  // mean (1, 2), var (1, 4)
  const auto c = ds::chi2_diagonal({{3.0, 6.0}, {1.0, 2.0}}, reference);
  EXPECT_DOUBLE_EQ(c[0].chi2, 4.0 + 4.0);
  EXPECT_EQ(c[0].dof, 2);
  EXPECT_DOUBLE_EQ(c[0].reduced(), 4.0);
  EXPECT_EQ(c[1].chi2, 0.0);  // the reference mean itself
}

TEST(Ensemble, Chi2ExpectationsForGaussianSetsWithHartlap) {
  // Reference sets of N = 40 Gaussian samples of p = 5 bins (Monte Carlo over 400 sets):
  //   independent sample, covariance form with Hartlap:   E = p (1 + 1/N)          = 5.125
  //   leave-one-out, covariance form (N - 1 reference):   E = p (1 + 1/(N-1))      = 5.128
  //   independent sample, diagonal reduced:               E = (1 + 1/N)(N-1)/(N-3) = 1.0804
  //   leave-one-out, diagonal reduced:                    E = (1 + 1/(N-1))(N-2)/(N-4)
  // and without the Hartlap factor the covariance chi^2 would be (N-1)/(N-p-2) = 1.18 too high.
  ds::Rng rng(4);
  const int n = 40, p = 5;
  std::vector<double> cov, loo_cov, diag, loo_diag;
  for (int r = 0; r < 400; ++r) {
    const auto reference = gaussian_set(rng, n, p, 1.5);
    const auto samples = gaussian_set(rng, 10, p, 1.5);
    cov.push_back(mean_chi2(ds::chi2_covariance(samples, reference)));
    loo_cov.push_back(mean_chi2(ds::leave_one_out_chi2_covariance(reference)));
    diag.push_back(mean_chi2(ds::chi2_diagonal(samples, reference)) / p);
    loo_diag.push_back(mean_chi2(ds::leave_one_out_chi2_diagonal(reference)) / p);
  }
  const struct {
    const char* name;
    MeanAndError got;
    double expected;
  } cases[] = {
      {"covariance", over(cov), p * (1.0 + 1.0 / n)},
      {"leave-one-out covariance", over(loo_cov), p * (1.0 + 1.0 / (n - 1))},
      {"diagonal", over(diag), (1.0 + 1.0 / n) * (n - 1.0) / (n - 3.0)},
      {"leave-one-out diagonal", over(loo_diag), (1.0 + 1.0 / (n - 1)) * (n - 2.0) / (n - 4.0)}};
  for (const auto& c : cases) {
    std::printf("%-26s mean %.4f +- %.4f, expected %.4f\n", c.name, c.got.mean, c.got.error,
                c.expected);
    EXPECT_NEAR(c.got.mean, c.expected, 4.0 * c.got.error) << c.name;
  }
  const double uncorrected = p * (1.0 + 1.0 / n) * (n - 1.0) / (n - p - 2.0);
  EXPECT_GT(uncorrected - cases[0].got.mean, 8.0 * cases[0].got.error);
}

TEST(Ensemble, ComparisonOfAnEmulatedAndAReferenceSet) {
  // Reference: values 1..5 in bin 0 and 10..50 in bin 1; emulated: twice the reference mean.
  ds::SampleSet reference, emulated;
  for (int m = 1; m <= 5; ++m) reference.push_back({double(m), 10.0 * m});
  emulated = {{5.0, 50.0}, {7.0, 70.0}};
  const auto c = ds::compare_ensembles(emulated, reference);
  EXPECT_EQ(c.reference_count, 5u);
  EXPECT_EQ(c.emulated_count, 2u);
  EXPECT_DOUBLE_EQ(c.reference.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(c.emulated.mean[1], 60.0);
  EXPECT_DOUBLE_EQ(c.ratio[0], 2.0);
  EXPECT_DOUBLE_EQ(c.ratio[1], 2.0);
  EXPECT_DOUBLE_EQ(c.reference_ratio_lower[0], ds::percentile({1, 2, 3, 4, 5}, 16) / 3.0);
  EXPECT_DOUBLE_EQ(c.reference_ratio_upper[1], ds::percentile({10, 20, 30, 40, 50}, 84) / 30.0);
  // eq. 10 against mean 3 and variance 2.5 in bin 0 (30 and 250 in bin 1), averaged over members
  const double chi2_5 = 2 * (2.0 * 2.0 / 2.5), chi2_7 = 2 * (4.0 * 4.0 / 2.5);
  EXPECT_NEAR(c.reduced_chi2, (chi2_5 + chi2_7) / 4.0, 1e-12);
  double loo_mean = 0, loo_sd = 0;
  ds::reduced_chi2_mean_sd(ds::leave_one_out_chi2_diagonal(reference), loo_mean, loo_sd);
  EXPECT_DOUBLE_EQ(c.reference_reduced_chi2, loo_mean);
  EXPECT_DOUBLE_EQ(c.reference_reduced_chi2_sd, loo_sd);
  // Progressive: no emulated member yet, then too few references for a chi^2.
  const auto empty = ds::compare_ensembles({}, reference);
  EXPECT_TRUE(empty.ratio.empty());
  EXPECT_TRUE(std::isnan(empty.reduced_chi2));
  const auto one_ref = ds::compare_ensembles(emulated, {{1.0, 2.0}});
  EXPECT_TRUE(std::isnan(one_ref.reduced_chi2));
  EXPECT_TRUE(std::isnan(one_ref.reference_reduced_chi2));
  EXPECT_THROW(ds::compare_ensembles({{1.0}}, reference), ds::InvalidArgument);
  EXPECT_THROW(ds::compare_ensembles(emulated, {}), ds::InvalidArgument);
}

TEST(Ensemble, BadSetsAreRejectedWithAReason) {
  EXPECT_THROW(ds::ensemble_envelope({}), ds::InvalidArgument);                        // empty
  EXPECT_THROW(ds::covariance_matrix({{1.0, 2.0}, {1.0}}), ds::InvalidArgument);       // ragged
  EXPECT_THROW(ds::ensemble_envelope({{1.0, NAN}}), ds::InvalidArgument);              // NaN
  EXPECT_THROW(ds::chi2_diagonal({{1.0}}, {{1.0}, {1.0}}), ds::InvalidArgument);       // no scatter
  EXPECT_THROW(ds::chi2_diagonal({{1.0, 2.0}}, {{1.0}, {2.0}}), ds::InvalidArgument);  // bins
  ds::Rng rng(5);
  const auto small = gaussian_set(rng, 6, 5, 1.0);
  EXPECT_THROW(ds::chi2_covariance(small, small), ds::InvalidArgument);  // N <= p + 2
  // Perfectly correlated bins make the covariance singular.
  ds::SampleSet degenerate;
  for (int m = 0; m < 20; ++m) {
    const double z = rng.normal();
    degenerate.push_back({z, 2 * z, rng.normal()});
  }
  EXPECT_THROW(ds::chi2_covariance(degenerate, degenerate), ds::InvalidArgument);
  try {
    ds::standard_deviation_with_jackknife({{1.0}, {2.0}});
    FAIL();
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("at least 3 samples"), std::string::npos) << e.what();
  }
}
