#include "diffuscope/cosmology/growth.h"

#include <array>
#include <cmath>
#include <sstream>

#include "diffuscope/error.h"
#include "numerics/quadrature.h"

namespace ds {

namespace {

void require_background(double omega_m, double z) {
  std::ostringstream msg;
  if (!(std::isfinite(omega_m) && omega_m > 0.0 && omega_m <= 1.0))
    msg << "growth: Omega_m = " << omega_m << " is invalid: must be in (0, 1]";
  else if (!(std::isfinite(z) && z > -1.0))
    msg << "growth: redshift z = " << z << " is invalid: must be finite and above -1";
  else
    return;
  throw InvalidArgument(msg.str());
}

double e_squared(double omega_m, double a) {
  return omega_m / (a * a * a) + 1.0 - omega_m;
}

// I(a) = \int_0^a da' / (a' E(a'))^3. Below a0 = 1e-4 a matter dominates and the integrand is
// a'^{3/2} Omega_m^{-3/2} (1 - 3/2 (Omega_L / Omega_m) a'^3 + ...), integrated analytically; above
// it Gauss-Legendre panels in ln a' (the integrand is smooth there) give machine precision.
double growth_integral(double omega_m, double a) {
  const double omega_l = 1.0 - omega_m;
  const double a0 = 1e-4 * a;
  double sum = std::pow(a0, 2.5) / (2.5 * std::pow(omega_m, 1.5)) *
               (1.0 - 1.5 * omega_l / omega_m * std::pow(a0, 3) * 2.5 / 5.5);
  const double ln_lo = std::log(a0), ln_hi = std::log(a);
  // da'/(a' E)^3 = dln a' / (a'^2 E^3)
  return sum + detail::gauss_legendre_panels(ln_lo, ln_hi, 40, [&](double ln_x) {
           const double x = std::exp(ln_x);
           return 1.0 / (x * x * std::pow(e_squared(omega_m, x), 1.5));
         });
}

// D(a) normalised to a in matter domination.
double growing_mode(double omega_m, double a) {
  return 2.5 * omega_m * std::sqrt(e_squared(omega_m, a)) * growth_integral(omega_m, a);
}

}  // namespace

double omega_m_of_z(const Cosmology& c, double z) {
  require_background(c.omega_m, z);
  const double a = 1.0 / (1.0 + z);
  return c.omega_m / (a * a * a * e_squared(c.omega_m, a));
}

double growth_factor(const Cosmology& c, double z) {
  require_background(c.omega_m, z);
  return growing_mode(c.omega_m, 1.0 / (1.0 + z)) / growing_mode(c.omega_m, 1.0);
}

double growth_suppression(const Cosmology& c, double z) {
  require_background(c.omega_m, z);
  const double a = 1.0 / (1.0 + z);
  return growing_mode(c.omega_m, a) / a;
}

double growth_rate(const Cosmology& c, double z) {
  require_background(c.omega_m, z);
  const double a = 1.0 / (1.0 + z);
  const double e2 = e_squared(c.omega_m, a);
  const double dln_e_dln_a = -1.5 * c.omega_m / (a * a * a * e2);
  return dln_e_dln_a + 1.0 / (a * a * std::pow(e2, 1.5) * growth_integral(c.omega_m, a));
}

double growth_rate_approximation(const Cosmology& c, double z) {
  return std::pow(omega_m_of_z(c, z), 0.55);
}

}  // namespace ds
