// `diffuscope-cli diagnose ROOT|FILE [--json]`: az.summary-style convergence table of chains read
// from a GetDist root, an ArviZ netCDF file or a CSV file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "commands/commands.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"

namespace dscli {

namespace {

struct DiagnoseOptions {
  std::string input;
  bool json = false;
};

// Vehtari et al. (2021) recommend R-hat below 1.01 and bulk and tail ESS above 100 per chain
// (400 for four chains); Betancourt (2016) flags E-BFMI below 0.3.
constexpr double kRhatLimit = 1.01;
constexpr double kEssPerChain = 100;
constexpr double kEbfmiLimit = 0.3;

void print_table(const std::string& input, const ds::ChainsSummary& s) {
  std::printf("%s: %zu chains x %zu draws\n", input.c_str(), s.chains, s.draws);
  std::printf("%-12s %11s %11s %11s %11s %11s %9s %9s %7s\n", "parameter", "mean", "sd", "hdi_3%",
              "hdi_97%", "mcse_mean", "ess_bulk", "ess_tail", "r_hat");
  for (const auto& p : s.parameters)
    std::printf("%-12s %11.5g %11.5g %11.5g %11.5g %11.3g %9.0f %9.0f %7.4f\n", p.name.c_str(),
                p.mean, p.sd, p.hdi_low, p.hdi_high, p.mcse_mean, p.ess_bulk, p.ess_tail, p.r_hat);
  if (s.acceptance_rate) {
    std::printf("acceptance rate: %.3f (per chain:", *s.acceptance_rate);
    for (double a : s.acceptance_rate_per_chain) std::printf(" %.3f", a);
    std::printf(")\n");
  }
  if (s.divergences) {
    std::printf("divergences: %zu (per chain:", *s.divergences);
    for (std::size_t d : s.divergences_per_chain) std::printf(" %zu", d);
    std::printf(")\n");
  }
  if (!s.e_bfmi.empty()) {
    std::printf("E-BFMI per chain:");
    for (double e : s.e_bfmi) std::printf(" %.3f", e);
    std::printf("\n");
  }
  // Warnings follow ArviZ / Stan practice; they go with the table, not to stderr, so a script
  // reading --json output is not disturbed.
  for (const auto& p : s.parameters) {
    if (!(p.r_hat <= kRhatLimit))
      std::printf("warning: %s has r_hat %.4f > %.2f: the chains have not mixed\n", p.name.c_str(),
                  p.r_hat, kRhatLimit);
    const double ess_limit = kEssPerChain * double(s.chains);
    if (!(std::min(p.ess_bulk, p.ess_tail) >= ess_limit))
      std::printf("warning: %s has ess_bulk %.0f, ess_tail %.0f < %.0f: run longer chains\n",
                  p.name.c_str(), p.ess_bulk, p.ess_tail, ess_limit);
  }
  if (s.divergences && *s.divergences > 0)
    std::printf("warning: %zu divergent transitions: the posterior may be biased\n",
                *s.divergences);
  for (std::size_t c = 0; c < s.e_bfmi.size(); ++c)
    if (s.e_bfmi[c] < kEbfmiLimit)
      std::printf(
          "warning: chain %zu has E-BFMI %.3f < %.1f: momentum resampling explores the "
          "energy poorly\n",
          c, s.e_bfmi[c], kEbfmiLimit);
}

}  // namespace

Action add_diagnose_command(CLI::App& app, const GlobalOptions& options) {
  auto opts = std::make_shared<DiagnoseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diagnose",
      "convergence diagnostics of MCMC chains (ArviZ definitions): mean, sd, 94% HDI, MCSE, "
      "bulk/tail ESS, rank-normalised split R-hat, acceptance, divergences, E-BFMI");
  cmd->add_option("input", opts->input,
                  "GetDist root (ROOT_1.txt ... or ROOT.txt), ArviZ file (.nc/.h5) or CSV file")
      ->required();
  cmd->add_flag("--json", opts->json, "print a JSON object keyed by parameter name");
  return [cmd, opts, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    const ds::Chains chains = ds::read_chains(opts->input);
    const ds::ChainsSummary summary = ds::summarize(chains);
    if (opts->json)
      std::printf("%s\n", ds::summary_to_json(summary).c_str());
    else
      print_table(opts->input, summary);
    return 0;
  };
}

}  // namespace dscli
