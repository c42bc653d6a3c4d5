// Pieces shared by the 2D and 3D power spectra (power_spectrum_2d.cpp, power_spectrum_3d.cpp):
// the mass-assignment window to divide out, and the integer-|k| bins the modes are averaged in.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/stats/mass_assignment.h"
#include "diffuscope/stats/power_spectrum_2d.h"

namespace ds::detail {

// 1 / W(m)^2 per signed mode index m of an n-grid, offset by n / 2: P(k) is divided by the
// product over the axes.
inline std::vector<double> inverse_window_squared(int n, MassAssignment deconvolve) {
  const int middle = n / 2;
  std::vector<double> out(std::size_t(n) + 1, 1.0);
  for (int m = -middle; m <= middle; ++m) {
    const double w = mass_assignment_window(m, n, deconvolve);
    out[std::size_t(m + middle)] = 1.0 / (w * w);
  }
  return out;
}

// Modes binned by int(|k|) in grid units (bin 0, the DC mode, dropped by finish()).
struct SpectrumBins {
  explicit SpectrumBins(int bins)
      : k_sum(std::size_t(bins), 0.0), p_sum(k_sum), count(k_sum.size()) {}
  void add(double k, double power) {
    const auto bin = std::size_t(k);
    k_sum[bin] += k;
    p_sum[bin] += power;
    ++count[bin];
  }
  // The mean |k| (times k_fundamental, h/Mpc) and the mean power (times norm) of every non-empty
  // bin from 1 on, with its mode count.
  PowerSpectrum finish(double k_fundamental, double norm) const {
    PowerSpectrum out;
    for (std::size_t b = 1; b < count.size(); ++b) {
      if (count[b] == 0) continue;
      out.k.push_back(k_fundamental * k_sum[b] / double(count[b]));
      out.pk.push_back(norm * p_sum[b] / double(count[b]));
      out.nmodes.push_back(count[b]);
    }
    return out;
  }

  std::vector<double> k_sum, p_sum;
  std::vector<std::int64_t> count;
};

}  // namespace ds::detail
