// diffuscope-cli cosmology pk | sigma8 | growth: the linear power spectrum, its sigma_8
// normalisation and the linear growth rate (core/include/diffuscope/cosmology/).
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/cosmology/growth.h"
#include "diffuscope/cosmology/linear_power.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"

namespace dscli {

namespace {

struct CosmologyOptions {
  ds::Cosmology cosmology;
  std::string transfer = "eh98";
  std::string k_range = "1e-3,10,200";
  std::string out;
  double z = 0.0;
};

// The parameters every subcommand shares: (Omega_m, sigma_8) and the overridable background.
void add_parameters(CLI::App* cmd, CosmologyOptions& o, bool with_sigma_8) {
  cmd->add_option("--omega-m", o.cosmology.omega_m,
                  "Omega_m, in the prior [0.1, 0.5] (default 0.3)");
  if (with_sigma_8)
    cmd->add_option("--sigma-8", o.cosmology.sigma_8,
                    "sigma_8, in the prior [0.6, 1.0] (default 0.8)");
  cmd->add_option("--omega-b", o.cosmology.omega_b, "Omega_b (default 0.049)");
  cmd->add_option("--h", o.cosmology.h, "H0 / (100 km/s/Mpc) (default 0.6711)");
  cmd->add_option("--n-s", o.cosmology.n_s, "primordial spectral index (default 0.9624)");
  cmd->add_option("--t-cmb", o.cosmology.t_cmb, "CMB temperature in K (default 2.7255)");
}

void add_transfer(CLI::App* cmd, CosmologyOptions& o) {
  cmd->add_option("--transfer", o.transfer,
                  "transfer function: " + ds::kTransferFunctions.joined_names(" | ") +
                      " (default eh98, with baryon wiggles)")
      ->check(CLI::IsMember(ds::kTransferFunctions.names()));
}

// "KMIN,KMAX,N": N log-spaced wavenumbers from KMIN to KMAX (h/Mpc).
std::vector<double> parse_k_range(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  auto bad = [&](const std::string& why) {
    throw ds::InvalidArgument("--k '" + text + "': " + why + " (expected KMIN,KMAX,N in h/Mpc)");
  };
  if (parts.size() != 3) bad("needs three comma-separated values");
  double k_min = 0, k_max = 0;
  long count = 0;
  try {
    std::size_t used = 0;
    k_min = std::stod(parts[0], &used);
    if (used != parts[0].size()) bad("KMIN is not a number");
    k_max = std::stod(parts[1], &used);
    if (used != parts[1].size()) bad("KMAX is not a number");
    count = std::stol(parts[2], &used);
    if (used != parts[2].size()) bad("N is not an integer");
  } catch (const std::logic_error&) {
    bad("not numbers");
  }
  if (!(k_min > 0.0) || !std::isfinite(k_max) || !(k_max > k_min)) bad("need 0 < KMIN < KMAX");
  if (count < 2 || count > 1000000) bad("N must be in [2, 1000000]");
  std::vector<double> k(count);
  const double step = std::log(k_max / k_min) / double(count - 1);
  for (long i = 0; i < count; ++i) k[i] = k_min * std::exp(double(i) * step);
  k.back() = k_max;
  return k;
}

}  // namespace

Action add_cosmology_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<CosmologyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "cosmology",
      "linear power spectrum (Eisenstein & Hu 1998), sigma_8 and growth rate at z = 0");
  cmd->require_subcommand(1);
  CLI::App* pk = cmd->add_subcommand(
      "pk",
      "write the sigma_8-normalised linear P(k) at z = 0 as CSV (columns k,pk; h/Mpc, (Mpc/h)^3)");
  add_parameters(pk, *o, true);
  add_transfer(pk, *o);
  pk->add_option("--k", o->k_range,
                 "KMIN,KMAX,N: N log-spaced wavenumbers in h/Mpc (default 1e-3,10,200)");
  pk->add_option("--out", o->out, "CSV file to write")->required();
  CLI::App* sigma8 = cmd->add_subcommand(
      "sigma8",
      "print sigma_8 recovered by integrating the normalised spectrum (a finer quadrature)");
  add_parameters(sigma8, *o, true);
  add_transfer(sigma8, *o);
  CLI::App* growth = cmd->add_subcommand(
      "growth",
      "print the linear growth rate f = d ln D / d ln a (flat LCDM, exact integral form)");
  add_parameters(growth, *o, false);
  growth->add_option("--z", o->z, "redshift (default 0)");

  return [cmd, pk, sigma8, growth, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    ds::kDefaultPrior.require_inside(o->cosmology.omega_m, o->cosmology.sigma_8);
    o->cosmology.validate();
    if (growth->parsed()) {
      std::printf("%.10f\n", ds::growth_rate(o->cosmology, o->z));
      return 0;
    }
    const ds::LinearPowerSpectrum power(o->cosmology,
                                        ds::kTransferFunctions.from_string(o->transfer));
    if (sigma8->parsed()) {
      // Four times the panels of the normalisation: an independent check of the integral.
      std::printf("%.10f\n", power.sigma_r(8.0, 4));
      return 0;
    }
    if (pk->parsed()) {
      const std::vector<double> k = parse_k_range(o->k_range);
      ds::write_file_atomically(o->out, [&](std::ostream& out) {
        out << "k,pk\n" << std::setprecision(17);
        for (double kk : k) out << kk << ',' << power(kk) << '\n';
      });
      return 0;
    }
    return 0;
  };
}

}  // namespace dscli
