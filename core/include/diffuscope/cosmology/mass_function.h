// Halo mass function and linear halo bias at z = 0 (for the halo mocks).
//
//   dn/dlnM = f(sigma) (rho_m / M) |dln sigma / dln M|,   sigma = sigma(R(M)),
//   R(M) = (3 M / (4 pi rho_m))^(1/3),   rho_m = rho_crit Omega_m,
//
// with sigma(R) the top-hat RMS of the linear power spectrum of ds::LinearPowerSpectrum.
// Models of the multiplicity f(sigma):
//   - Tinker et al. (2008, ApJ 688, 709), eq. 3 with Table 2 for Delta = 200 times the mean
//     density at z = 0: f = A [(sigma/b)^-a + 1] exp(-c/sigma^2), A = 0.186, a = 1.47, b = 2.57,
//     c = 1.19. The default. Calibrated for 0.25 < 1/sigma < 2.5; not normalised to unity (it
//     tends to A at low mass), so do not integrate it far below 1e10 Msun/h.
//   - Sheth & Tormen (1999, MNRAS 308, 119), eqs. 6 and 10: nu = delta_c/sigma,
//     f = A sqrt(2a/pi) [1 + (a nu^2)^-p] nu exp(-a nu^2/2), A = 0.3222, a = 0.707, p = 0.3,
//     normalised so that all mass is in halos.
// Biases: Tinker et al. (2010, ApJ 724, 878) eq. 6 with Table 2 for Delta = 200 with the Tinker
// 2008 function; the peak-background split bias of Sheth & Tormen (1999, eq. 12) with theirs.
// Units: masses in Msun/h, lengths in Mpc/h, number densities in (h/Mpc)^3.
#pragma once

#include <vector>

#include "diffuscope/cosmology/linear_power.h"

namespace ds {

// Critical density today: 2.77536627e11 h^2 Msun/Mpc^3 = (Msun/h)/(Mpc/h)^3.
inline constexpr double kCriticalDensity = 2.77536627e11;
// Linear collapse threshold delta_c of the spherical model (EdS value, as Sheth-Tormen and
// Tinker 2010 use).
inline constexpr double kCollapseThreshold = 1.686;

// Mean matter density rho_m = rho_crit Omega_m in (Msun/h)/(Mpc/h)^3.
double mean_matter_density(const Cosmology& cosmology);
// Lagrangian radius R(M) = (3 M / (4 pi rho_m))^(1/3) in Mpc/h of a mass M in Msun/h.
double lagrangian_radius(double mass, const Cosmology& cosmology);

enum class MassFunctionModel { Tinker08, ShethTormen };

// Multiplicity functions f(sigma) (dimensionless) and the matching linear biases b(sigma).
double tinker08_multiplicity(double sigma);
double sheth_tormen_multiplicity(double sigma);
double tinker10_bias(double sigma);
double sheth_tormen_bias(double sigma);

class HaloMassFunction {
 public:
  // Tabulates sigma(M), dn/dlnM and n(>M) on [1e10, 10^16.5] Msun/h every 0.02 dex (about 60 ms).
  explicit HaloMassFunction(const LinearPowerSpectrum& linear,
                            MassFunctionModel model = MassFunctionModel::Tinker08);

  MassFunctionModel model() const { return model_; }
  const Cosmology& cosmology() const { return cosmology_; }
  double mass_min() const;  // Msun/h, ends of the table
  double mass_max() const;

  double sigma(double mass) const;            // top-hat RMS at R(M)
  double dlnsigma_dlnm(double mass) const;    // negative
  double dn_dlnm(double mass) const;          // (h/Mpc)^3
  double number_above(double mass) const;     // n(>M) in (h/Mpc)^3, M inside the table
  double bias(double mass) const;             // linear bias b(M) of the model's bias function
  double mean_bias_above(double mass) const;  // number-weighted mean bias of halos above M

  // The mass M with n(>M) = density ((h/Mpc)^3); throws InvalidArgument when the density is
  // outside the table's range.
  double mass_above_density(double density) const;

 private:
  double interpolate(const std::vector<double>& table, double mass) const;

  Cosmology cosmology_;
  MassFunctionModel model_;
  double ln_m_min_, dln_m_;
  std::vector<double> ln_sigma_, dlnsigma_, ln_dndlnm_, ln_above_, ln_bias_above_;
};

}  // namespace ds
