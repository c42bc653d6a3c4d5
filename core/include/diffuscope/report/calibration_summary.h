// The calibration block of a report (report.h) from the per-field posteriors: per parameter the
// coverage of the central 68% and 95% intervals with binomial errors, the z-scores, an SBC-style
// rank histogram, the expected-coverage curve and the bias; and, when each field also has an
// exact (reference) posterior, how the model's posterior compares with it.
//
// Definitions (per parameter, K fields):
//   coverage c of an interval: the fraction of fields whose interval holds the truth; its
//     binomial standard error sqrt(c (1 - c) / K) and the nominal one sqrt(q (1 - q) / K);
//   z = (posterior mean - truth) / posterior sd; mean |z| (0.80 for a calibrated Gaussian
//     posterior; the paper: 2.75 for Omega_m, 1.14 for sigma_8), mean z and sd (ddof 1) of z;
//   rank u = the posterior's marginal CDF at the truth (grid_marginal_cdf): uniform on [0, 1] for
//     a calibrated posterior with truths drawn from the prior (the continuous form of the rank of
//     simulation-based calibration); histogram of u in rank_bins equal bins;
//   expected coverage at credibility level q: the fraction of fields with |2u - 1| <= q (the truth
//     inside the central q interval), with its binomial error; q on the diagonal when calibrated;
//   bias: mean of (mean - truth); relative bias: mean of (mean - truth) / truth.
//   exact comparison, per field: width ratio sd / sd_exact, shift (mean - mean_exact) / sd_exact,
//     overlap of the 68% intervals |A n B| / |A u B| (1 for identical intervals, 0 for disjoint).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace ds {

// One parameter of one field's posterior, as a report stores it.
struct ReportParameterPosterior {
  double truth = 0.0, mean = 0.0, sd = 0.0, z = 0.0, rank = 0.0;  // rank: CDF at the truth
  double inner_lo = 0.0, inner_hi = 0.0, outer_lo = 0.0, outer_hi = 0.0;
  bool inside_inner = false, inside_outer = false;
  // The exact posterior (NaN without one).
  double exact_mean = std::numeric_limits<double>::quiet_NaN();
  double exact_sd = std::numeric_limits<double>::quiet_NaN();
  double exact_inner_lo = std::numeric_limits<double>::quiet_NaN();
  double exact_inner_hi = std::numeric_limits<double>::quiet_NaN();
};

struct CoverageCurve {
  std::vector<double> levels, coverage, se;
};

struct ParameterCalibrationSummary {
  std::string name;
  std::size_t fields = 0;
  double inner_coverage = 0.0, inner_se = 0.0, inner_nominal_se = 0.0;
  double outer_coverage = 0.0, outer_se = 0.0, outer_nominal_se = 0.0;
  double mean_abs_z = 0.0, z_mean = 0.0, z_sd = 0.0;
  double bias = 0.0, relative_bias = 0.0, mean_sd = 0.0;
  std::vector<std::size_t> rank_histogram;
  CoverageCurve expected_coverage;
  // Exact comparison (NaN / empty without exact posteriors).
  double width_ratio_mean = std::numeric_limits<double>::quiet_NaN();
  double width_ratio_sd = std::numeric_limits<double>::quiet_NaN();
  double shift_mean = std::numeric_limits<double>::quiet_NaN();
  double shift_sd = std::numeric_limits<double>::quiet_NaN();
  double overlap_mean = std::numeric_limits<double>::quiet_NaN();
};

// The default credibility levels 0.05, 0.10, ..., 0.95, 0.99.
std::vector<double> default_coverage_levels();

// |A n B| / |A u B| of two intervals (0 when disjoint; 1 when identical, also both points).
double interval_overlap(double a_lo, double a_hi, double b_lo, double b_hi);

// posteriors[field] is the field's value of this parameter. Throws InvalidArgument for fewer
// than 2 fields or rank_bins < 1.
ParameterCalibrationSummary summarize_parameter(const std::string& name,
                                                const std::vector<ReportParameterPosterior>& fields,
                                                int rank_bins, const std::vector<double>& levels);

}  // namespace ds
