// MCMC convergence diagnostics with ArviZ's definitions (arviz.stats.diagnostics, v0.23):
// rank-normalised split R-hat (Vehtari et al. 2021, Bayesian Analysis 16, 667), bulk / tail / mean
// effective sample sizes from FFT autocovariances with Geyer's initial monotone sequence, the
// Monte Carlo standard error of the mean, ArviZ's highest-density interval, acceptance,
// divergences and E-BFMI (Betancourt 2016, arXiv:1604.00695).
//
// Every function takes the draws of one scalar quantity of shape [chain, draw]. Like ArviZ they
// return NaN (never throw) when the input holds a NaN or is too short: R-hat needs >= 2 chains and
// >= 4 draws per chain, the ESS and MCSE functions >= 1 chain and >= 4 draws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "diffuscope/infer/chains/chains.h"

namespace ds {

// Draws of one scalar quantity: values[chain * draws + draw], C order.
struct ChainDraws {
  std::vector<double> values;
  std::size_t chains = 0;
  std::size_t draws = 0;
};

// Parameter p of all chains. Throws InvalidArgument when p is out of range or the sizes of
// chains.values do not match chains x draws x parameters.
ChainDraws parameter_draws(const Chains& chains, std::size_t p);

// The standard normal quantile function Phi^{-1}(p) (Wichura 1988, AS241 PPND16; relative error
// below 1e-15). -inf at 0, +inf at 1, NaN outside [0, 1].
double inverse_normal_cdf(double p);

// Rank normalisation: average ranks r over all values, then Phi^{-1}((r - 3/8) / (n + 1/4))
// (Blom 1958), shape kept. ArviZ `_z_scale`.
ChainDraws rank_normalize(const ChainDraws& x);

// Each chain cut into its first and last floor(draws / 2) draws (the middle draw of an odd chain
// is dropped): [2 * chains, draws / 2], first halves first. ArviZ `_split_chains`.
ChainDraws split_chains(const ChainDraws& x);

// Autocovariance of one series for lags 0..n-1, biased (divided by n), computed by a zero-padded
// FFTW real transform. ArviZ `autocov`.
std::vector<double> autocovariance(const std::vector<double>& series);

// --- R-hat -----------------------------------------------------------------------------------
// Rank-normalised split R-hat: max(rhat_bulk, rhat_folded). az.rhat(method="rank").
double rhat(const ChainDraws& x);
// Split R-hat of the rank-normalised draws. ArviZ `_rhat_z_scale`.
double rhat_bulk(const ChainDraws& x);
// Split R-hat of the rank-normalised |x - median(x)|. ArviZ `_rhat_folded`.
double rhat_folded(const ChainDraws& x);

// --- effective sample size -------------------------------------------------------------------
// Geyer initial-monotone-sequence ESS of the given chains as they are (no split, no
// normalisation). ArviZ `_ess`.
double ess_geyer(const ChainDraws& x);
// ESS of the rank-normalised split chains. az.ess(method="bulk").
double ess_bulk(const ChainDraws& x);
// min(ess_quantile(x, 0.05), ess_quantile(x, 0.95)). az.ess(method="tail").
double ess_tail(const ChainDraws& x);
// ESS of the indicator x <= q_prob (q the R type-7 quantile of all draws), split chains.
double ess_quantile(const ChainDraws& x, double prob);
// ESS of the split chains themselves. az.ess(method="mean").
double ess_mean(const ChainDraws& x);
// sd(x, ddof = 1) / sqrt(ess_mean(x)). az.mcse(method="mean").
double mcse_mean(const ChainDraws& x);

// --- intervals and moments -------------------------------------------------------------------
// The shortest interval [sorted[i], sorted[i + floor(prob * n)]] over all draws: ArviZ's HDI
// (az.hdi, default 94%: the hdi_3% / hdi_97% columns of az.summary). Throws InvalidArgument for
// an empty input or prob outside (0, 1).
std::pair<double, double> hdi(const std::vector<double>& draws, double prob = 0.94);

// --- sampler statistics ----------------------------------------------------------------------
// E-BFMI of each chain: sum_t (E_t - E_{t-1})^2 / sum_t (E_t - mean E)^2. Values below 0.3
// indicate that momentum resampling explores the energy distribution poorly. Energy [chain,
// draw]; NaN for a chain with fewer than 2 draws. az.bfmi.
std::vector<double> e_bfmi(const ChainDraws& energy);

// The summary a `diagnose` report shows: one row per parameter as az.summary (mean, sd, hdi_3%,
// hdi_97%, mcse_mean, ess_bulk, ess_tail, r_hat), plus sampler statistics when present.
struct ParameterSummary {
  std::string name;
  double mean = 0, sd = 0;
  double hdi_low = 0, hdi_high = 0;  // 94% HDI
  double mcse_mean = 0, ess_bulk = 0, ess_tail = 0, r_hat = 0;
};

struct ChainsSummary {
  std::size_t chains = 0, draws = 0;
  std::vector<ParameterSummary> parameters;
  // Present only when the chains carry the statistic.
  std::optional<double> acceptance_rate;           // mean over all draws
  std::vector<double> acceptance_rate_per_chain;   // empty when absent
  std::optional<std::size_t> divergences;          // total count
  std::vector<std::size_t> divergences_per_chain;  // empty when absent
  std::vector<double> e_bfmi;                      // per chain; empty without energy
};

// Throws InvalidArgument when chains is empty or inconsistent in size.
ChainsSummary summarize(const Chains& chains);

// The summary as a JSON object keyed by parameter name (each holding mean, sd, hdi_3%, hdi_97%,
// mcse_mean, ess_bulk, ess_tail, r_hat), plus "_sampler" with chains, draws and the sampler
// statistics that are present. NaN is written as null.
std::string summary_to_json(const ChainsSummary& summary);

}  // namespace ds
