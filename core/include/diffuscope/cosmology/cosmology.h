// Cosmological parameters and the prior box. Parameter vectors are (Omega_m, sigma_8) first, in
// this order everywhere (DESIGN.md).
#pragma once

#include <array>
#include <string>

namespace ds {

struct Cosmology {
  double omega_m = 0.3;
  double sigma_8 = 0.8;
  // Fixed background, overridable (CAMELS / Quijote values).
  double omega_b = 0.049;
  double h = 0.6711;
  double n_s = 0.9624;
  double t_cmb = 2.7255;  // K

  // Throws InvalidArgument naming the offending value when a parameter is not finite or not
  // physical (Omega_m <= Omega_b, sigma_8 <= 0, h <= 0, ...).
  void validate() const;
};

struct Interval {
  double lo = 0.0;
  double hi = 0.0;
  bool contains(double x) const { return x >= lo && x <= hi; }
  double width() const { return hi - lo; }
};

// Flat prior on a box in (Omega_m, sigma_8).
struct Prior {
  Interval omega_m{0.1, 0.5};
  Interval sigma_8{0.6, 1.0};

  bool contains(double om, double s8) const { return omega_m.contains(om) && sigma_8.contains(s8); }
  // Throws InvalidArgument naming the parameter, its value and the allowed range.
  void require_inside(double om, double s8) const;
};

inline constexpr Prior kDefaultPrior{};

}  // namespace ds
