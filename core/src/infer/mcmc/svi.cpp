#include "diffuscope/infer/mcmc/svi.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

namespace {

// Adam ascent on one flat parameter vector.
struct Adam {
  Adam(std::size_t n, const SviSettings& s) : m(n, 0.0), v(n, 0.0), settings(s) {}
  void step(std::vector<double>& x, const std::vector<double>& gradient, double learning_rate) {
    ++t;
    const double c1 = 1.0 - std::pow(settings.beta1, double(t));
    const double c2 = 1.0 - std::pow(settings.beta2, double(t));
    for (std::size_t i = 0; i < x.size(); ++i) {
      m[i] = settings.beta1 * m[i] + (1.0 - settings.beta1) * gradient[i];
      v[i] = settings.beta2 * v[i] + (1.0 - settings.beta2) * gradient[i] * gradient[i];
      x[i] += learning_rate * (m[i] / c1) / (std::sqrt(v[i] / c2) + settings.epsilon);
    }
  }
  std::vector<double> m, v;
  const SviSettings& settings;
  std::size_t t = 0;
};

// theta <-> eta per parameter: theta = lo + w sigmoid(eta) on a finite range, identity otherwise.
struct Coordinates {
  std::vector<std::pair<double, double>> ranges;
  std::vector<char> bounded;

  explicit Coordinates(std::vector<std::pair<double, double>> r) : ranges(std::move(r)) {
    for (const auto& [lo, hi] : ranges)
      bounded.push_back(std::isfinite(lo) && std::isfinite(hi) && lo < hi ? 1 : 0);
  }
  bool any_bounded() const { return std::find(bounded.begin(), bounded.end(), 1) != bounded.end(); }
  double eta(std::size_t i, double theta) const {
    if (!bounded[i]) return theta;
    const double f = (theta - ranges[i].first) / (ranges[i].second - ranges[i].first);
    return std::log(f / (1.0 - f));
  }
  // theta(eta), d theta / d eta, log|d theta / d eta| and its eta-derivative.
  void forward(std::size_t i, double eta, double& theta, double& jacobian, double& log_jacobian,
               double& d_log_jacobian) const {
    if (!bounded[i]) {
      theta = eta;
      jacobian = 1.0;
      log_jacobian = d_log_jacobian = 0.0;
      return;
    }
    const double w = ranges[i].second - ranges[i].first;
    const double s = 1.0 / (1.0 + std::exp(-eta));
    // log sigmoid and log(1 - sigmoid) written to stay finite for large |eta|.
    const double log_s = -std::log1p(std::exp(-std::abs(eta))) + std::min(eta, 0.0);
    const double log_1ms = log_s - eta;
    theta = ranges[i].first + w * s;
    jacobian = w * s * (1.0 - s);
    log_jacobian = std::log(w) + log_s + log_1ms;
    d_log_jacobian = 1.0 - 2.0 * s;
  }
};

}  // namespace

SviResult fit_svi(const LogDensity& density, const SviSettings& settings, const JobContext& job,
                  const PartialResultCallback<SviProgress>& on_progress, std::size_t report_every) {
  const std::size_t d = density.dimension();
  if (settings.start.size() != d)
    throw InvalidArgument("SVI: the start has " + std::to_string(settings.start.size()) +
                          " parameters, the density has " + std::to_string(d));
  if (settings.steps == 0 || settings.samples_per_step == 0 || settings.draws == 0)
    throw InvalidArgument("SVI: steps, samples per step and draws must be positive");
  if (!(settings.learning_rate > 0.0) || !(settings.final_learning_rate_fraction > 0.0))
    throw InvalidArgument("SVI: the learning rate and its final fraction must be positive");
  std::vector<double> scale = settings.initial_scale;
  if (scale.empty())
    for (double s : settings.start) scale.push_back(s != 0.0 ? 0.05 * std::abs(s) : 0.05);
  if (scale.size() != d)
    throw InvalidArgument("SVI: initial scale has " + std::to_string(scale.size()) +
                          " entries, expected " + std::to_string(d));
  for (double s : scale)
    if (!(s > 0.0) || !std::isfinite(s))
      throw InvalidArgument("SVI: every initial scale must be positive and finite");
  if (!std::isfinite(evaluate_one(density, settings.start)))
    throw InvalidArgument("SVI: the start has a non-finite log density: start inside the support");

  const Coordinates coords(density.ranges());
  // eta of the start, and the initial sd mapped to eta (d eta = d theta / jacobian).
  std::vector<double> eta0(d), eta_scale(d);
  for (std::size_t i = 0; i < d; ++i) {
    eta0[i] = coords.eta(i, settings.start[i]);
    if (!std::isfinite(eta0[i]))
      throw InvalidArgument("SVI: the start lies on the edge of the range of parameter " +
                            density.names()[i] + ": start strictly inside");
    double theta, jacobian, log_jacobian, d_log_jacobian;
    coords.forward(i, eta0[i], theta, jacobian, log_jacobian, d_log_jacobian);
    eta_scale[i] = scale[i] / jacobian;
  }

  // Parameters of q in u = (eta - eta0) / eta_scale: mu (d), then L row-major (d*d, lower part
  // used) with the log of the diagonal stored on the diagonal.
  const std::size_t n_params = d + d * d;
  std::vector<double> params(n_params, 0.0), gradient(n_params);
  auto L = [&](std::size_t i, std::size_t j) {
    const double x = params[d + i * d + j];
    return i == j ? std::exp(x) : x;
  };
  Adam adam(n_params, settings);
  Rng rng(settings.seed);
  // Antithetic pairs (z, -z): for a Gaussian target the pair's mean gradient is exact, which
  // removes the noise that otherwise stalls the mean along a correlated target's long axis.
  const std::size_t k_draws = 2 * ((settings.samples_per_step + 1) / 2);
  std::vector<double> z(k_draws * d), thetas(k_draws * d), values, gradients;
  std::vector<double> jac(k_draws * d), d_log_jac(k_draws * d), log_jac(k_draws);
  SviResult result;
  result.elbo.reserve(settings.steps);
  double log_scale = 0.0;
  for (double s : eta_scale) log_scale += std::log(s);
  const double entropy_constant = 0.5 * double(d) * (1.0 + std::log(2.0 * M_PI)) + log_scale;

  job.report(0, std::int64_t(settings.steps), "starting");
  for (std::size_t step = 0; step < settings.steps; ++step) {
    job.check_cancelled();
    for (std::size_t k = 0; k < k_draws; ++k) {
      for (std::size_t i = 0; i < d; ++i)
        z[k * d + i] = k % 2 == 0 ? rng.normal() : -z[(k - 1) * d + i];
      log_jac[k] = 0.0;
      for (std::size_t i = 0; i < d; ++i) {
        double u = params[i];
        for (std::size_t j = 0; j <= i; ++j) u += L(i, j) * z[k * d + j];
        double lj = 0.0;
        coords.forward(i, eta0[i] + eta_scale[i] * u, thetas[k * d + i], jac[k * d + i], lj,
                       d_log_jac[k * d + i]);
        log_jac[k] += lj;
      }
    }
    density.evaluate(thetas, k_draws, values, &gradients);
    ++result.density_calls;
    std::fill(gradient.begin(), gradient.end(), 0.0);
    std::size_t valid = 0;
    double mean_lp = 0.0;
    for (std::size_t k = 0; k < k_draws; ++k) {
      bool finite = std::isfinite(values[k]);
      for (std::size_t i = 0; i < d && finite; ++i) finite = std::isfinite(gradients[k * d + i]);
      if (!finite) {
        ++result.rejected_samples;
        continue;
      }
      ++valid;
      mean_lp += values[k] + log_jac[k];
      // Chain rule through theta(eta0 + eta_scale (mu + L z)), plus the log-Jacobian's term.
      for (std::size_t i = 0; i < d; ++i) {
        const double g =
            eta_scale[i] * (gradients[k * d + i] * jac[k * d + i] + d_log_jac[k * d + i]);
        gradient[i] += g;
        for (std::size_t j = 0; j <= i; ++j) gradient[d + i * d + j] += g * z[k * d + j];
      }
    }
    if (valid == 0)
      throw InvalidArgument("SVI: every draw of step " + std::to_string(step) +
                            " has a non-finite log density");
    for (double& g : gradient) g /= double(valid);
    double log_det = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      // d/d(log L_ii) of E[log p] is L_ii dE/dL_ii; the entropy adds d log L_ii / d log L_ii = 1.
      gradient[d + i * d + i] = gradient[d + i * d + i] * L(i, i) + 1.0;
      log_det += params[d + i * d + i];
      for (std::size_t j = i + 1; j < d; ++j) gradient[d + i * d + j] = 0.0;  // upper: unused
    }
    const double elbo = mean_lp / double(valid) + entropy_constant + log_det;
    result.elbo.push_back(elbo);
    const double progress = settings.steps > 1 ? double(step) / double(settings.steps - 1) : 1.0;
    adam.step(params, gradient,
              settings.learning_rate * std::pow(settings.final_learning_rate_fraction, progress));
    if (on_progress && report_every > 0 &&
        (step % report_every == 0 || step + 1 == settings.steps)) {
      SviProgress p;
      p.step = step;
      p.elbo = elbo;
      for (std::size_t i = 0; i < d; ++i) {
        double theta, a, b, c;
        coords.forward(i, eta0[i] + eta_scale[i] * params[i], theta, a, b, c);
        p.mean.push_back(theta);
      }
      on_progress(p);
    }
    job.report(std::int64_t(step + 1), std::int64_t(settings.steps),
               "SVI step " + std::to_string(step + 1));
  }

  // q in eta: mean eta0 + eta_scale mu, Cholesky diag(eta_scale) L.
  result.unconstrained_mean.resize(d);
  result.unconstrained_cholesky.assign(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i) {
    result.unconstrained_mean[i] = eta0[i] + eta_scale[i] * params[i];
    for (std::size_t j = 0; j <= i; ++j)
      result.unconstrained_cholesky[i * d + j] = eta_scale[i] * L(i, j);
  }

  Chains& chains = result.chains;
  chains.names = density.names();
  chains.labels = density.labels();
  chains.ranges = density.ranges();
  chains.chains = 1;
  chains.draws = settings.draws;
  chains.sampler = "svi";
  chains.seed = settings.seed;
  chains.values.resize(settings.draws * d);
  std::vector<double> w(d);
  for (std::size_t n = 0; n < settings.draws; ++n) {
    for (std::size_t i = 0; i < d; ++i) w[i] = rng.normal();
    for (std::size_t i = 0; i < d; ++i) {
      double eta = result.unconstrained_mean[i];
      for (std::size_t j = 0; j <= i; ++j) eta += result.unconstrained_cholesky[i * d + j] * w[j];
      double a, b, c;
      coords.forward(i, eta, chains.values[n * d + i], a, b, c);
    }
  }
  density.evaluate(chains.values, settings.draws, chains.lp, nullptr);
  ++result.density_calls;

  // Moments of theta under q: exact without a transform, else from the draws.
  result.mean.assign(d, 0.0);
  result.covariance.assign(d * d, 0.0);
  if (!coords.any_bounded()) {
    result.mean = result.unconstrained_mean;
    const auto& c = result.unconstrained_cholesky;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j)
        for (std::size_t k = 0; k <= std::min(i, j); ++k)
          result.covariance[i * d + j] += c[i * d + k] * c[j * d + k];
  } else {
    const double n = double(settings.draws);
    for (std::size_t k = 0; k < settings.draws; ++k)
      for (std::size_t i = 0; i < d; ++i) result.mean[i] += chains.values[k * d + i] / n;
    for (std::size_t k = 0; k < settings.draws; ++k)
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j)
          result.covariance[i * d + j] += (chains.values[k * d + i] - result.mean[i]) *
                                          (chains.values[k * d + j] - result.mean[j]) /
                                          std::max(n - 1.0, 1.0);
  }

  const nlohmann::json config = {
      {"sampler", "svi"},
      {"family", "full-rank Gaussian in unconstrained coordinates (logit on bounded ranges)"},
      {"start", settings.start},
      {"initial_scale", scale},
      {"steps", settings.steps},
      {"samples_per_step", k_draws},
      {"learning_rate", settings.learning_rate},
      {"final_learning_rate_fraction", settings.final_learning_rate_fraction},
      {"draws", settings.draws},
      {"seed", settings.seed},
      {"unconstrained_mean", result.unconstrained_mean},
      {"unconstrained_cholesky", result.unconstrained_cholesky},
      {"mean", result.mean},
      {"covariance", result.covariance},
      {"final_elbo", result.elbo.back()},
      {"rejected_samples", result.rejected_samples}};
  chains.settings_json = config.dump();
  return result;
}

}  // namespace ds
