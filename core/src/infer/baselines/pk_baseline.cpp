#include "diffuscope/infer/baselines/pk_baseline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/binning.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "infer/mcmc/linear_algebra.h"

namespace ds {

namespace {

constexpr int kMaxDegree = 5;
constexpr const char* kFormat = "diffuscope-pk-baseline";
constexpr int kFormatVersion = 1;

// Legendre polynomials P_0..P_degree at x and their derivatives (Bonnet's recurrence;
// P'_{n+1} = P'_{n-1} + (2n + 1) P_n).
void legendre(double x, int degree, double* p, double* dp) {
  p[0] = 1.0;
  dp[0] = 0.0;
  if (degree >= 1) {
    p[1] = x;
    dp[1] = 1.0;
  }
  for (int n = 1; n < degree; ++n) {
    p[n + 1] = ((2 * n + 1) * x * p[n] - n * p[n - 1]) / (n + 1);
    dp[n + 1] = dp[n - 1] + (2 * n + 1) * p[n];
  }
}

// The basis P_i(u) P_j(v), i + j <= degree, ordered by total degree d = i + j, then by j; with
// derivatives with respect to u and v when du / dv are not null.
void basis(double u, double v, int degree, double* value, double* du, double* dv) {
  double pu[kMaxDegree + 1], dpu[kMaxDegree + 1], pv[kMaxDegree + 1], dpv[kMaxDegree + 1];
  legendre(u, degree, pu, dpu);
  legendre(v, degree, pv, dpv);
  std::size_t t = 0;
  for (int d = 0; d <= degree; ++d)
    for (int j = 0; j <= d; ++j, ++t) {
      const int i = d - j;
      value[t] = pu[i] * pv[j];
      if (du) du[t] = dpu[i] * pv[j];
      if (dv) dv[t] = pu[i] * dpv[j];
    }
}

// Box-normalised coordinates of theta and their scale (d u / d Omega_m, d v / d sigma_8).
struct Normalised {
  double u, v, du_dom, dv_ds8;
};
Normalised normalise(const Prior& prior, double omega_m, double sigma_8) {
  const double cu = 0.5 * (prior.omega_m.lo + prior.omega_m.hi);
  const double wu = 0.5 * prior.omega_m.width();
  const double cv = 0.5 * (prior.sigma_8.lo + prior.sigma_8.hi);
  const double wv = 0.5 * prior.sigma_8.width();
  return {(omega_m - cu) / wu, (sigma_8 - cv) / wv, 1.0 / wu, 1.0 / wv};
}

// The kept bins of a grid: the spectrum of a zero field has the grid's k and mode counts.
PowerSpectrum grid_bins(int n, double box_size, const std::vector<double>& edges) {
  const std::vector<double> zeros(std::size_t(n) * n, 0.0);
  return rebin(power_spectrum_2d_of_contrast(zeros.data(), n, box_size), edges);
}

// Checks a field dataset and returns its grid size.
int require_fields(const Dataset& d, const std::string& origin) {
  if (d.kind != SampleKind::Fields || d.shape.size() != 3 || d.shape[1] != d.shape[2])
    throw InvalidArgument(origin +
                          ": the power-spectrum baseline needs square 2D fields [M, N, N]");
  if (d.count() == 0) throw InvalidArgument(origin + ": holds no fields");
  if (d.param_count() < 2 || d.params.size() != d.count() * d.param_count())
    throw InvalidArgument(origin + ": needs the parameters (Omega_m, sigma_8) of every field");
  if (!(d.box_size > 0.0))
    throw InvalidArgument(origin + ": has no box size (the binning of P(k) needs it)");
  return int(d.shape[1]);
}

// ln P in the baseline's bins for every field of a dataset, [M][bins].
SampleSet dataset_statistics(const PkBaseline& b, const Dataset& d, const std::string& origin,
                             const JobContext& job, std::int64_t& done, std::int64_t total) {
  SampleSet out(d.count());
  for (std::size_t i = 0; i < d.count(); ++i) {
    job.check_cancelled();
    try {
      out[i] = b.statistic(dataset_field(d, i));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(origin + ", field " + std::to_string(i) + ": " + e.what());
    }
    job.report(++done, total, "P(k) of the mocks");
  }
  return out;
}

std::vector<double> symmetric_inverse(const std::vector<double>& a, std::size_t p,
                                      const std::string& what) {
  std::vector<double> inv = detail::inverse_from_cholesky(detail::cholesky(a, p, what), p);
  for (std::size_t i = 0; i < p; ++i)
    for (std::size_t j = 0; j < i; ++j)
      inv[i * p + j] = inv[j * p + i] = 0.5 * (inv[i * p + j] + inv[j * p + i]);
  return inv;
}

// NaN-aware JSON numbers: NaN is written as null and read back as NaN.
nlohmann::json number_array(const std::vector<double>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (double x : v) out.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json());
  return out;
}
std::vector<double> read_numbers(const nlohmann::json& j) {
  std::vector<double> out;
  for (const auto& x : j)
    out.push_back(x.is_null() ? std::numeric_limits<double>::quiet_NaN() : x.get<double>());
  return out;
}

// %g: 25, 1000, 12.5 (not std::to_string's 1000.000000).
std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void PkBaseline::mean(double omega_m, double sigma_8, std::vector<double>& mu,
                      std::vector<double>* jacobian) const {
  const std::size_t p = bins(), q = terms();
  double value[(kMaxDegree + 1) * (kMaxDegree + 2) / 2],
      du[(kMaxDegree + 1) * (kMaxDegree + 2) / 2], dv[(kMaxDegree + 1) * (kMaxDegree + 2) / 2];
  const Normalised x = normalise(prior, omega_m, sigma_8);
  basis(x.u, x.v, degree, value, jacobian ? du : nullptr, jacobian ? dv : nullptr);
  mu.assign(p, 0.0);
  if (jacobian) jacobian->assign(2 * p, 0.0);
  for (std::size_t b = 0; b < p; ++b) {
    const double* c = &coefficients[b * q];
    double m = 0.0, gu = 0.0, gv = 0.0;
    for (std::size_t t = 0; t < q; ++t) {
      m += c[t] * value[t];
      if (jacobian) {
        gu += c[t] * du[t];
        gv += c[t] * dv[t];
      }
    }
    mu[b] = m;
    if (jacobian) {
      (*jacobian)[2 * b] = gu * x.du_dom;
      (*jacobian)[2 * b + 1] = gv * x.dv_ds8;
    }
  }
}

std::vector<double> PkBaseline::statistic(const Field2D& field) const {
  if (field.n != n || !(std::abs(field.box_size - box_size) <= 1e-9 * box_size))
    throw InvalidArgument("the field is " + std::to_string(field.n) + "^2 of side " +
                          number_text(field.box_size) + " Mpc/h, the power-spectrum baseline " +
                          "was fitted to " + std::to_string(n) + "^2 fields of side " +
                          number_text(box_size) + " Mpc/h");
  const PowerSpectrum spectrum = rebin(power_spectrum_2d(field), edges);
  if (spectrum.size() != bins())
    throw InvalidArgument("the field gives " + std::to_string(spectrum.size()) +
                          " P(k) bins, the baseline has " + std::to_string(bins()));
  std::vector<double> out(bins());
  for (std::size_t b = 0; b < bins(); ++b) {
    if (!(spectrum.pk[b] > 0.0) || !std::isfinite(spectrum.pk[b]))
      throw InvalidArgument("the field has no power in the bin at k = " + std::to_string(k[b]) +
                            " h/Mpc (ln P undefined)");
    out[b] = std::log(spectrum.pk[b]);
  }
  return out;
}

double PkBaseline::log_likelihood(const std::vector<double>& data, double omega_m, double sigma_8,
                                  double* gradient) const {
  const std::size_t p = bins();
  if (data.size() != p)
    throw InvalidArgument("power-spectrum baseline: a data vector of " +
                          std::to_string(data.size()) + " values for " + std::to_string(p) +
                          " bins");
  std::vector<double> mu, jacobian;
  mean(omega_m, sigma_8, mu, gradient ? &jacobian : nullptr);
  std::vector<double> r(p), psi_r(p, 0.0);
  for (std::size_t b = 0; b < p; ++b) r[b] = data[b] - mu[b];
  double chi2 = 0.0;
  for (std::size_t i = 0; i < p; ++i) {
    for (std::size_t j = 0; j < p; ++j) psi_r[i] += precision[i * p + j] * r[j];
    chi2 += r[i] * psi_r[i];
  }
  if (gradient) {
    // d/dtheta of -chi2/2 = J^T Psi (d - mu).
    gradient[0] = gradient[1] = 0.0;
    for (std::size_t b = 0; b < p; ++b) {
      gradient[0] += jacobian[2 * b] * psi_r[b];
      gradient[1] += jacobian[2 * b + 1] * psi_r[b];
    }
  }
  return -0.5 * chi2;
}

void PkBaseline::validate(const std::string& origin) const {
  auto fail = [&](const std::string& why) { throw InvalidArgument(origin + ": " + why); };
  if (n < 2 || n % 2 || !(box_size > 0.0) || !std::isfinite(box_size))
    fail("the grid (n = " + std::to_string(n) + ", box size " + std::to_string(box_size) +
         ") is not valid");
  if (degree < 1 || degree > kMaxDegree)
    fail("polynomial degree " + std::to_string(degree) + " is outside 1.." +
         std::to_string(kMaxDegree));
  if (!(prior.omega_m.lo < prior.omega_m.hi) || !(prior.sigma_8.lo < prior.sigma_8.hi))
    fail("the prior box is empty");
  const std::size_t p = bins();
  if (p == 0) fail("has no bins");
  require_increasing_edges(edges, origin + ": edges");
  if (nmodes.size() != p) fail("nmodes does not have one entry per bin");
  if (coefficients.size() != p * terms())
    fail(std::to_string(coefficients.size()) + " coefficients, expected " +
         std::to_string(p * terms()) + " (bins x terms)");
  if (covariance.size() != p * p || precision.size() != p * p)
    fail("covariance and precision must be " + std::to_string(p) + " x " + std::to_string(p));
  for (const auto* v : {&k, &coefficients, &covariance, &precision})
    for (double x : *v)
      if (!std::isfinite(x)) fail("holds a non-finite value");
  for (std::size_t i = 0; i < p; ++i) {
    if (!(covariance[i * p + i] > 0.0)) fail("the covariance has a non-positive diagonal");
    for (std::size_t j = 0; j < i; ++j)
      if (std::abs(precision[i * p + j] - precision[j * p + i]) >
          1e-9 * (std::abs(precision[i * p + j]) + std::abs(precision[j * p + i])))
        fail("the precision matrix is not symmetric");
  }
  if (!(hartlap > 0.0) || hartlap > 1.0) fail("the Hartlap factor must lie in (0, 1]");
}

PkBaseline fit_pk_baseline(const Dataset& mean_set, const Dataset* covariance_set,
                           const PkBaselineSettings& settings, const JobContext& job,
                           const std::string& mean_origin, const std::string& covariance_origin) {
  if (settings.degree < 1 || settings.degree > kMaxDegree)
    throw InvalidArgument("power-spectrum baseline: polynomial degree " +
                          std::to_string(settings.degree) + " is outside 1.." +
                          std::to_string(kMaxDegree));
  if (settings.bins < 1)
    throw InvalidArgument("power-spectrum baseline: need at least one bin, got " +
                          std::to_string(settings.bins));
  PkBaseline b;
  b.n = require_fields(mean_set, mean_origin);
  b.box_size = mean_set.box_size;
  b.field_kind = field_kind_of_units(mean_set.units);
  b.generator = mean_set.generator;
  b.degree = settings.degree;
  b.prior = settings.prior;
  b.mean_origin = mean_origin;
  if (covariance_set) {
    const int n_cov = require_fields(*covariance_set, covariance_origin);
    if (n_cov != b.n || std::abs(covariance_set->box_size - b.box_size) > 1e-9 * b.box_size)
      throw InvalidArgument(covariance_origin + ": its fields (" + std::to_string(n_cov) + "^2, " +
                            number_text(covariance_set->box_size) +
                            " Mpc/h) differ from those of " + mean_origin + " (" +
                            std::to_string(b.n) + "^2, " + number_text(b.box_size) + " Mpc/h)");
    if (field_kind_of_units(covariance_set->units) != b.field_kind)
      throw InvalidArgument(covariance_origin + ": its units '" + covariance_set->units +
                            "' are not of the kind of " + mean_origin + " ('" + mean_set.units +
                            "')");
  }

  // Bins.
  const double k_fundamental = 2.0 * M_PI / b.box_size;
  const double k_nyquist = M_PI * b.n / b.box_size;
  const double k_max = settings.k_max > 0.0 ? settings.k_max : k_nyquist;
  if (!(k_max > k_fundamental))
    throw InvalidArgument("power-spectrum baseline: k_max " + std::to_string(k_max) +
                          " h/Mpc must exceed the fundamental " + std::to_string(k_fundamental));
  b.edges = log_spaced_edges(k_fundamental, k_max, settings.bins);
  const PowerSpectrum layout = grid_bins(b.n, b.box_size, b.edges);
  b.k = layout.k;
  b.nmodes = layout.nmodes;
  const std::size_t p = b.bins(), q = b.terms();
  if (p == 0) throw InvalidArgument("power-spectrum baseline: no P(k) bin holds a mode");

  // Statistics of every mock.
  const std::size_t m_mean = mean_set.count();
  const std::size_t m_cov = covariance_set ? covariance_set->count() : 0;
  std::int64_t done = 0;
  const std::int64_t total = std::int64_t(m_mean + m_cov);
  const SampleSet y = dataset_statistics(b, mean_set, mean_origin, job, done, total);
  SampleSet y_cov;
  if (covariance_set)
    y_cov = dataset_statistics(b, *covariance_set, covariance_origin, job, done, total);

  // Cosmologies of the mean set (groups of repeated parameters).
  std::map<std::pair<double, double>, std::vector<std::size_t>> groups;
  for (std::size_t m = 0; m < m_mean; ++m)
    groups[{mean_set.param(m, 0), mean_set.param(m, 1)}].push_back(m);
  b.mean_mocks = m_mean;
  b.mean_cosmologies = groups.size();
  if (groups.size() < q)
    throw InvalidArgument(mean_origin + ": " + std::to_string(groups.size()) +
                          " distinct cosmologies cannot determine a degree-" +
                          std::to_string(settings.degree) + " polynomial (" + std::to_string(q) +
                          " coefficients); use more cosmologies or a lower degree");

  // Least squares: (X^T X) c_b = X^T y_b for every bin b, one Cholesky factor.
  std::vector<double> x(m_mean * q), gram(q * q, 0.0), rhs(q * p, 0.0);
  for (std::size_t m = 0; m < m_mean; ++m) {
    const Normalised c = normalise(b.prior, mean_set.param(m, 0), mean_set.param(m, 1));
    basis(c.u, c.v, b.degree, &x[m * q], nullptr, nullptr);
  }
  for (std::size_t m = 0; m < m_mean; ++m) {
    const double* row = &x[m * q];
    for (std::size_t i = 0; i < q; ++i) {
      for (std::size_t j = 0; j < q; ++j) gram[i * q + j] += row[i] * row[j];
      for (std::size_t bin = 0; bin < p; ++bin) rhs[i * p + bin] += row[i] * y[m][bin];
    }
  }
  std::vector<double> factor;
  try {
    factor = detail::cholesky(gram, q, "the normal matrix of the polynomial fit");
  } catch (const InvalidArgument&) {
    throw InvalidArgument(mean_origin + ": the cosmologies of the mean set do not determine a " +
                          "degree-" + std::to_string(settings.degree) +
                          " polynomial (degenerate layout); use more cosmologies or a lower "
                          "degree");
  }
  b.coefficients.assign(p * q, 0.0);
  std::vector<double> column(q);
  for (std::size_t bin = 0; bin < p; ++bin) {
    for (std::size_t i = 0; i < q; ++i) column[i] = rhs[i * p + bin];
    detail::solve_lower(factor, q, column.data());
    detail::solve_lower_transposed(factor, q, column.data());
    std::copy(column.begin(), column.end(), b.coefficients.begin() + std::ptrdiff_t(bin * q));
  }

  // Residuals about the fit.
  SampleSet residual(m_mean, std::vector<double>(p));
  std::vector<double> mu;
  for (std::size_t m = 0; m < m_mean; ++m) {
    b.mean(mean_set.param(m, 0), mean_set.param(m, 1), mu);
    for (std::size_t bin = 0; bin < p; ++bin) residual[m][bin] = y[m][bin] - mu[bin];
  }

  // Covariance and its degrees of freedom.
  if (covariance_set) {
    if (m_cov < 2)
      throw InvalidArgument(covariance_origin + ": a covariance needs at least 2 mocks");
    b.covariance = covariance_matrix(y_cov);
    b.covariance_source = "fiducial";
    b.covariance_origin = covariance_origin;
    b.covariance_mocks = m_cov;
    b.covariance_dof = double(m_cov) - 1.0;
  } else {
    if (m_mean <= q)
      throw InvalidArgument(mean_origin + ": " + std::to_string(m_mean) +
                            " mocks leave no degrees of freedom for a pooled covariance after " +
                            std::to_string(q) + " coefficients");
    b.covariance.assign(p * p, 0.0);
    for (const auto& r : residual)
      for (std::size_t i = 0; i < p; ++i)
        for (std::size_t j = 0; j < p; ++j) b.covariance[i * p + j] += r[i] * r[j];
    for (double& c : b.covariance) c /= double(m_mean - q);
    b.covariance_source = "pooled";
    b.covariance_origin = mean_origin;
    b.covariance_mocks = m_mean;
    b.covariance_dof = double(m_mean - q);
  }
  const double nu = b.covariance_dof;
  if (!(nu > double(p) + 1.0))
    throw InvalidArgument(
        (covariance_set ? covariance_origin : mean_origin) + ": " +
        std::to_string(b.covariance_mocks) + " mocks (" + std::to_string(int(nu)) +
        " degrees of freedom) are too few for the "
        "inverse covariance of " +
        std::to_string(p) + " bins (Hartlap: need more than p + 1 degrees of freedom)");
  b.hartlap = (nu - double(p) - 1.0) / nu;
  try {
    b.precision = symmetric_inverse(b.covariance, p, "the covariance of ln P(k)");
  } catch (const InvalidArgument& e) {
    throw InvalidArgument((covariance_set ? covariance_origin : mean_origin) + ": " + e.what());
  }
  for (double& v : b.precision) v *= b.hartlap;

  // Fit quality.
  b.residual_rms.assign(p, 0.0);
  b.residual_over_sigma.assign(p, 0.0);
  b.lack_of_fit.assign(p, std::numeric_limits<double>::quiet_NaN());
  for (const auto& r : residual)
    for (std::size_t bin = 0; bin < p; ++bin) b.residual_rms[bin] += r[bin] * r[bin];
  for (std::size_t bin = 0; bin < p; ++bin) {
    b.residual_rms[bin] = std::sqrt(b.residual_rms[bin] / double(m_mean));
    b.residual_over_sigma[bin] = b.residual_rms[bin] / std::sqrt(b.covariance[bin * p + bin]);
  }
  if (groups.size() > q) {
    // The between-cosmology part of the residual sum of squares (the lack-of-fit F test).
    std::vector<double> sum2(p, 0.0);
    for (const auto& [theta, members] : groups) {
      for (std::size_t bin = 0; bin < p; ++bin) {
        double mean_r = 0.0;
        for (std::size_t m : members) mean_r += residual[m][bin];
        mean_r /= double(members.size());
        sum2[bin] += mean_r * mean_r * double(members.size()) / b.covariance[bin * p + bin];
      }
    }
    for (std::size_t bin = 0; bin < p; ++bin)
      b.lack_of_fit[bin] = std::sqrt(sum2[bin] / double(groups.size() - q));
  }
  b.validate("power-spectrum baseline of " + mean_origin);
  return b;
}

PkBaseline build_pk_baseline(const PkMockPlan& plan, const PkBaselineSettings& settings,
                             const JobContext& job) {
  if (plan.cosmologies < 1 || plan.per_cosmology < 1 || plan.covariance_mocks < 0)
    throw InvalidArgument(
        "power-spectrum baseline: the mock plan needs at least one cosmology "
        "and one map per cosmology");
  const std::string kind = kFieldKinds.name(plan.field.kind);
  SetDesign mean_design;
  mean_design.kind = SetKind::LatinHypercube;
  mean_design.n_cosmo = plan.cosmologies;
  mean_design.per_cosmo = plan.per_cosmology;
  mean_design.seed = mix_seed(plan.seed, 1);
  mean_design.prior = settings.prior;
  job.check_cancelled();
  const Dataset mean_set = generate_field_set(plan.field, mean_design, job);
  Dataset covariance_set;
  if (plan.covariance_mocks > 0) {
    SetDesign cov_design;
    cov_design.kind = SetKind::CosmicVariance;
    cov_design.n_cosmo = 1;
    cov_design.per_cosmo = plan.covariance_mocks;
    cov_design.seed = mix_seed(plan.seed, 2);
    cov_design.prior = settings.prior;
    covariance_set = generate_field_set(plan.field, cov_design, job);
  }
  const std::string grid = std::to_string(plan.field.n) + "^2 " + kind + " mocks of side " +
                           number_text(plan.field.box_size) + " Mpc/h";
  PkBaseline b = fit_pk_baseline(
      mean_set, plan.covariance_mocks > 0 ? &covariance_set : nullptr, settings, job,
      "generated lh set (" + std::to_string(plan.cosmologies) + " cosmologies x " +
          std::to_string(plan.per_cosmology) + " " + grid + ")",
      "generated fiducial set (" + std::to_string(plan.covariance_mocks) + " " + grid + ")");
  b.generator = kind;
  b.seed = plan.seed;
  return b;
}

void write_pk_baseline_json(const std::string& path, const PkBaseline& b) {
  b.validate(path);
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = kFormatVersion;
  j["grid"] = {{"n", b.n},
               {"box_size", b.box_size},
               {"field_kind", b.field_kind == FieldKind::Contrast ? "contrast" : "density"},
               {"generator", b.generator}};
  j["bins"] = {{"edges", b.edges}, {"k", b.k}, {"nmodes", b.nmodes}};
  j["mean"] = {{"basis",
                "Legendre P_i(u) P_j(v), i + j <= degree, by total degree then j; u, v "
                "the parameters scaled to [-1, 1] over the prior box"},
               {"degree", b.degree},
               {"prior",
                {{"Omega_m", {b.prior.omega_m.lo, b.prior.omega_m.hi}},
                 {"sigma_8", {b.prior.sigma_8.lo, b.prior.sigma_8.hi}}}},
               {"coefficients", b.coefficients}};
  j["covariance"] = {{"source", b.covariance_source},
                     {"dof", b.covariance_dof},
                     {"hartlap", b.hartlap},
                     {"matrix", b.covariance},
                     {"precision", b.precision}};
  j["provenance"] = {{"mean_mocks", b.mean_mocks},
                     {"mean_cosmologies", b.mean_cosmologies},
                     {"covariance_mocks", b.covariance_mocks},
                     {"mean_origin", b.mean_origin},
                     {"covariance_origin", b.covariance_origin},
                     {"seed", b.seed}};
  j["fit"] = {{"residual_rms", number_array(b.residual_rms)},
              {"residual_over_sigma", number_array(b.residual_over_sigma)},
              {"lack_of_fit", number_array(b.lack_of_fit)}};
  write_file_atomically(path, [&](std::ostream& out) { out << j.dump(1) << '\n'; });
}

PkBaseline read_pk_baseline_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot open the power-spectrum baseline file");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw FileError(path, std::string("not a JSON file: ") + e.what());
  }
  PkBaseline b;
  try {
    if (!j.is_object() || j.value("format", "") != kFormat)
      throw FileError(
          path, std::string("not a power-spectrum baseline (format '") + kFormat + "' expected)");
    if (j.at("version").get<int>() != kFormatVersion)
      throw FileError(path, "unsupported baseline version " + j.at("version").dump());
    const auto& grid = j.at("grid");
    b.n = grid.at("n").get<int>();
    b.box_size = grid.at("box_size").get<double>();
    const std::string kind = grid.at("field_kind").get<std::string>();
    if (kind != "contrast" && kind != "density")
      throw FileError(path, "field_kind '" + kind + "' is neither contrast nor density");
    b.field_kind = kind == "contrast" ? FieldKind::Contrast : FieldKind::Density;
    b.generator = grid.value("generator", "");
    const auto& bins = j.at("bins");
    b.edges = bins.at("edges").get<std::vector<double>>();
    b.k = bins.at("k").get<std::vector<double>>();
    b.nmodes = bins.at("nmodes").get<std::vector<std::int64_t>>();
    const auto& mean = j.at("mean");
    b.degree = mean.at("degree").get<int>();
    const auto om = mean.at("prior").at("Omega_m").get<std::vector<double>>();
    const auto s8 = mean.at("prior").at("sigma_8").get<std::vector<double>>();
    if (om.size() != 2 || s8.size() != 2)
      throw FileError(path, "the prior must give [lo, hi] for Omega_m and sigma_8");
    b.prior = Prior{{om[0], om[1]}, {s8[0], s8[1]}};
    b.coefficients = mean.at("coefficients").get<std::vector<double>>();
    const auto& cov = j.at("covariance");
    b.covariance_source = cov.at("source").get<std::string>();
    b.covariance_dof = cov.at("dof").get<double>();
    b.hartlap = cov.at("hartlap").get<double>();
    b.covariance = cov.at("matrix").get<std::vector<double>>();
    b.precision = cov.at("precision").get<std::vector<double>>();
    const auto& prov = j.at("provenance");
    b.mean_mocks = prov.at("mean_mocks").get<std::size_t>();
    b.mean_cosmologies = prov.at("mean_cosmologies").get<std::size_t>();
    b.covariance_mocks = prov.at("covariance_mocks").get<std::size_t>();
    b.mean_origin = prov.value("mean_origin", "");
    b.covariance_origin = prov.value("covariance_origin", "");
    b.seed = prov.value("seed", std::uint64_t(0));
    const auto& fit = j.at("fit");
    b.residual_rms = read_numbers(fit.at("residual_rms"));
    b.residual_over_sigma = read_numbers(fit.at("residual_over_sigma"));
    b.lack_of_fit = read_numbers(fit.at("lack_of_fit"));
  } catch (const FileError&) {
    throw;
  } catch (const std::exception& e) {
    throw FileError(path, std::string("malformed power-spectrum baseline: ") + e.what());
  }
  try {
    b.validate("baseline");
    // The bins must be those of the grid (a hand-edited file could disagree).
    const PowerSpectrum layout = grid_bins(b.n, b.box_size, b.edges);
    if (layout.nmodes != b.nmodes)
      throw InvalidArgument("its bins do not match the edges on a " + std::to_string(b.n) +
                            "^2 grid");
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  return b;
}

PkBaselineLikelihood::PkBaselineLikelihood(std::shared_ptr<const PkBaseline> baseline,
                                           std::vector<double> data)
    : baseline_(std::move(baseline)), data_(std::move(data)) {
  if (!baseline_) throw InvalidArgument("power-spectrum baseline likelihood: no baseline given");
  if (data_.size() != baseline_->bins())
    throw InvalidArgument("power-spectrum baseline likelihood: " + std::to_string(data_.size()) +
                          " data values for " + std::to_string(baseline_->bins()) + " bins");
  for (double v : data_)
    if (!std::isfinite(v))
      throw InvalidArgument("power-spectrum baseline likelihood: a data value is not finite");
}

void PkBaselineLikelihood::evaluate(const std::vector<double>& thetas, std::size_t batch,
                                    std::vector<double>& values,
                                    std::vector<double>* gradients) const {
  if (thetas.size() < 2 * batch)
    throw InvalidArgument("power-spectrum baseline: " + std::to_string(thetas.size()) +
                          " values for " + std::to_string(batch) + " points of dimension 2");
  values.resize(batch);
  if (gradients) gradients->assign(2 * batch, 0.0);
  for (std::size_t i = 0; i < batch; ++i) {
    const double om = thetas[2 * i], s8 = thetas[2 * i + 1];
    if (!std::isfinite(om) || !std::isfinite(s8)) {
      values[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    values[i] =
        baseline_->log_likelihood(data_, om, s8, gradients ? &(*gradients)[2 * i] : nullptr);
  }
}

std::shared_ptr<const BoxPrior> pk_baseline_posterior(std::shared_ptr<const PkBaseline> baseline,
                                                      const Field2D& field) {
  if (!baseline) throw InvalidArgument("power-spectrum baseline posterior: no baseline given");
  std::vector<double> data = baseline->statistic(field);
  const Prior prior = baseline->prior;
  return std::make_shared<BoxPrior>(
      std::make_shared<PkBaselineLikelihood>(std::move(baseline), std::move(data)), prior);
}

}  // namespace ds
