// Pieces shared by the 3D mocks (private to core/mock): white noise in Fourier space, coloured
// fields and Zel'dovich displacements on a periodic n^3 mesh, trilinear interpolation.
// Mesh point (i, j, l) sits at ((i + 1/2), (j + 1/2), (l + 1/2)) * L / n and is stored at
// (i * n + j) * n + l; the FFT's first axis is x.
#pragma once

#include <array>
#include <complex>
#include <functional>
#include <vector>

#include "diffuscope/random.h"
#include "numerics/fft.h"

namespace ds::detail {

using Modes3d = std::vector<std::complex<double>>;
using Mesh3d = std::vector<double>;

// Draws n^3 unit normals in mesh order from rng and returns their unnormalised FFT
// (E|W_k|^2 = n^3).
Modes3d white_noise_modes(RealFft3d& fft, Rng& rng);

// sqrt(P(k)) (n/L)^{3/2} tabulated per integer q = |k|^2 / k_F^2, q = 0 .. 3 (n/2)^2 (P(0) := 0):
// multiplying W_k by it gives a field with E|delta_k|^2 = (n^6 / L^3) P, the 3D convention of
// Pylians' Pk (P in (Mpc/h)^3 for k in h/Mpc).
std::vector<double> colouring_amplitudes(const std::function<double(double)>& power, int n,
                                         double box_size);

// The real field (1/n^3) sum_k W_k a(k) e^{ikx} with a(k) = amplitude[q] (per-|k| table) or
// a_mode[m] (per half-space mode), written to `out` (n^3).
void coloured_field(RealFft3d& fft, const Modes3d& white, const std::vector<double>& amplitude,
                    bool per_mode, Mesh3d& out);

// The Zel'dovich displacement psi_a (Mpc/h), psi_k = i k / k^2 delta_k with
// delta_k = W_k amplitude[q]; components along an axis at its Nyquist frequency are zero.
void zeldovich_displacement(RealFft3d& fft, const Modes3d& white,
                            const std::vector<double>& amplitude, double box_size,
                            std::array<Mesh3d, 3>& psi);

// Trilinear (CIC) interpolation of a periodic mesh at a position in Mpc/h.
double interpolate_periodic(const Mesh3d& mesh, int n, double box_size,
                            const std::array<double, 3>& position);

}  // namespace ds::detail
