// Cumulative halo mass function n(>M) of a catalogue in a periodic box.
#pragma once

#include <vector>

namespace ds {

struct CumulativeMassFunction {
  std::vector<double> logm_lo, logm_hi;  // log10(M / (Msun/h)) bin edges
  std::vector<double> n_greater;         // (Mpc/h)^-3: halos with log10 M >= logm_lo, / volume
};

// log10_mass: log10(M / (Msun/h)) per halo (column 6 of our point sets); edges strictly
// increasing; volume in (Mpc/h)^3 (L^3 for a box). Each bin reports the cumulative density at
// its lower edge, so n_greater decreases along the bins. Throws InvalidArgument for an empty
// catalogue, NaN/Inf masses, bad edges or a non-positive volume.
CumulativeMassFunction cumulative_mass_function(const std::vector<double>& log10_mass,
                                                const std::vector<double>& edges, double volume);

}  // namespace ds
