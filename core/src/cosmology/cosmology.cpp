#include "diffuscope/cosmology/cosmology.h"

#include <cmath>
#include <sstream>

#include "diffuscope/error.h"

namespace ds {

namespace {
void require(bool ok, const char* name, double value, const char* condition) {
  if (ok) return;
  std::ostringstream msg;
  msg << name << " = " << value << " is invalid: must be " << condition;
  throw InvalidArgument(msg.str());
}
}  // namespace

void Cosmology::validate() const {
  require(std::isfinite(omega_m) && omega_m > 0.0 && omega_m <= 1.0, "Omega_m", omega_m,
          "finite and in (0, 1]");
  require(std::isfinite(sigma_8) && sigma_8 > 0.0, "sigma_8", sigma_8, "finite and positive");
  require(std::isfinite(omega_b) && omega_b >= 0.0 && omega_b < omega_m, "Omega_b", omega_b,
          "finite, non-negative and below Omega_m");
  require(std::isfinite(h) && h > 0.0 && h < 2.0, "h", h, "in (0, 2)");
  require(std::isfinite(n_s) && n_s > 0.0 && n_s < 2.0, "n_s", n_s, "in (0, 2)");
  require(std::isfinite(t_cmb) && t_cmb > 0.0, "T_CMB", t_cmb, "positive");
}

void Prior::require_inside(double om, double s8) const {
  auto check = [](const char* name, double v, const Interval& range) {
    if (std::isfinite(v) && range.contains(v)) return;
    std::ostringstream msg;
    msg << name << " = " << v << " is outside the prior [" << range.lo << ", " << range.hi << "]";
    throw InvalidArgument(msg.str());
  };
  check("Omega_m", om, omega_m);
  check("sigma_8", s8, sigma_8);
}

}  // namespace ds
