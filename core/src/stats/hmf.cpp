#include "diffuscope/stats/hmf.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/stats/binning.h"
#include "stats/stats_util.h"

namespace ds {

CumulativeMassFunction cumulative_mass_function(const std::vector<double>& log10_mass,
                                                const std::vector<double>& edges, double volume) {
  require_increasing_edges(edges, "hmf");
  if (!(volume > 0.0) || !std::isfinite(volume))
    throw InvalidArgument("hmf: the volume must be positive and finite (got " +
                          detail::format_number(volume) + ")");
  if (log10_mass.empty()) throw InvalidArgument("hmf: the halo catalogue is empty");
  std::vector<double> sorted = log10_mass;
  for (std::size_t i = 0; i < sorted.size(); ++i)
    if (!std::isfinite(sorted[i]))
      throw InvalidArgument("hmf: halo " + std::to_string(i) + " has a non-finite log10 mass");
  std::sort(sorted.begin(), sorted.end());
  CumulativeMassFunction out;
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    const auto above = sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), edges[b]);
    out.logm_lo.push_back(edges[b]);
    out.logm_hi.push_back(edges[b + 1]);
    out.n_greater.push_back(double(above) / volume);
  }
  return out;
}

}  // namespace ds
