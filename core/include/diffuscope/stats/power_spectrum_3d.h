// 3D power spectrum monopole in Pylians `Pk` conventions: the 3D sibling of power_spectrum_2d.
// Unnormalised real FFT, P = |delta_k|^2 (L/N^2)^3, bins of width k_F = 2 pi/L indexed
// floor(|k|/k_F), independent modes of the half space only, DC dropped, k of a bin = mean |k| of
// its modes: floor(sqrt(3) N/2) bins.
#pragma once

#include "diffuscope/data/field.h"
#include "diffuscope/stats/periodic_box.h"
#include "diffuscope/stats/power_spectrum_2d.h"

namespace ds {

// delta: n^3 density contrast in C order. box_size in Mpc/h; pk in (Mpc/h)^3. `deconvolve`
// divides delta_k by prod_i sinc(pi k_i/N)^p of the scheme that painted the mesh.
PowerSpectrum power_spectrum_3d_of_contrast(const double* delta, int n, double box_size,
                                            MassAssignment deconvolve = MassAssignment::None);

// Paints the points on an n^3 mesh with `scheme` (stats/mass_assignment.h), forms
// delta = mesh / mean - 1 and deconvolves the same scheme, as
// MAS_library.MA + Pk_library.Pk(..., MAS) do. n even, >= 2.
PowerSpectrum power_spectrum_3d(const PointCloud& points, int n,
                                MassAssignment scheme = MassAssignment::Cic,
                                const WarningCallback& warn = {});

}  // namespace ds
