// P(k) of synthetic fields with a known spectrum (2D and 3D), the mass-assignment deconvolution,
// log fields, and bad input. The Pylians goldens are in test_stats_golden.cpp and
// ../test_power_spectrum_2d.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "../test_helpers.h"
#include "diffuscope/error.h"
#include "diffuscope/stats/mass_assignment.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "diffuscope/stats/power_spectrum_3d.h"
#include "synthetic_fields.h"

namespace {

// A spectrum linear in k: the mean of P over the modes of a bin is then exactly P(mean k), so a
// phase-only field must give P(k_bin) to rounding in every bin.
struct LinearSpectrum {
  double k_max;
  double operator()(double k) const { return 50.0 * (1.5 - k / k_max); }
};

ds::PowerSpectrum spectrum_of(int d, const std::vector<double>& delta, int n, double box) {
  return d == 2 ? ds::power_spectrum_2d_of_contrast(delta.data(), n, box)
                : ds::power_spectrum_3d_of_contrast(delta.data(), n, box);
}

// sum_b Nmodes (P_b / P(k_b) - 1)^2: each complex mode's |delta_k|^2 / P is Exp(1), so the
// bin mean has variance 1 / Nmodes and the sum is ~ chi^2 with one degree of freedom per bin.
double chi2_against(const ds::PowerSpectrum& pk, const LinearSpectrum& p) {
  double chi2 = 0.0;
  for (std::size_t b = 0; b < pk.size(); ++b)
    chi2 += double(pk.nmodes[b]) * std::pow(pk.pk[b] / p(pk.k[b]) - 1.0, 2);
  return chi2;
}

}  // namespace

class KnownSpectrum : public ::testing::TestWithParam<int> {};

TEST_P(KnownSpectrum, PhaseOnlyFieldGivesTheInputSpectrumInEveryBin) {
  const int d = GetParam(), n = d == 2 ? 64 : 32;
  const double box = 100.0;
  const LinearSpectrum p{std::sqrt(double(d)) * M_PI * n / box};
  const auto delta = dstest::coloured_field(d, n, box, p, 11, true);
  const auto pk = spectrum_of(d, delta, n, box);
  ASSERT_EQ(pk.size(), std::size_t(std::sqrt(double(d)) * n / 2));
  std::int64_t modes = 0;
  for (std::size_t b = 0; b < pk.size(); ++b) {
    EXPECT_NEAR(pk.pk[b], p(pk.k[b]), 1e-10 * p(pk.k[b])) << "bin " << b << " k " << pk.k[b];
    // Bin b holds the modes with b <= |k|/k_F < b + 1.
    EXPECT_GE(pk.k[b] * box / (2 * M_PI), double(b + 1) - 1e-12);
    EXPECT_LT(pk.k[b] * box / (2 * M_PI), double(b + 2));
    modes += pk.nmodes[b];
  }
  // Independent modes of the half space/plane without DC: (n^d - 2^d) / 2 + 2^d - 1 (the 2^d
  // self-conjugate modes are their own partners), minus those beyond the last bin (none).
  EXPECT_EQ(modes, (std::int64_t(std::pow(n, d)) - (1 << d)) / 2 + (1 << d) - 1);
}

TEST_P(KnownSpectrum, GaussianRealisationMatchesWithinCosmicVariance) {
  const int d = GetParam(), n = d == 2 ? 128 : 32;
  const double box = 100.0;
  const LinearSpectrum p{std::sqrt(double(d)) * M_PI * n / box};
  const auto delta = dstest::coloured_field(d, n, box, p, 12, false);
  const auto pk = spectrum_of(d, delta, n, box);
  const double chi2 = chi2_against(pk, p), dof = double(pk.size());
  std::printf("%dD Gaussian field: chi2 = %.1f for %d bins\n", d, chi2, int(dof));
  EXPECT_LT(chi2, dof + 5.0 * std::sqrt(2.0 * dof));
  double weighted = 0.0, modes = 0.0;
  for (std::size_t b = 0; b < pk.size(); ++b) {
    weighted += double(pk.nmodes[b]) * pk.pk[b] / p(pk.k[b]);
    modes += double(pk.nmodes[b]);
  }
  EXPECT_NEAR(weighted / modes, 1.0, 5.0 / std::sqrt(modes));
}

INSTANTIATE_TEST_SUITE_P(TwoAndThreeD, KnownSpectrum, ::testing::Values(2, 3));

TEST(PowerSpectrum2dDeconvolution, DividesEachModeByTheSchemeWindowSquared) {
  // One cosine wave at mode (3, 5): all power sits in that mode, so the ratio of the deconvolved
  // and raw spectra in its bin is exactly 1 / (W(3) W(5))^2 with W = sinc(pi m / N)^p.
  const int n = 32;
  std::vector<double> delta(std::size_t(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      delta[std::size_t(i) * n + j] = 0.3 * std::cos(2 * M_PI * (3.0 * i + 5.0 * j) / n);
  const auto raw = ds::power_spectrum_2d_of_contrast(delta.data(), n, 10.0);
  const std::size_t bin = std::size_t(std::sqrt(34.0)) - 1;  // |k| = sqrt(34) k_F
  ASSERT_GT(raw.pk[bin], 0.0);
  for (auto scheme : {ds::MassAssignment::Ngp, ds::MassAssignment::Cic, ds::MassAssignment::Tsc,
                      ds::MassAssignment::Pcs}) {
    const int p = ds::mass_assignment_order(scheme);
    const auto sinc = [&](int m) { return std::sin(M_PI * m / n) / (M_PI * m / n); };
    const double window = std::pow(sinc(3) * sinc(5), p);
    const auto corrected = ds::power_spectrum_2d_of_contrast(delta.data(), n, 10.0, scheme);
    EXPECT_NEAR(corrected.pk[bin] / raw.pk[bin], 1.0 / (window * window), 1e-12)
        << ds::kMassAssignments.name(scheme);
    EXPECT_EQ(corrected.nmodes, raw.nmodes);
  }
}

TEST(PowerSpectrum2d, LogFieldIsTheSpectrumOfItsDensity) {
  const int n = 32;
  const auto delta = dstest::coloured_field(
      2, n, 25.0, [](double k) { return 1.0 / (1 + k); }, 3, false);
  ds::Field2D linear{n, 25.0, ds::FieldKind::Density, {}}, logs = linear;
  for (double v : delta) {
    const double density = 1e11 * std::exp(v);  // positive, CAMELS-like magnitude
    linear.values.push_back(density);
    logs.values.push_back(std::log10(density));
  }
  ds::PowerSpectrum2dOptions log_options;
  log_options.scaling = ds::FieldScaling::Log;
  const auto a = ds::power_spectrum_2d(linear), b = ds::power_spectrum_2d(logs, log_options);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b.pk[i], a.pk[i], 1e-10 * a.pk[i]);
  // A log10(1 + delta) contrast field gives the same as the density field it came from.
  ds::Field2D contrast_logs{n, 25.0, ds::FieldKind::Contrast, {}};
  double mean = 0.0;
  for (double v : linear.values) mean += v / (n * n);
  for (double v : linear.values) contrast_logs.values.push_back(std::log10(v / mean));
  const auto c = ds::power_spectrum_2d(contrast_logs, log_options);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(c.pk[i], a.pk[i], 1e-9 * a.pk[i]);
}

TEST(PowerSpectrum2d, BadInputIsRejectedWithAReason) {
  ds::Field2D field{8, 25.0, ds::FieldKind::Density, std::vector<double>(63, 1.0)};
  EXPECT_THROW(ds::power_spectrum_2d(field), ds::InvalidArgument);  // not 8 x 8 (non-square)
  field.values.assign(64, 1.0);
  field.values[9] = std::nan("");
  try {
    ds::power_spectrum_2d(field);
    FAIL() << "NaN accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pixel 1,1"), std::string::npos) << e.what();
  }
  field.values.assign(64, 0.0);
  EXPECT_THROW(ds::power_spectrum_2d(field), ds::InvalidArgument);  // zero mean density
  const std::vector<double> odd(49, 0.0);
  EXPECT_THROW(ds::power_spectrum_2d_of_contrast(odd.data(), 7, 25.0), ds::InvalidArgument);
}

TEST(PowerSpectrum3d, BadInputIsRejectedWithAReason) {
  ds::PointCloud empty{1000.0, {}};
  EXPECT_THROW(ds::power_spectrum_3d(empty, 16), ds::InvalidArgument);
  ds::PointCloud points{1000.0, {{1.0, 2.0, 3.0}, {std::nan(""), 1.0, 1.0}}};
  EXPECT_THROW(ds::power_spectrum_3d(points, 16), ds::InvalidArgument);
  points.positions[1] = {1200.0, -5.0, 3.0};  // outside: wrapped, with one warning
  std::vector<std::string> warnings;
  const auto pk = ds::power_spectrum_3d(points, 16, ds::MassAssignment::Cic,
                                        [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("1 of 2 points"), std::string::npos) << warnings[0];
  ds::PointCloud wrapped{1000.0, {{1.0, 2.0, 3.0}, {200.0, 995.0, 3.0}}};
  EXPECT_EQ(ds::power_spectrum_3d(wrapped, 16).pk, pk.pk);
  EXPECT_THROW(ds::power_spectrum_3d(wrapped, 15), ds::InvalidArgument);  // odd mesh
  EXPECT_THROW(ds::power_spectrum_3d(wrapped, 16, ds::MassAssignment::None), ds::InvalidArgument);
}
