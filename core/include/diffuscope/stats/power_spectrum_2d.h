// 2D power spectrum in Pylians `Pk_plane` conventions (DESIGN.md, Conventions): unnormalised real
// FFT, P = |delta_k|^2 (L/N^2)^2, bins of width k_F = 2 pi/L indexed floor(|k|/k_F), independent
// modes only, DC dropped, k of a bin = mean |k| of its modes. floor(sqrt(2) N/2) bins.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"

namespace ds {

struct PowerSpectrum {
  std::vector<double> k;             // h/Mpc, mean |k| of the modes of each bin
  std::vector<double> pk;            // (Mpc/h)^2 in 2D
  std::vector<std::int64_t> nmodes;  // independent modes in each bin
  std::size_t size() const { return k.size(); }
};

// delta: n x n row-major density contrast. box_size in Mpc/h.
PowerSpectrum power_spectrum_2d_of_contrast(const double* delta, int n, double box_size);

// A Density field is turned into delta = field / mean - 1 first; a Contrast field is used as is.
PowerSpectrum power_spectrum_2d(const Field2D& field);

// Keeps the bins with k <= k_Nyquist = pi N / L (for display).
PowerSpectrum cut_at_nyquist(const PowerSpectrum& spectrum, int n, double box_size);

}  // namespace ds
