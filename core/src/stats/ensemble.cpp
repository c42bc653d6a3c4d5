#include "diffuscope/stats/ensemble.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "diffuscope/error.h"

namespace ds {

namespace {

// Checks shape and values; returns the number of bins.
std::size_t require_set(const SampleSet& set, const std::string& what, std::size_t min_samples) {
  if (set.size() < min_samples)
    throw InvalidArgument(what + ": need at least " + std::to_string(min_samples) +
                          " samples, got " + std::to_string(set.size()));
  const std::size_t bins = set.front().size();
  if (bins == 0) throw InvalidArgument(what + ": the samples have no bins");
  for (std::size_t m = 0; m < set.size(); ++m) {
    if (set[m].size() != bins)
      throw InvalidArgument(what + ": sample " + std::to_string(m) + " has " +
                            std::to_string(set[m].size()) + " bins, sample 0 has " +
                            std::to_string(bins));
    for (std::size_t b = 0; b < bins; ++b)
      if (!std::isfinite(set[m][b]))
        throw InvalidArgument(what + ": sample " + std::to_string(m) + " bin " + std::to_string(b) +
                              " is not finite");
  }
  return bins;
}

std::vector<double> mean_of(const SampleSet& set, std::size_t skip = std::size_t(-1)) {
  std::vector<double> mean(set.front().size(), 0.0);
  std::size_t used = 0;
  for (std::size_t m = 0; m < set.size(); ++m) {
    if (m == skip) continue;
    for (std::size_t b = 0; b < mean.size(); ++b) mean[b] += set[m][b];
    ++used;
  }
  for (double& v : mean) v /= double(used);
  return mean;
}

// Covariance (ddof = 1) of the set without member `skip` (none by default).
std::vector<double> covariance_of(const SampleSet& set, std::size_t skip = std::size_t(-1)) {
  const std::size_t p = set.front().size();
  const std::vector<double> mean = mean_of(set, skip);
  std::vector<double> cov(p * p, 0.0);
  std::size_t used = 0;
  std::vector<double> d(p);
  for (std::size_t m = 0; m < set.size(); ++m) {
    if (m == skip) continue;
    for (std::size_t b = 0; b < p; ++b) d[b] = set[m][b] - mean[b];
    for (std::size_t i = 0; i < p; ++i)
      for (std::size_t j = i; j < p; ++j) cov[i * p + j] += d[i] * d[j];
    ++used;
  }
  for (std::size_t i = 0; i < p; ++i)
    for (std::size_t j = i; j < p; ++j) {
      cov[i * p + j] /= double(used - 1);
      cov[j * p + i] = cov[i * p + j];
    }
  return cov;
}

// In-place Cholesky factor L (lower triangle) of a symmetric positive-definite matrix.
void cholesky(std::vector<double>& a, std::size_t p, const std::string& what) {
  for (std::size_t j = 0; j < p; ++j) {
    const double variance = a[j * p + j];
    double diag = variance;
    for (std::size_t k = 0; k < j; ++k) diag -= a[j * p + k] * a[j * p + k];
    // What bin j adds beyond the previous bins: below 1e-12 of its variance the bin is a linear
    // combination of the others to rounding, and the inverse would be noise.
    if (!(diag > 1e-12 * variance))
      throw InvalidArgument(what + ": the reference covariance is singular (bin " +
                            std::to_string(j) + "); use fewer bins or more reference samples");
    a[j * p + j] = std::sqrt(diag);
    for (std::size_t i = j + 1; i < p; ++i) {
      double v = a[i * p + j];
      for (std::size_t k = 0; k < j; ++k) v -= a[i * p + k] * a[j * p + k];
      a[i * p + j] = v / a[j * p + j];
    }
  }
}

// d^T C^-1 d = |L^-1 d|^2 by forward substitution with the Cholesky factor of C.
double mahalanobis2(const std::vector<double>& chol, std::size_t p, std::vector<double> d) {
  double sum = 0.0;
  for (std::size_t i = 0; i < p; ++i) {
    double v = d[i];
    for (std::size_t k = 0; k < i; ++k) v -= chol[i * p + k] * d[k];
    d[i] = v / chol[i * p + i];
    sum += d[i] * d[i];
  }
  return sum;
}

Chi2 diagonal_against(const std::vector<double>& x, const std::vector<double>& mean,
                      const std::vector<double>& variance) {
  Chi2 c;
  c.dof = int(x.size());
  for (std::size_t b = 0; b < x.size(); ++b)
    c.chi2 += (x[b] - mean[b]) * (x[b] - mean[b]) / variance[b];
  return c;
}

std::vector<double> diagonal_of(const std::vector<double>& cov, std::size_t p,
                                const std::string& what) {
  std::vector<double> variance(p);
  for (std::size_t b = 0; b < p; ++b) {
    variance[b] = cov[b * p + b];
    if (!(variance[b] > 0.0))
      throw InvalidArgument(what + ": the reference set has no scatter in bin " +
                            std::to_string(b));
  }
  return variance;
}

}  // namespace

double percentile(std::vector<double> values, double q) {
  if (values.empty()) throw InvalidArgument("percentile: no values");
  if (!(q >= 0.0 && q <= 100.0))
    throw InvalidArgument("percentile: q = " + std::to_string(q) + " is outside [0, 100]");
  std::sort(values.begin(), values.end());
  const double position = q / 100.0 * double(values.size() - 1);
  const std::size_t below = std::size_t(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double t = position - double(below);
  return values[below] + t * (values[above] - values[below]);
}

Envelope ensemble_envelope(const SampleSet& set, double lower_percentile, double upper_percentile) {
  const std::size_t bins = require_set(set, "envelope", 1);
  Envelope e;
  e.mean = mean_of(set);
  std::vector<double> column(set.size());
  for (std::size_t b = 0; b < bins; ++b) {
    for (std::size_t m = 0; m < set.size(); ++m) column[m] = set[m][b];
    e.median.push_back(percentile(column, 50.0));
    e.lower.push_back(percentile(column, lower_percentile));
    e.upper.push_back(percentile(column, upper_percentile));
  }
  return e;
}

SampleSet ratio_to_fiducial(const SampleSet& samples, const SampleSet& fiducial) {
  const std::size_t bins = require_set(samples, "ratio", 1);
  require_set(fiducial, "ratio (fiducial set)", 1);
  if (fiducial.size() != samples.size() || fiducial.front().size() != bins)
    throw InvalidArgument("ratio: the fiducial set is " + std::to_string(fiducial.size()) + " x " +
                          std::to_string(fiducial.front().size()) + ", the samples are " +
                          std::to_string(samples.size()) + " x " + std::to_string(bins) +
                          " (one fiducial per seed)");
  SampleSet out(samples.size(), std::vector<double>(bins));
  for (std::size_t m = 0; m < samples.size(); ++m)
    for (std::size_t b = 0; b < bins; ++b) {
      if (fiducial[m][b] == 0.0)
        throw InvalidArgument("ratio: fiducial sample " + std::to_string(m) + " is zero in bin " +
                              std::to_string(b));
      out[m][b] = samples[m][b] / fiducial[m][b];
    }
  return out;
}

ScatterWithError standard_deviation_with_jackknife(const SampleSet& set) {
  const std::size_t bins = require_set(set, "jackknife", 3);
  const std::size_t n = set.size();
  ScatterWithError out;
  std::vector<double> column(n), leave_one_out(n);
  for (std::size_t b = 0; b < bins; ++b) {
    double sum = 0.0, sum2 = 0.0;
    for (std::size_t m = 0; m < n; ++m) column[m] = set[m][b];
    for (double v : column) sum += v;
    const double mean = sum / double(n);
    for (double v : column) sum2 += (v - mean) * (v - mean);
    out.std.push_back(std::sqrt(sum2 / double(n - 1)));
    // Delete-one estimates from the sums (centred on the full mean for accuracy).
    double jk_mean = 0.0;
    for (std::size_t m = 0; m < n; ++m) {
      const double d = column[m] - mean;
      const double mean_without = -d / double(n - 1);  // relative to the full mean
      const double ss = sum2 - d * d - double(n - 1) * mean_without * mean_without;
      leave_one_out[m] = std::sqrt(std::max(ss, 0.0) / double(n - 2));
      jk_mean += leave_one_out[m];
    }
    jk_mean /= double(n);
    double jk_var = 0.0;
    for (double v : leave_one_out) jk_var += (v - jk_mean) * (v - jk_mean);
    out.std_error.push_back(std::sqrt(jk_var * double(n - 1) / double(n)));
  }
  return out;
}

std::vector<double> covariance_matrix(const SampleSet& set) {
  require_set(set, "covariance", 2);
  return covariance_of(set);
}

std::vector<double> correlation_matrix(const SampleSet& set) {
  const std::size_t p = require_set(set, "correlation", 2);
  std::vector<double> cov = covariance_of(set);
  const std::vector<double> variance = diagonal_of(cov, p, "correlation");
  for (std::size_t i = 0; i < p; ++i)
    for (std::size_t j = 0; j < p; ++j) cov[i * p + j] /= std::sqrt(variance[i] * variance[j]);
  return cov;
}

double hartlap_factor(int samples, int bins) {
  if (bins < 1 || samples <= bins + 2)
    throw InvalidArgument("Hartlap factor: need more than p + 2 = " + std::to_string(bins + 2) +
                          " samples for " + std::to_string(bins) + " bins, got " +
                          std::to_string(samples));
  return double(samples - bins - 2) / double(samples - 1);
}

std::vector<Chi2> chi2_diagonal(const SampleSet& samples, const SampleSet& reference) {
  const std::size_t p = require_set(reference, "chi2 (reference set)", 2);
  if (require_set(samples, "chi2", 1) != p)
    throw InvalidArgument("chi2: the samples have " + std::to_string(samples.front().size()) +
                          " bins, the reference set " + std::to_string(p));
  const std::vector<double> mean = mean_of(reference);
  const std::vector<double> variance = diagonal_of(covariance_of(reference), p, "chi2");
  std::vector<Chi2> out;
  for (const auto& x : samples) out.push_back(diagonal_against(x, mean, variance));
  return out;
}

std::vector<Chi2> chi2_covariance(const SampleSet& samples, const SampleSet& reference) {
  const std::size_t p = require_set(reference, "chi2 (reference set)", 2);
  if (require_set(samples, "chi2", 1) != p)
    throw InvalidArgument("chi2: the samples have " + std::to_string(samples.front().size()) +
                          " bins, the reference set " + std::to_string(p));
  const double hartlap = hartlap_factor(int(reference.size()), int(p));
  const std::vector<double> mean = mean_of(reference);
  std::vector<double> chol = covariance_of(reference);
  cholesky(chol, p, "chi2");
  std::vector<Chi2> out;
  std::vector<double> d(p);
  for (const auto& x : samples) {
    for (std::size_t b = 0; b < p; ++b) d[b] = x[b] - mean[b];
    out.push_back(Chi2{hartlap * mahalanobis2(chol, p, d), int(p)});
  }
  return out;
}

std::vector<Chi2> leave_one_out_chi2_diagonal(const SampleSet& reference) {
  const std::size_t p = require_set(reference, "leave-one-out chi2", 3);
  std::vector<Chi2> out;
  for (std::size_t m = 0; m < reference.size(); ++m) {
    const std::vector<double> mean = mean_of(reference, m);
    const std::vector<double> variance =
        diagonal_of(covariance_of(reference, m), p, "leave-one-out chi2");
    out.push_back(diagonal_against(reference[m], mean, variance));
  }
  return out;
}

std::vector<Chi2> leave_one_out_chi2_covariance(const SampleSet& reference) {
  const std::size_t p = require_set(reference, "leave-one-out chi2", 3);
  const double hartlap = hartlap_factor(int(reference.size()) - 1, int(p));
  std::vector<Chi2> out;
  std::vector<double> d(p);
  for (std::size_t m = 0; m < reference.size(); ++m) {
    const std::vector<double> mean = mean_of(reference, m);
    std::vector<double> chol = covariance_of(reference, m);
    cholesky(chol, p, "leave-one-out chi2");
    for (std::size_t b = 0; b < p; ++b) d[b] = reference[m][b] - mean[b];
    out.push_back(Chi2{hartlap * mahalanobis2(chol, p, d), int(p)});
  }
  return out;
}

void reduced_chi2_mean_sd(const std::vector<Chi2>& chi2, double& mean, double& sd) {
  mean = sd = 0.0;
  if (chi2.empty()) return;
  for (const auto& c : chi2) mean += c.reduced();
  mean /= double(chi2.size());
  for (const auto& c : chi2) sd += (c.reduced() - mean) * (c.reduced() - mean);
  sd = chi2.size() > 1 ? std::sqrt(sd / double(chi2.size() - 1)) : 0.0;
}

EnsembleComparison compare_ensembles(const SampleSet& emulated, const SampleSet& reference) {
  const std::size_t p = require_set(reference, "ensemble comparison (reference)", 1);
  EnsembleComparison out;
  out.reference_count = reference.size();
  out.emulated_count = emulated.size();
  out.reference = ensemble_envelope(reference);
  for (std::size_t b = 0; b < p; ++b) {
    out.reference_ratio_lower.push_back(out.reference.lower[b] / out.reference.mean[b]);
    out.reference_ratio_upper.push_back(out.reference.upper[b] / out.reference.mean[b]);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.reduced_chi2 = out.reduced_chi2_sd = nan;
  out.reference_reduced_chi2 = out.reference_reduced_chi2_sd = nan;
  if (reference.size() >= 3)
    reduced_chi2_mean_sd(leave_one_out_chi2_diagonal(reference), out.reference_reduced_chi2,
                         out.reference_reduced_chi2_sd);
  if (emulated.empty()) return out;
  if (require_set(emulated, "ensemble comparison (emulated)", 1) != p)
    throw InvalidArgument("ensemble comparison: the emulated rows have " +
                          std::to_string(emulated.front().size()) + " bins, the reference " +
                          std::to_string(p));
  out.emulated = ensemble_envelope(emulated);
  for (std::size_t b = 0; b < p; ++b)
    out.ratio.push_back(out.emulated.mean[b] / out.reference.mean[b]);
  if (reference.size() >= 2)
    reduced_chi2_mean_sd(chi2_diagonal(emulated, reference), out.reduced_chi2, out.reduced_chi2_sd);
  return out;
}

}  // namespace ds
