// Lognormal 2D mock fields: positive fields 1 + delta_LN, delta_LN = exp(G - sigma_G^2/2) - 1,
// with G a Gaussian random field whose spectrum is chosen so that delta_LN has the target
// spectrum (Coles & Jones 1991). The target is the slab-projected P_2D of the cosmology, the same
// spectrum as the GRF mocks (grf_spectrum_2d), so the two kinds share their two-point function
// and differ in their one-point PDF (skewed, positive) and higher orders.
//
// The Gaussian spectrum is computed exactly on the grid (FFT of the target -> xi, xi_G =
// ln(1 + xi), FFT back); modes where it would be negative are clipped to 0 (reported by
// clipped_fraction(): 0 at the fiducial cosmology at 64^2, 3e-5 at 16^2; sigma_G^2 = 1.78 at
// 64^2: far from Gaussian, one-point skewness ~10).
// Conventions of power_spectrum_2d (DESIGN.md): E|delta_k|^2 (L/N^2)^2 = P_2D(|k|).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/mock/gaussian_field.h"

namespace ds {

// A lognormal generator prepared for one target spectrum and grid; draw() is cheap (two n x n
// FFTs) and may be called from several threads at once.
class LognormalField2d {
 public:
  // The cosmological target: grf_spectrum_2d(cosmology, settings).
  LognormalField2d(const Cosmology& cosmology, const GrfSettings& settings);
  // Any isotropic target P(k) ((Mpc/h)^2, k in h/Mpc) on an n x n grid of side box_size (Mpc/h).
  LognormalField2d(const std::function<double(double)>& target_power, int n, double box_size);

  // An n x n Density field of values 1 + delta_LN (> 0, mean 1 in expectation). Bit-identical
  // for a given seed on any thread.
  Field2D draw(std::uint64_t seed, const JobContext& job = {}) const;

  int n() const { return n_; }
  double box_size() const { return box_size_; }
  double gaussian_variance() const { return variance_; }  // sigma_G^2
  double clipped_fraction() const { return clipped_fraction_; }
  // P_G on the half-plane modes of the r2c FFT, n * (n/2 + 1), (Mpc/h)^2.
  const std::vector<double>& gaussian_power() const { return gaussian_power_; }

 private:
  void prepare(const std::function<double(double)>& target_power);

  int n_;
  double box_size_;
  double variance_ = 0.0, clipped_fraction_ = 0.0;
  std::vector<double> gaussian_power_;
};

// One lognormal map at the given cosmology (prepares the generator, then draws).
Field2D cosmological_lognormal_2d(const Cosmology& cosmology, const GrfSettings& settings,
                                  std::uint64_t seed, const JobContext& job = {});

}  // namespace ds
