// The power-spectrum baseline of issue 6 (item 6b): a Gaussian likelihood for (Omega_m, sigma_8)
// on the binned log power spectrum of a 2D field, with mean and covariance taken from mocks, so
// that every posterior (the exact GRF one, a diffusion model's) can be drawn against the answer
// of the classical summary-statistic analysis.
//
// Statistic. d_b = ln P_b of the field, b over the bins of the power spectrum of
// stats/power_spectrum_2d.h (Pylians conventions) rebinned (stats/binning.h, mode-weighted) into
// `bins` log-spaced bins from the fundamental k_F = 2 pi / L to k_max (default the Nyquist
// wavenumber pi N / L); bins without modes are dropped, so a grid may give fewer. The bins
// depend on (N, L) only: the observed field must have the grid of the mocks.
//
// Likelihood. ln L(theta) = -1/2 (d - mu(theta))^T Psi (d - mu(theta)), Psi = h C^-1, with
//   mu(theta) the mean log P(k) of mocks at theta: per bin, a least-squares polynomial of total
//     degree D (default 3: 10 coefficients) in the box-normalised parameters
//     u = (Omega_m - c_Om) / w_Om, v = (sigma_8 - c_s8) / w_s8 in [-1, 1] (c the centre, w the
//     half-width of the prior box), written on the Legendre products P_i(u) P_j(v), i + j <= D
//     (the same space as the monomials, well conditioned). Fitted to every mock of the mean set
//     (a Latin hypercube or a grid over the prior; one or several maps per cosmology). Smooth and
//     differentiable: the gradient is analytic, J^T Psi (d - mu) with J = d mu / d theta.
//   C the covariance of ln P(k), constant in theta (ln P makes it nearly so: for a Gaussian field
//     Var ln P_b ~ 1 / Nmodes_b whatever the cosmology), either
//       "fiducial": the sample covariance (ddof 1) of a separate set of mocks at one cosmology
//         (the fiducial 0.3, 0.8 when generated here), nu = N_cov - 1 degrees of freedom; or
//       "pooled": the covariance of the residuals d_m - mu(theta_m) of the mean set itself,
//         averaged over its cosmologies, nu = N_mean - (number of coefficients);
//   h = (nu - p - 1) / nu the Hartlap et al. (2007) factor (p bins) that makes h C^-1 an unbiased
//     inverse covariance; (N - p - 2) / (N - 1) for the fiducial form.
// Neglected: the uncertainty of the fitted mean itself (variance ~ (coefficients / N_mean) C at
// the training points, 2.5% of C with the defaults) and the theta dependence of C.
//
// Fit residual (stored with the baseline and printed by the CLI), per bin: the rms over the mean
// mocks of d_m - mu(theta_m) (natural-log units) and its ratio to sqrt(C_bb), ~sqrt(1 - q/N) when
// the residuals are cosmic variance alone; and the lack-of-fit statistic
//   F_b = sqrt( sum_c M_c (rbar_c)^2 / C_bb / (G - q) ),
// rbar_c the mean residual of the M_c mocks of cosmology c, G cosmologies, q coefficients: for an
// adequate polynomial (and C_bb right) sum_c M_c rbar_c^2 / C_bb is chi^2 with G - q degrees of
// freedom, so F_b ~ 1 (sd ~ 1/sqrt(2 (G - q))); F_b > 1 measures interpolation error beyond the
// noise of the mocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/mock/field_set.h"

namespace ds {

struct PkBaselineSettings {
  int bins = 10;       // log-spaced bins requested between k_F and k_max (empty ones dropped)
  double k_max = 0.0;  // h/Mpc; 0: the Nyquist wavenumber pi N / L
  int degree = 3;      // total degree of the mean's polynomial, 1..5
  Prior prior = kDefaultPrior;  // normalises the polynomial and bounds the posterior
};

// The fitted baseline: everything the likelihood needs, plus provenance and fit quality.
struct PkBaseline {
  // The grid and kind of the fields it applies to.
  int n = 0;
  double box_size = 0.0;  // Mpc/h
  FieldKind field_kind = FieldKind::Contrast;
  std::string generator;  // kind of the mocks (grf, lognormal, zeldovich, or the dataset's)

  // Bins: the requested edges (h/Mpc) and, per kept bin, the mean |k| and the number of modes.
  std::vector<double> edges;
  std::vector<double> k;
  std::vector<std::int64_t> nmodes;

  // Mean: coefficients [bins, terms] on the Legendre products of the header comment.
  int degree = 3;
  Prior prior = kDefaultPrior;
  std::vector<double> coefficients;

  // Covariance of ln P [bins, bins], its degrees of freedom, the Hartlap factor and
  // Psi = hartlap * C^-1 [bins, bins].
  std::string covariance_source;  // "fiducial" or "pooled"
  std::vector<double> covariance;
  double covariance_dof = 0.0;
  double hartlap = 1.0;
  std::vector<double> precision;

  // Provenance: numbers of mocks and where they came from.
  std::size_t mean_mocks = 0, mean_cosmologies = 0, covariance_mocks = 0;
  std::string mean_origin, covariance_origin;
  std::uint64_t seed = 0;  // of the generated mocks (0 when read from files)

  // Fit quality, per bin (header comment): rms of d_m - mu(theta_m) over the mean mocks, the same
  // divided by sqrt(C_bb), and the lack-of-fit statistic F_b (NaN when G <= q).
  std::vector<double> residual_rms, residual_over_sigma, lack_of_fit;

  std::size_t bins() const { return k.size(); }
  std::size_t terms() const { return std::size_t((degree + 1) * (degree + 2) / 2); }

  // mu(theta) [bins] and, when jacobian is not null, d mu / d(Omega_m, sigma_8) [bins, 2]
  // (row-major). Defined for any finite theta (a polynomial), meaningful inside the prior.
  void mean(double omega_m, double sigma_8, std::vector<double>& mu,
            std::vector<double>* jacobian = nullptr) const;

  // The statistic d of a field: n and box size must match the baseline's (InvalidArgument
  // otherwise), the field's kind says how its values are read (stats/power_spectrum_2d.h).
  // Throws InvalidArgument for a field without power in a bin (ln 0).
  std::vector<double> statistic(const Field2D& field) const;

  // ln L of a data vector d at theta and, when gradient is not null, d ln L / d theta (2 values).
  double log_likelihood(const std::vector<double>& data, double omega_m, double sigma_8,
                        double* gradient = nullptr) const;

  // Checks sizes and values (finite, C and Psi symmetric of the right size); throws
  // InvalidArgument naming `origin` and the problem.
  void validate(const std::string& origin) const;
};

// Fits a baseline to a dataset of fields with their parameters (the mean set: at least as many
// distinct cosmologies as polynomial terms) and, when covariance_set is not null, a set at one
// cosmology for the "fiducial" covariance; otherwise the covariance is "pooled". The two sets
// must share the grid and field kind. Throws InvalidArgument naming the origin and the problem
// (too few mocks or cosmologies for the degree or the bins, mismatched grids, a parameter outside
// the prior). Reports progress per field; honours cancellation.
PkBaseline fit_pk_baseline(const Dataset& mean_set, const Dataset* covariance_set,
                           const PkBaselineSettings& settings, const JobContext& job = {},
                           const std::string& mean_origin = "mean set",
                           const std::string& covariance_origin = "covariance set");

// Mocks generated here, from the built-in generator of the observed field's kind and grid.
struct PkMockPlan {
  MockFieldSettings field;     // kind, n, box size, slab thickness
  int cosmologies = 100;       // Latin hypercube over the prior (sets.h, kind lh) ...
  int per_cosmology = 4;       // ... with this many maps per cosmology: 400 mean mocks
  int covariance_mocks = 200;  // maps at the fiducial (0.3, 0.8) for C; 0: pooled covariance
  std::uint64_t seed = 0;      // the mean set uses mix_seed(seed, 1), the covariance set (seed, 2)
};

// Generates the sets of the plan (generate_field_set, all threads) and fits them.
PkBaseline build_pk_baseline(const PkMockPlan& plan, const PkBaselineSettings& settings,
                             const JobContext& job = {});

// A small JSON file holding the fitted baseline (format "diffuscope-pk-baseline", version 1), so
// it need not be refitted every run. Written atomically; read back with every check of validate
// (FileError naming the path and the problem).
void write_pk_baseline_json(const std::string& path, const PkBaseline& baseline);
PkBaseline read_pk_baseline_json(const std::string& path);

// ln L of one observed field as a LogDensity over (Omega_m, sigma_8) (batched: each point
// independently). Defined for every finite theta; use it behind a BoxPrior (pk_baseline_posterior).
class PkBaselineLikelihood : public LogDensity {
 public:
  // data: the field's statistic (baseline->statistic(field)), baseline->bins() values.
  PkBaselineLikelihood(std::shared_ptr<const PkBaseline> baseline, std::vector<double> data);

  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override { return {"Omega_m", "sigma_8"}; }
  std::vector<std::string> labels() const override { return {"\\Omega_m", "\\sigma_8"}; }

  const PkBaseline& baseline() const { return *baseline_; }
  const std::vector<double>& data() const { return data_; }

 private:
  std::shared_ptr<const PkBaseline> baseline_;
  std::vector<double> data_;
};

// log posterior = ln L of the field + flat prior on baseline->prior (-inf outside).
std::shared_ptr<const BoxPrior> pk_baseline_posterior(std::shared_ptr<const PkBaseline> baseline,
                                                      const Field2D& field);

}  // namespace ds
