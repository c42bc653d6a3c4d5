// Statistics over a set of summary statistics (e.g. the P(k) of many fields of one cosmology):
// envelopes, per-seed ratios, scatter with jackknife errors, correlation matrices and the chi^2
// tests of Diffusion-HMC (Mudur et al. 2024): the diagonal reduced chi^2 (their eq. 10) and the
// covariance chi^2 with the Hartlap-corrected inverse covariance (eqs. 8-9).
#pragma once

#include <vector>

namespace ds {

// M samples of a statistic with p bins each: set[m][b]. Every function checks that the set is
// non-empty, rectangular and finite, and throws InvalidArgument naming the problem.
using SampleSet = std::vector<std::vector<double>>;

// numpy.percentile(values, q) with the default linear interpolation; q in [0, 100].
double percentile(std::vector<double> values, double q);

struct Envelope {
  std::vector<double> mean, median;
  std::vector<double> lower, upper;  // the lower and upper percentiles per bin (16th and 84th)
};
Envelope ensemble_envelope(const SampleSet& set, double lower_percentile = 16.0,
                           double upper_percentile = 84.0);

// samples[m][b] / fiducial[m][b]: the 1P analysis, where sample m and fiducial m share a seed so
// that cosmic variance cancels in the ratio. The sets must have the same shape.
SampleSet ratio_to_fiducial(const SampleSet& samples, const SampleSet& fiducial);

struct ScatterWithError {
  std::vector<double> std;        // sample standard deviation per bin (ddof = 1)
  std::vector<double> std_error;  // its jackknife (delete-one) standard error
};
// Needs M >= 3. For Gaussian draws std_error ~ sigma / sqrt(2 (M - 1)).
ScatterWithError standard_deviation_with_jackknife(const SampleSet& set);

// Unbiased sample covariance (ddof = 1), p x p row-major. Needs M >= 2.
std::vector<double> covariance_matrix(const SampleSet& set);
// Pearson correlation C_ij / sqrt(C_ii C_jj), p x p row-major; a bin without scatter is an error.
std::vector<double> correlation_matrix(const SampleSet& set);

// (N - p - 2) / (N - 1): multiplies the inverse of a sample covariance from N samples of p bins to
// make it an unbiased estimate of the inverse covariance (Hartlap et al. 2007). Needs N > p + 2.
double hartlap_factor(int samples, int bins);

struct Chi2 {
  double chi2 = 0.0;
  int dof = 0;  // number of bins p
  double reduced() const { return chi2 / dof; }
};

// Diagonal form (Diffusion-HMC eq. 10): chi2 = sum_b (x_b - mean_b)^2 / sigma_b^2 over p bins,
// mean and sigma (ddof = 1) from the reference set (M >= 2), for every sample x of `samples`.
std::vector<Chi2> chi2_diagonal(const SampleSet& samples, const SampleSet& reference);

// Covariance form (eqs. 8-9): chi2 = hartlap (x - mean)^T C^-1 (x - mean) with C the sample
// covariance of the reference set. For a sample independent of a Gaussian reference set of N,
// E[chi2] = p (1 + 1/N).
std::vector<Chi2> chi2_covariance(const SampleSet& samples, const SampleSet& reference);

// The same tests for each member of the reference set against the other M - 1 members: the
// baseline a generated set is compared with (1.70 +- 0.36 for true CAMELS fields in the paper).
std::vector<Chi2> leave_one_out_chi2_diagonal(const SampleSet& reference);
std::vector<Chi2> leave_one_out_chi2_covariance(const SampleSet& reference);

// Mean and standard deviation (ddof = 1; 0 for one value) of the reduced chi^2 values.
void reduced_chi2_mean_sd(const std::vector<Chi2>& chi2, double& mean, double& sd);

// An emulated ensemble against a reference ensemble of the same cosmology (the P(k) of generated
// fields against those of simulated ones, the paper's Figure 2 and eq. 10), computed from whatever
// members exist so far (an ensemble that fills in progressively). Both sets have the same bins.
struct EnsembleComparison {
  std::size_t emulated_count = 0, reference_count = 0;
  Envelope emulated;   // empty when there is no emulated member yet
  Envelope reference;  // mean, median, 16-84% band
  // mean(emulated) / mean(reference) per bin, and the reference's own 16th / 84th percentiles
  // divided by its mean: the band within which the ratio of a faithful emulator scatters.
  std::vector<double> ratio, reference_ratio_lower, reference_ratio_upper;
  // Reduced diagonal chi^2 (eq. 10) of each emulated member against the reference mean and sd,
  // averaged (needs >= 2 reference members; NaN otherwise), and the same for each reference
  // member against the others, leave-one-out (needs >= 3; NaN otherwise): the value a faithful
  // emulator should match (2.29 vs 1.70 in the paper).
  double reduced_chi2 = 0.0, reduced_chi2_sd = 0.0;
  double reference_reduced_chi2 = 0.0, reference_reduced_chi2_sd = 0.0;
};
// Throws InvalidArgument for an empty or ragged reference set, or emulated rows of another size.
EnsembleComparison compare_ensembles(const SampleSet& emulated, const SampleSet& reference);

}  // namespace ds
