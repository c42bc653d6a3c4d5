// 3D mock halo catalogues shaped like the Quijote point clouds (the N heaviest halos of a
// periodic (1 Gpc/h)^3 box at z = 0, positions, velocities and masses).
//
// Model (a lognormal mock in the manner of Agrawal et al. 2017, lognormal_galaxies):
//  1. Masses: the halo mass function of mass_function.h (Tinker 2008, Delta = 200 mean, by
//     default). M_keep is the mass with n(>M_keep) V = N (the expected N-th heaviest), M_draw the
//     one with n(>M_draw) V = headroom * N.
//  2. Halo density: a lognormal field on an n_mesh^3 mesh (128^3, cells of 7.8 Mpc/h) whose
//     spectrum is b^2 P_lin(k) exp(-k^2 R_s^2), b the number-weighted Tinker (2010) bias of the
//     halos above M_keep, R_s = R_L(M_keep)/sqrt(5) a Gaussian of the same second moment as the
//     top hat of the halos' Lagrangian radius (halos trace the density smoothed on that scale;
//     unsmoothed, b^2 sigma^2 on 7.8 Mpc/h cells exceeds 10 and the lognormal construction
//     breaks down).
//  3. Poisson sampling: cell c holds Poisson(headroom * N * rho_c / sum rho) halos, uniform within
//     the cell, each with a mass drawn from the mass function above M_draw. The N heaviest are
//     kept (the expected count 1.5 N leaves the shortfall probability below 1e-100).
//  4. Velocities from linear theory: v = f a H psi (a = 1, H = 100 km/s per Mpc/h), psi the
//     Zel'dovich displacement of the linear matter density made from the same white noise as the
//     halo density (so halos sit where flows converge), interpolated (CIC) at each halo.
// At the fiducial 0.3/0.8 with the defaults: M_keep = 2.8e14 Msun/h, b = 3.94, R_s = 4.1 Mpc/h,
// sigma_G^2 = 2.3 with 0.8 % of the Gaussian power clipped, f = 0.51; the 2PCF at 20-60 Mpc/h
// comes out at 1.1 b^2 xi_lin and the velocity rms at ~260 km/s per component (tests).
// Output: ds::HaloCatalogue of data/quijote.h (the type the Quijote reader returns; `lengths` is
// left empty), heaviest first. Units: positions Mpc/h in [0, L), velocities km/s, masses Msun/h.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/cosmology/mass_function.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/quijote.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/mock/sets.h"

namespace ds {

struct HaloCatalogueSettings {
  int n_halos = 5000;
  double box_size = 1000.0;  // Mpc/h
  int mesh = 128;            // lognormal mesh per axis (16..256)
  MassFunctionModel mass_function = MassFunctionModel::Tinker08;
  double headroom = 1.5;  // expected halos drawn above M_draw per halo kept (>= 1.2)
};

// The model prepared for one cosmology (mass function, bias, Gaussian spectrum; ~0.3 s at 128^3);
// draw() may be called from several threads at once.
class LognormalHaloModel {
 public:
  LognormalHaloModel(const Cosmology& cosmology, const HaloCatalogueSettings& settings);

  // One catalogue of settings.n_halos halos, bit-identical for a seed on any thread.
  HaloCatalogue draw(std::uint64_t seed, const JobContext& job = {}) const;

  const HaloMassFunction& mass_function() const { return mass_function_; }
  double keep_mass() const { return keep_mass_; }  // M_keep, Msun/h
  double draw_mass() const { return draw_mass_; }  // M_draw, Msun/h
  double bias() const { return bias_; }
  double growth_rate() const { return growth_rate_; }
  double smoothing_radius() const { return smoothing_radius_; }  // R_s, Mpc/h
  double gaussian_variance() const { return gaussian_variance_; }
  double clipped_fraction() const { return clipped_fraction_; }
  // The target spectrum of the halo density, b^2 P_lin(k) exp(-k^2 R_s^2), (Mpc/h)^3.
  double halo_power(double k) const;

 private:
  Cosmology cosmology_;
  HaloCatalogueSettings settings_;
  LinearPowerSpectrum linear_;
  HaloMassFunction mass_function_;
  double keep_mass_, draw_mass_, bias_, growth_rate_, smoothing_radius_;
  double gaussian_variance_ = 0.0, clipped_fraction_ = 0.0;
  std::vector<double> gaussian_amplitude_;  // per half-space mode of the mesh
  std::vector<double> linear_amplitude_;    // per integer |k|^2
};

HaloCatalogue lognormal_halo_catalogue(const Cosmology& cosmology,
                                       const HaloCatalogueSettings& settings, std::uint64_t seed,
                                       const JobContext& job = {});

// A set of catalogues as a Dataset of kind Points, shape [M, N, F] float32 with F = 3 (x, y, z)
// or 7 (x, y, z, vx, vy, vz, log10_mass; halo_feature_names), halos in decreasing mass, params
// [M, 2]. Catalogues are shared out over `threads` threads (0: ds::thread_count()); the result is
// byte-identical for any thread count.
Dataset generate_halo_set(const HaloCatalogueSettings& settings, HaloFeatures features,
                          const SetDesign& design, const JobContext& job = {}, int threads = 0);

}  // namespace ds
