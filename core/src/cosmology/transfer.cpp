#include "diffuscope/cosmology/transfer.h"

#include <cmath>

namespace ds {

namespace {

// Spherical Bessel j_0(x) = sin x / x, with its series where the quotient loses digits.
double spherical_bessel_j0(double x) {
  const double x2 = x * x;
  if (x2 < 1e-4) return 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0);
  return std::sin(x) / x;
}

// Shape-parameter suppression of the no-wiggle form, EH98 eq. 31.
double alpha_gamma(double omega_m_h2, double f_baryon) {
  return 1.0 - 0.328 * std::log(431.0 * omega_m_h2) * f_baryon +
         0.38 * std::log(22.3 * omega_m_h2) * f_baryon * f_baryon;
}

// EH98 eqs. 28-30 for k in h/Mpc given the constants of eqs. 26 and 31.
double nowiggle(double k_h_mpc, const Cosmology& c, double sound_horizon_fit, double alpha) {
  const double theta = c.t_cmb / 2.7;
  const double ks = 0.43 * k_h_mpc * c.h * sound_horizon_fit;
  const double gamma_eff = c.omega_m * c.h * (alpha + (1.0 - alpha) / (1.0 + ks * ks * ks * ks));
  const double q = k_h_mpc * theta * theta / gamma_eff;  // eq. 28
  // Zero-baryon form, eq. 29.
  const double l0 = std::log(2.0 * M_E + 1.8 * q);
  const double c0 = 14.2 + 731.0 / (1.0 + 62.5 * q);
  return l0 / (l0 + c0 * q * q);
}

}  // namespace

Eh98Parameters eh98_parameters(const Cosmology& c) {
  c.validate();
  Eh98Parameters p;
  p.h = c.h;
  p.omega_m_h2 = c.omega_m * c.h * c.h;
  p.omega_b_h2 = c.omega_b * c.h * c.h;
  p.f_baryon = c.omega_b / c.omega_m;
  p.f_cdm = 1.0 - p.f_baryon;
  p.theta_cmb = c.t_cmb / 2.7;
  const double wm = p.omega_m_h2, wb = p.omega_b_h2, fb = p.f_baryon;
  const double theta2 = p.theta_cmb * p.theta_cmb, theta4 = theta2 * theta2;

  p.z_equality = 2.50e4 * wm / theta4;   // eq. 2
  p.k_equality = 7.46e-2 * wm / theta2;  // eq. 3
  const double b1 = 0.313 * std::pow(wm, -0.419) * (1.0 + 0.607 * std::pow(wm, 0.674));
  const double b2 = 0.238 * std::pow(wm, 0.223);
  p.z_drag = 1291.0 * std::pow(wm, 0.251) / (1.0 + 0.659 * std::pow(wm, 0.828)) *
             (1.0 + b1 * std::pow(wb, b2));          // eq. 4
  p.r_drag = 31.5 * wb / theta4 / (p.z_drag / 1e3);  // eq. 5
  p.r_equality = 31.5 * wb / theta4 / (p.z_equality / 1e3);
  p.beta_node = 8.41 * std::pow(wm, 0.435);  // eq. 23

  // Eq. 11-12: CDM suppression and log shift.
  const double a1 = std::pow(46.9 * wm, 0.670) * (1.0 + std::pow(32.1 * wm, -0.532));
  const double a2 = std::pow(12.0 * wm, 0.424) * (1.0 + std::pow(45.0 * wm, -0.582));
  p.alpha_c = std::pow(a1, -fb) * std::pow(a2, -fb * fb * fb);
  const double bc1 = 0.944 / (1.0 + std::pow(458.0 * wm, -0.708));
  const double bc2 = std::pow(0.395 * wm, -0.0266);
  p.beta_c = 1.0 / (1.0 + bc1 * (std::pow(p.f_cdm, bc2) - 1.0));

  if (wb <= 0.0) {
    // No baryons: eq. 6 is 0/0 and the baryon piece carries zero weight. T = T~_0(k, 1, 1).
    return p;
  }
  // Eq. 6: sound horizon at the drag epoch.
  const double rd = p.r_drag, req = p.r_equality;
  p.sound_horizon = 2.0 / (3.0 * p.k_equality) * std::sqrt(6.0 / req) *
                    std::log((std::sqrt(1.0 + rd) + std::sqrt(rd + req)) / (1.0 + std::sqrt(req)));
  p.k_silk =
      1.6 * std::pow(wb, 0.52) * std::pow(wm, 0.73) * (1.0 + std::pow(10.4 * wm, -0.95));  // eq. 7

  // Eqs. 14-15: baryon suppression.
  const double y = (1.0 + p.z_equality) / (1.0 + p.z_drag);
  const double sy = std::sqrt(1.0 + y);
  const double g = y * (-6.0 * sy + (2.0 + 3.0 * y) * std::log((sy + 1.0) / (sy - 1.0)));
  p.alpha_b = 2.07 * p.k_equality * p.sound_horizon * std::pow(1.0 + rd, -0.75) * g;
  p.beta_b = 0.5 + fb + (3.0 - 2.0 * fb) * std::sqrt(17.2 * wm * 17.2 * wm + 1.0);  // eq. 24
  return p;
}

double eh98_sound_horizon_fit(const Cosmology& c) {
  const double wm = c.omega_m * c.h * c.h, wb = c.omega_b * c.h * c.h;
  return 44.5 * std::log(9.83 / wm) / std::sqrt(1.0 + 10.0 * std::pow(wb, 0.75));
}

double eh98_pressureless_transfer(double q, double alpha_c, double beta_c) {
  const double c = 14.2 / alpha_c + 386.0 / (1.0 + 69.9 * std::pow(q, 1.08));  // eq. 20
  const double l = std::log(M_E + 1.8 * beta_c * q);
  return l / (l + c * q * q);  // eq. 19
}

Eh98Transfer eh98_transfer(double k_h_mpc, const Eh98Parameters& p) {
  Eh98Transfer t;
  if (!(k_h_mpc > 0.0)) return t;
  const double k = k_h_mpc * p.h;               // Mpc^-1
  const double q = k / (13.41 * p.k_equality);  // eq. 10
  if (p.omega_b_h2 <= 0.0) {
    t.cdm = t.total = eh98_pressureless_transfer(q, 1.0, 1.0);
    t.baryon = 0.0;
    return t;
  }
  const double ks = k * p.sound_horizon;
  // CDM, eqs. 17-18: interpolates from the unsuppressed to the alpha_c-suppressed form around
  // the sound horizon.
  const double x = ks / 5.4;
  const double f = 1.0 / (1.0 + x * x * x * x);
  t.cdm = f * eh98_pressureless_transfer(q, 1.0, p.beta_c) +
          (1.0 - f) * eh98_pressureless_transfer(q, p.alpha_c, p.beta_c);
  // Baryons, eqs. 21-22: acoustic oscillations at the node-shifted scale s~ with Silk damping.
  const double node = p.beta_node / ks;
  const double s_tilde = p.sound_horizon / std::cbrt(1.0 + node * node * node);
  const double envelope = p.beta_b / ks;
  const double y = ks / 5.2;
  t.baryon = (eh98_pressureless_transfer(q, 1.0, 1.0) / (1.0 + y * y) +
              p.alpha_b / (1.0 + envelope * envelope * envelope) *
                  std::exp(-std::pow(k / p.k_silk, 1.4))) *
             spherical_bessel_j0(k * s_tilde);
  t.total = p.f_baryon * t.baryon + p.f_cdm * t.cdm;  // eq. 16
  return t;
}

double eisenstein_hu_transfer(double k_h_mpc, const Cosmology& cosmology) {
  return eh98_transfer(k_h_mpc, eh98_parameters(cosmology)).total;
}

double eisenstein_hu_nowiggle_transfer(double k_h_mpc, const Cosmology& c) {
  return nowiggle(k_h_mpc, c, eh98_sound_horizon_fit(c),
                  alpha_gamma(c.omega_m * c.h * c.h, c.omega_b / c.omega_m));
}

TransferFunctionModel::TransferFunctionModel(const Cosmology& cosmology, TransferFunction kind)
    : kind_(kind), cosmology_(cosmology), eh98_(eh98_parameters(cosmology)) {
  kTransferFunctions.entry(kind);  // rejects an unregistered value
  sound_horizon_fit_ = eh98_sound_horizon_fit(cosmology);
  alpha_gamma_ = alpha_gamma(eh98_.omega_m_h2, eh98_.f_baryon);
}

double TransferFunctionModel::operator()(double k_h_mpc) const {
  switch (kind_) {
    case TransferFunction::Eh98NoWiggle:
      return nowiggle(k_h_mpc, cosmology_, sound_horizon_fit_, alpha_gamma_);
    case TransferFunction::Eh98:
      break;
  }
  return eh98_transfer(k_h_mpc, eh98_).total;
}

}  // namespace ds
