// 2D power spectrum in Pylians `Pk_plane` conventions (DESIGN.md, Conventions): unnormalised real
// FFT, P = |delta_k|^2 (L/N^2)^2, bins of width k_F = 2 pi/L indexed floor(|k|/k_F), independent
// modes only, DC dropped, k of a bin = mean |k| of its modes. floor(sqrt(2) N/2) bins.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/registries.h"

namespace ds {

// A binned power spectrum (2D or 3D; also the result of rebinning, stats/binning.h).
struct PowerSpectrum {
  std::vector<double> k;             // h/Mpc, mean |k| of the modes of each bin
  std::vector<double> pk;            // (Mpc/h)^2 in 2D, (Mpc/h)^3 in 3D
  std::vector<std::int64_t> nmodes;  // independent modes in each bin
  std::size_t size() const { return k.size(); }
};

// delta: n x n row-major density contrast. box_size in Mpc/h. `deconvolve` divides delta_k by
// the mass-assignment window prod_i sinc(pi k_i/N)^p of the scheme that made the field
// (stats/mass_assignment.h); None for fields that were not painted from particles.
PowerSpectrum power_spectrum_2d_of_contrast(const double* delta, int n, double box_size,
                                            MassAssignment deconvolve = MassAssignment::None);

struct PowerSpectrum2dOptions {
  MassAssignment deconvolve = MassAssignment::None;
  // Log: the values are log10 of the density (log10(1 + delta) for a Contrast field), as a model
  // in log space produces them; the spectrum is that of the density 10^x, as in Diffusion-HMC.
  FieldScaling scaling = FieldScaling::Linear;
};

// A Density field is turned into delta = field / mean - 1 first; a Contrast field is used as is.
// Throws InvalidArgument for a wrong value count, NaN/Inf, or a non-positive mean density.
PowerSpectrum power_spectrum_2d(const Field2D& field, const PowerSpectrum2dOptions& options = {});

// Keeps the bins with k <= k_Nyquist = pi N / L (for display).
PowerSpectrum cut_at_nyquist(const PowerSpectrum& spectrum, int n, double box_size);

}  // namespace ds
