// Posterior draws of several chains with their per-draw sampler statistics: what samplers
// return, what diagnostics read, what the chain files (GetDist text, ArviZ HDF5, CSV) hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ds {

struct Chains {
  std::vector<std::string> names;                 // parameter names, Omega_m and sigma_8 first
  std::vector<std::string> labels;                // LaTeX labels (GetDist .paramnames), same order
  std::vector<std::pair<double, double>> ranges;  // prior box per parameter (GetDist .ranges)
  std::size_t chains = 0;
  std::size_t draws = 0;

  // [chain, draw, param], C order.
  std::vector<double> values;

  // Sample statistics, [chain, draw] each (empty when a sampler does not produce one); names as
  // in ArviZ's sample_stats group.
  std::vector<double> lp;  // log posterior density at the draw
  std::vector<double>
      acceptance_rate;  // Metropolis acceptance probability (mean over the tree for NUTS)
  std::vector<double> step_size;
  std::vector<double> energy;            // Hamiltonian at the draw
  std::vector<double> energy_error;      // H(end) - H(start) of the transition
  std::vector<std::int32_t> n_steps;     // leapfrog steps taken
  std::vector<std::int32_t> tree_depth;  // NUTS only
  std::vector<std::uint8_t>
      diverging;  // 1 when the transition diverged (non-finite or huge energy error)

  std::string sampler;  // "hmc", "nuts", "svi", ...
  std::uint64_t seed = 0;
  std::string settings_json;  // the sampler configuration, for provenance

  std::size_t parameters() const { return names.size(); }
  double value(std::size_t chain, std::size_t draw, std::size_t p) const {
    return values[(chain * draws + draw) * names.size() + p];
  }
  // All draws of one parameter of one chain.
  std::vector<double> trace(std::size_t chain, std::size_t p) const {
    std::vector<double> out(draws);
    for (std::size_t d = 0; d < draws; ++d) out[d] = value(chain, d, p);
    return out;
  }
};

}  // namespace ds
