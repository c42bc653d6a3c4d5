// The az.summary-style table of a set of chains, ArviZ's HDI, E-BFMI, and the JSON of `diagnose`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "diffuscope/error.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"

namespace ds {

std::pair<double, double> hdi(const std::vector<double>& draws, double prob) {
  if (draws.empty()) throw InvalidArgument("hdi: no draws");
  if (!(prob > 0.0 && prob < 1.0))
    throw InvalidArgument("hdi: probability " + std::to_string(prob) + " is not in (0, 1)");
  std::vector<double> sorted = draws;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  // floor(prob * n) in double, exactly as ArviZ's _hdi, so the interval picks the same draws.
  const auto width_index = std::size_t(std::floor(prob * double(n)));
  const std::size_t intervals = n - width_index;
  std::size_t best = 0;
  for (std::size_t i = 1; i < intervals; ++i)  // first minimum wins, as numpy.argmin
    if (sorted[i + width_index] - sorted[i] < sorted[best + width_index] - sorted[best]) best = i;
  return {sorted[best], sorted[std::min(best + width_index, n - 1)]};
}

std::vector<double> e_bfmi(const ChainDraws& energy) {
  std::vector<double> out(energy.chains, std::numeric_limits<double>::quiet_NaN());
  const std::size_t n = energy.draws;
  if (n < 2 || energy.values.size() != energy.chains * n) return out;
  for (std::size_t c = 0; c < energy.chains; ++c) {
    const double* e = &energy.values[c * n];
    double mean = 0;
    for (std::size_t t = 0; t < n; ++t) mean += e[t];
    mean /= double(n);
    double jumps = 0, spread = 0;
    for (std::size_t t = 0; t < n; ++t) {
      spread += (e[t] - mean) * (e[t] - mean);
      if (t > 0) jumps += (e[t] - e[t - 1]) * (e[t] - e[t - 1]);
    }
    // ArviZ: mean of n-1 squared jumps over the ddof=1 variance; both carry 1/(n-1).
    out[c] = jumps / spread;
  }
  return out;
}

ChainsSummary summarize(const Chains& chains) {
  if (chains.parameters() == 0 || chains.chains == 0 || chains.draws == 0)
    throw InvalidArgument("diagnostics: the chains hold no draws");
  ChainsSummary s;
  s.chains = chains.chains;
  s.draws = chains.draws;
  const std::size_t total = chains.chains * chains.draws;
  for (std::size_t p = 0; p < chains.parameters(); ++p) {
    const ChainDraws x = parameter_draws(chains, p);
    ParameterSummary row;
    row.name = chains.names[p];
    double sum = 0;
    for (double v : x.values) sum += v;
    row.mean = sum / double(total);
    double squares = 0;
    for (double v : x.values) squares += (v - row.mean) * (v - row.mean);
    row.sd = total > 1 ? std::sqrt(squares / double(total - 1))
                       : std::numeric_limits<double>::quiet_NaN();
    std::tie(row.hdi_low, row.hdi_high) = hdi(x.values);
    row.mcse_mean = mcse_mean(x);
    row.ess_bulk = ess_bulk(x);
    row.ess_tail = ess_tail(x);
    row.r_hat = rhat(x);
    s.parameters.push_back(row);
  }
  auto per_chain = [&](auto value_at) {
    std::vector<double> out(chains.chains, 0.0);
    for (std::size_t c = 0; c < chains.chains; ++c)
      for (std::size_t d = 0; d < chains.draws; ++d) out[c] += value_at(c * chains.draws + d);
    return out;
  };
  if (chains.acceptance_rate.size() == total) {
    const auto sums = per_chain([&](std::size_t i) { return chains.acceptance_rate[i]; });
    double all = 0;
    for (double v : sums) {
      s.acceptance_rate_per_chain.push_back(v / double(chains.draws));
      all += v;
    }
    s.acceptance_rate = all / double(total);
  }
  if (chains.diverging.size() == total) {
    const auto sums = per_chain([&](std::size_t i) { return chains.diverging[i] ? 1.0 : 0.0; });
    std::size_t all = 0;
    for (double v : sums) {
      s.divergences_per_chain.push_back(std::size_t(v));
      all += std::size_t(v);
    }
    s.divergences = all;
  }
  if (chains.energy.size() == total)
    s.e_bfmi = e_bfmi(ChainDraws{chains.energy, chains.chains, chains.draws});
  return s;
}

std::string summary_to_json(const ChainsSummary& summary) {
  // ordered_json keeps the parameters in chain order (Omega_m, sigma_8 first); NaN dumps as null.
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& p : summary.parameters) {
    out[p.name] = {{"mean", p.mean},           {"sd", p.sd},
                   {"hdi_3%", p.hdi_low},      {"hdi_97%", p.hdi_high},
                   {"mcse_mean", p.mcse_mean}, {"ess_bulk", p.ess_bulk},
                   {"ess_tail", p.ess_tail},   {"r_hat", p.r_hat}};
  }
  nlohmann::ordered_json sampler = {{"chains", summary.chains}, {"draws", summary.draws}};
  if (summary.acceptance_rate) {
    sampler["acceptance_rate"] = *summary.acceptance_rate;
    sampler["acceptance_rate_per_chain"] = summary.acceptance_rate_per_chain;
  }
  if (summary.divergences) {
    sampler["divergences"] = *summary.divergences;
    sampler["divergences_per_chain"] = summary.divergences_per_chain;
  }
  if (!summary.e_bfmi.empty()) sampler["e_bfmi"] = summary.e_bfmi;
  out["_sampler"] = sampler;
  return out.dump(2);
}

}  // namespace ds
