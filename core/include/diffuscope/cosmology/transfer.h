// Matter transfer functions of Eisenstein & Hu (1998, ApJ 496, 605; "EH98"). Equation numbers
// below are those of the paper. Wavenumbers at this interface are in h/Mpc; the fitting formulas
// work in Mpc^-1 (k_Mpc = h k), so every length in Eh98Parameters is in Mpc, not Mpc/h.
#pragma once

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/registries.h"

namespace ds {

// The scalar quantities of the EH98 fit for one cosmology, as printed in the paper (Sec. 2-3).
// The redshifts follow the paper literally: eq. 2 gives z_eq, eq. 5 takes R(z) proportional to
// (z / 10^3)^-1, and y = (1 + z_eq) / (1 + z_d) in eq. 15.
struct Eh98Parameters {
  double h = 0.0;
  double omega_m_h2 = 0.0;  // Omega_0 h^2 (CDM + baryons)
  double omega_b_h2 = 0.0;
  double f_baryon = 0.0;       // Omega_b / Omega_0
  double f_cdm = 0.0;          // Omega_c / Omega_0
  double theta_cmb = 0.0;      // T_CMB / 2.7 K
  double z_equality = 0.0;     // eq. 2
  double k_equality = 0.0;     // Mpc^-1, eq. 3
  double z_drag = 0.0;         // eq. 4
  double r_drag = 0.0;         // baryon-to-photon momentum ratio R at z_drag, eq. 5
  double r_equality = 0.0;     // R at z_eq
  double sound_horizon = 0.0;  // s, Mpc, eq. 6
  double k_silk = 0.0;         // Mpc^-1, eq. 7
  double alpha_c = 1.0;        // CDM suppression, eq. 11
  double beta_c = 1.0;         // CDM log shift, eq. 12
  double alpha_b = 0.0;        // baryon suppression, eqs. 14-15
  double beta_b = 0.0;         // baryon envelope shift, eq. 24
  double beta_node = 0.0;      // node shift of the oscillations in units of k s, eq. 23
};

// Validates the cosmology (Cosmology::validate) and evaluates eqs. 2-15, 23-24.
Eh98Parameters eh98_parameters(const Cosmology& cosmology);

// The approximate sound horizon of EH98 eq. 26, in Mpc (used by the no-wiggle form).
double eh98_sound_horizon_fit(const Cosmology& cosmology);

// The two pieces of eq. 16, T = f_b T_b + f_c T_c: T_b of eq. 21 (with the j_0 oscillation at
// the shifted scale s~ of eq. 22) and T_c of eq. 17.
struct Eh98Transfer {
  double total = 1.0;
  double baryon = 1.0;
  double cdm = 1.0;
};
Eh98Transfer eh98_transfer(double k_h_mpc, const Eh98Parameters& parameters);

// The EH98 pressureless transfer function T~_0(k, alpha_c, beta_c) of eqs. 19-20, q = k / (13.41
// k_eq) (eq. 10); exposed for the tests of the baryon-suppression relations.
double eh98_pressureless_transfer(double q, double alpha_c, double beta_c);

// Full form with baryon acoustic oscillations (eqs. 16-24). Recomputes the parameters on every
// call: for many k, use eh98_parameters once or TransferFunctionModel.
double eisenstein_hu_transfer(double k_h_mpc, const Cosmology& cosmology);

// No-wiggle form (eqs. 26-31): the zero-baryon shape with the baryon suppression of the shape
// parameter, without oscillations.
double eisenstein_hu_nowiggle_transfer(double k_h_mpc, const Cosmology& cosmology);

// A transfer function chosen from kTransferFunctions, with its per-cosmology constants computed
// once so that evaluating it at many k is cheap.
class TransferFunctionModel {
 public:
  TransferFunctionModel(const Cosmology& cosmology, TransferFunction kind);
  // T(k), dimensionless, -> 1 for k -> 0; k in h/Mpc.
  double operator()(double k_h_mpc) const;
  TransferFunction kind() const { return kind_; }
  const Eh98Parameters& parameters() const { return eh98_; }

 private:
  TransferFunction kind_;
  Cosmology cosmology_;
  Eh98Parameters eh98_;
  // No-wiggle constants (eqs. 26, 28, 31).
  double sound_horizon_fit_ = 0.0, alpha_gamma_ = 1.0;
};

}  // namespace ds
