// Linear growth of matter perturbations in a flat LCDM background: E^2(a) = Omega_m a^-3 +
// 1 - Omega_m (radiation neglected, as in the EH98 spectra and N-body initial conditions). Only
// cosmology.omega_m enters. Growing mode in exact integral form (Heath 1977):
//   D(a) = 5/2 Omega_m E(a) \int_0^a da' / (a' E(a'))^3,
// normalised here so that D(z = 0) = 1; the growth rate f = d ln D / d ln a follows exactly as
//   f(a) = -3/2 Omega_m(a) + 1 / (a^2 E^3(a) \int_0^a da' / (a' E)^3).
#pragma once

#include "diffuscope/cosmology/cosmology.h"

namespace ds {

// D(z) / D(0). Throws InvalidArgument when Omega_m is not in (0, 1] or z is not in (-1, inf).
double growth_factor(const Cosmology& cosmology, double z);

// f(z) = d ln D / d ln a (1 in Einstein-de Sitter; 0.513 at Omega_m = 0.3, z = 0).
double growth_rate(const Cosmology& cosmology, double z = 0.0);

// The growth suppression g(z) = D(a) / a in the normalisation where D = a deep in matter
// domination (g = 1 in Einstein-de Sitter; 0.779 at Omega_m = 0.3, z = 0).
double growth_suppression(const Cosmology& cosmology, double z = 0.0);

// Omega_m(z) = Omega_m (1+z)^3 / E^2(z).
double omega_m_of_z(const Cosmology& cosmology, double z);

// The approximation f ~ Omega_m(z)^0.55 (Linder 2005, Phys. Rev. D 72, 043529); in the prior box
// it agrees with growth_rate to better than 0.5 % (tested).
double growth_rate_approximation(const Cosmology& cosmology, double z = 0.0);

}  // namespace ds
