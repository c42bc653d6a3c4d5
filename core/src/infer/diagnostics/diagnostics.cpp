// R-hat, ESS and MCSE as ArviZ computes them (arviz/stats/diagnostics.py, v0.23): the same
// splitting, rank normalisation, autocovariance estimator and Geyer truncation, so the numbers
// agree with az.rhat / az.ess / az.mcse to rounding (tests/core/infer/test_diagnostics.cpp).
#include "diffuscope/infer/diagnostics/diagnostics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "diffuscope/error.h"
#include "numerics/fft.h"

namespace ds {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool has_nan(const ChainDraws& x) {
  return std::any_of(x.values.begin(), x.values.end(), [](double v) { return std::isnan(v); });
}

// ArviZ's `not_valid` shape rule: too few chains or draws gives NaN instead of a number.
bool invalid(const ChainDraws& x, std::size_t min_chains) {
  return has_nan(x) || x.chains < min_chains || x.draws < 4 ||
         x.values.size() != x.chains * x.draws;
}

double mean_of(const double* v, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += v[i];
  return s / double(n);
}

// Two-pass sample variance with ddof = 1.
double variance_of(const double* v, std::size_t n) {
  const double m = mean_of(v, n);
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += (v[i] - m) * (v[i] - m);
  return s / double(n - 1);
}

double median_of(std::vector<double> v) {
  const std::size_t n = v.size();
  std::sort(v.begin(), v.end());
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// R's type-7 quantile written as scipy's mquantiles(alphap=1, betap=1) evaluates it, so that the
// indicator x <= q of the tail ESS splits the draws exactly where ArviZ does.
double type7_quantile(std::vector<double> v, double prob) {
  std::sort(v.begin(), v.end());
  const double n = double(v.size());
  const double aleph = n * prob + (1.0 - prob);
  const double k = std::floor(std::clamp(aleph, 1.0, n - 1.0));
  const double gamma = std::clamp(aleph - k, 0.0, 1.0);
  const std::size_t i = std::size_t(k);
  return (1.0 - gamma) * v[i - 1] + gamma * v[i];
}

// Split R-hat of the chains as given: sqrt((B / W + n - 1) / n) with B = n var(chain means) and
// W the mean within-chain variance (BDA3 eq. 11.3-11.4).
double rhat_of(const ChainDraws& x) {
  if (has_nan(x)) return kNaN;
  const std::size_t n = x.draws;
  std::vector<double> means(x.chains), variances(x.chains);
  for (std::size_t c = 0; c < x.chains; ++c) {
    means[c] = mean_of(&x.values[c * n], n);
    variances[c] = variance_of(&x.values[c * n], n);
  }
  const double between = double(n) * variance_of(means.data(), means.size());
  const double within = mean_of(variances.data(), variances.size());
  return std::sqrt((between / within + double(n) - 1.0) / double(n));
}

ChainDraws folded(const ChainDraws& x) {
  const double median = median_of(x.values);
  ChainDraws out = x;
  for (double& v : out.values) v = std::abs(v - median);
  return out;
}

}  // namespace

ChainDraws parameter_draws(const Chains& chains, std::size_t p) {
  const std::size_t k = chains.parameters();
  if (p >= k)
    throw InvalidArgument("parameter index " + std::to_string(p) + " out of range (" +
                          std::to_string(k) + " parameters)");
  if (chains.values.size() != chains.chains * chains.draws * k)
    throw InvalidArgument("chains hold " + std::to_string(chains.values.size()) +
                          " values, expected chains x draws x parameters = " +
                          std::to_string(chains.chains * chains.draws * k));
  ChainDraws out;
  out.chains = chains.chains;
  out.draws = chains.draws;
  out.values.resize(chains.chains * chains.draws);
  for (std::size_t i = 0; i < out.values.size(); ++i) out.values[i] = chains.values[i * k + p];
  return out;
}

ChainDraws rank_normalize(const ChainDraws& x) {
  const std::size_t n = x.values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x.values[a] < x.values[b]; });
  ChainDraws out = x;
  // Ties share the average of their 1-based ranks (scipy.stats.rankdata, method="average").
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && x.values[order[j]] == x.values[order[i]]) ++j;
    const double rank = 0.5 * double(i + 1 + j);
    const double p = (rank - 0.375) / (double(n) - 2 * 0.375 + 1);
    const double z = inverse_normal_cdf(p);
    for (std::size_t t = i; t < j; ++t) out.values[order[t]] = z;
    i = j;
  }
  return out;
}

ChainDraws split_chains(const ChainDraws& x) {
  const std::size_t half = x.draws / 2;
  ChainDraws out;
  out.chains = 2 * x.chains;
  out.draws = half;
  out.values.reserve(out.chains * half);
  for (std::size_t c = 0; c < x.chains; ++c) {
    const double* chain = &x.values[c * x.draws];
    out.values.insert(out.values.end(), chain, chain + half);
  }
  for (std::size_t c = 0; c < x.chains; ++c) {
    const double* chain = &x.values[c * x.draws];
    out.values.insert(out.values.end(), chain + (x.draws - half), chain + x.draws);
  }
  return out;
}

std::vector<double> autocovariance(const std::vector<double>& series) {
  const std::size_t n = series.size();
  if (n == 0) return {};
  // Zero padding to 2n makes the circular correlation of the transform the linear one.
  auto& fft = detail::RealFft1d::for_this_thread(int(2 * n));
  const double mean = mean_of(series.data(), n);
  for (std::size_t i = 0; i < n; ++i) fft.real()[i] = series[i] - mean;
  std::fill(fft.real() + n, fft.real() + 2 * n, 0.0);
  fft.forward();
  for (int k = 0; k < fft.n() / 2 + 1; ++k) fft.complex()[k] = std::norm(fft.complex()[k]);
  fft.backward();
  std::vector<double> out(n);
  const double scale = 1.0 / (double(2 * n) * double(n));
  for (std::size_t i = 0; i < n; ++i) out[i] = fft.real()[i] * scale;
  return out;
}

double rhat_bulk(const ChainDraws& x) {
  if (invalid(x, 2)) return kNaN;
  return rhat_of(rank_normalize(split_chains(x)));
}

double rhat_folded(const ChainDraws& x) {
  if (invalid(x, 2)) return kNaN;
  return rhat_of(rank_normalize(folded(split_chains(x))));
}

double rhat(const ChainDraws& x) {
  if (invalid(x, 2)) return kNaN;
  return std::max(rhat_bulk(x), rhat_folded(x));
}

double ess_geyer(const ChainDraws& x) {
  if (has_nan(x) || x.chains == 0 || x.draws < 2) return kNaN;
  const auto [lo, hi] = std::minmax_element(x.values.begin(), x.values.end());
  // A constant quantity: every draw is an independent copy (numpy's float64 resolution, 1e-15).
  if (*hi - *lo < 1e-15) return double(x.values.size());
  const std::size_t m = x.chains, n = x.draws;
  std::vector<std::vector<double>> acov(m);
  std::vector<double> chain_mean(m);
  for (std::size_t c = 0; c < m; ++c) {
    const std::vector<double> chain(x.values.begin() + long(c * n),
                                    x.values.begin() + long((c + 1) * n));
    acov[c] = autocovariance(chain);
    chain_mean[c] = mean_of(chain.data(), n);
  }
  auto mean_acov = [&](std::size_t lag) {
    double s = 0;
    for (std::size_t c = 0; c < m; ++c) s += acov[c][lag];
    return s / double(m);
  };
  const double nd = double(n);
  const double mean_var = mean_acov(0) * nd / (nd - 1.0);
  double var_plus = mean_var * (nd - 1.0) / nd;
  if (m > 1) var_plus += variance_of(chain_mean.data(), m);
  auto rho = [&](std::size_t lag) { return 1.0 - (mean_var - mean_acov(lag)) / var_plus; };

  // Geyer's initial positive sequence: sum autocorrelation pairs while their sums stay positive.
  const long nl = long(n);
  std::vector<double> rho_hat(n, 0.0);
  double even = 1.0, odd = rho(1);
  rho_hat[0] = even;
  rho_hat[1] = odd;
  long t = 1;
  while (t < nl - 3 && even + odd > 0.0) {
    even = rho(std::size_t(t + 1));
    odd = rho(std::size_t(t + 2));
    if (even + odd >= 0) {
      rho_hat[std::size_t(t + 1)] = even;
      rho_hat[std::size_t(t + 2)] = odd;
    }
    t += 2;
  }
  const long max_t = t - 2;
  if (even > 0) rho_hat[std::size_t(max_t + 1)] = even;
  // Geyer's initial monotone sequence: pair sums may only decrease.
  for (t = 1; t <= max_t - 2; t += 2) {
    const std::size_t u = std::size_t(t);
    if (rho_hat[u + 1] + rho_hat[u + 2] > rho_hat[u - 1] + rho_hat[u]) {
      rho_hat[u + 1] = 0.5 * (rho_hat[u - 1] + rho_hat[u]);
      rho_hat[u + 2] = rho_hat[u + 1];
    }
  }
  const double size = double(m * n);
  double tau = -1.0;
  for (long i = 0; i <= max_t; ++i) tau += 2.0 * rho_hat[std::size_t(i)];
  if (max_t + 1 >= 0 && max_t + 1 < nl) tau += rho_hat[std::size_t(max_t + 1)];
  tau = std::max(tau, 1.0 / std::log10(size));
  for (double r : rho_hat)
    if (std::isnan(r)) return kNaN;
  return size / tau;
}

double ess_bulk(const ChainDraws& x) {
  if (invalid(x, 1)) return kNaN;
  return ess_geyer(rank_normalize(split_chains(x)));
}

double ess_quantile(const ChainDraws& x, double prob) {
  if (invalid(x, 1)) return kNaN;
  const double q = type7_quantile(x.values, prob);
  ChainDraws indicator = x;
  for (double& v : indicator.values) v = v <= q ? 1.0 : 0.0;
  return ess_geyer(split_chains(indicator));
}

double ess_tail(const ChainDraws& x) {
  if (invalid(x, 1)) return kNaN;
  return std::min(ess_quantile(x, 0.05), ess_quantile(x, 0.95));
}

double ess_mean(const ChainDraws& x) {
  if (invalid(x, 1)) return kNaN;
  return ess_geyer(split_chains(x));
}

double mcse_mean(const ChainDraws& x) {
  if (invalid(x, 1)) return kNaN;
  return std::sqrt(variance_of(x.values.data(), x.values.size())) / std::sqrt(ess_mean(x));
}

}  // namespace ds
