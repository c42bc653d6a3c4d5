// Gaussian random fields on a periodic 2D grid.
#pragma once

#include <cstdint>
#include <functional>

#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"

namespace ds {

// Draws a zero-mean Gaussian density contrast with power spectrum `power(k)` ((Mpc/h)^2, k in
// h/Mpc) in the conventions of power_spectrum_2d: E|delta_k|^2 (L/N^2)^2 = P(|k|) for the
// unnormalised FFT. The DC mode is zero. Made by colouring real-space white noise, so the Nyquist
// modes are real and the field is exactly periodic. Bit-identical for a given seed on any thread
// count.
Field2D gaussian_random_field_2d(const std::function<double(double)>& power, int n, double box_size,
                                 std::uint64_t seed, const JobContext& job = {});

struct GrfSettings {
  int n = 128;
  double box_size = 25.0;       // Mpc/h (CAMELS)
  double slab_thickness = 5.0;  // Mpc/h
};

// The input spectrum of cosmological_grf_2d: P_2D tabulated over the |k| range of the grid.
ProjectedPowerSpectrum grf_spectrum_2d(const Cosmology& cosmology, const GrfSettings& settings);

// The analytic emulator of the foundation: a GRF with the slab-projected linear power spectrum
// of the given cosmology (ProjectedPowerSpectrum).
Field2D cosmological_grf_2d(const Cosmology& cosmology, const GrfSettings& settings,
                            std::uint64_t seed, const JobContext& job = {});

// Sizes a generator accepts (16..512, as DESIGN.md); throws InvalidArgument otherwise.
void require_field_size(int n);

}  // namespace ds
