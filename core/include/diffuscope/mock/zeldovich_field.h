// Zel'dovich-approximation 2D mock fields, shaped like the CAMELS N-body maps: a particle lattice
// in a periodic cube of side L (= the map's box size, 25 Mpc/h by default) is displaced by the
// Zel'dovich displacement of a Gaussian linear density field at z = 0,
//   x = q + psi(q),   psi_k = i k / k^2 delta_k,   E|delta_k|^2 = (N^6/L^3) P_lin(|k|),
// painted with cloud-in-cell onto an N x N grid in the (x, y) plane and projected over the slab
// z in [offset, offset + thickness) (5 Mpc/h): each particle is a cube of side L/N_m whose mass
// is counted in proportion to its overlap with the slab (3D CIC painting followed by summing the
// slab cells, fractional boundary cells included). The result is the surface density in
// (Msun/h)/(Mpc/h)^2, the units of CAMELS mass maps: its mean is rho_m * thickness with
// rho_m = rho_crit Omega_m (2.775e11 Omega_m (Msun/h)/(Mpc/h)^3).
//
// Mesh and lattice. The displacement is computed by FFT on an N_m^3 mesh, N_m = N for N <= 128
// (one particle per mesh point: an N^3 lattice) and N_m = 128 above (memory: a 512^3 mesh would
// need ~5 GB). For N > N_m the particles form an N x N lattice in (x, y) times N_m layers in z,
// with the displacement interpolated bilinearly from the mesh (the mesh holds every mode the
// displacement has, so this adds no small-scale power it lacks).
// Truncation (the "truncated Zel'dovich approximation" of Coles, Melott & Shandarin 1993, MNRAS
// 260, 765): a 25 Mpc/h box is non-linear at z = 0 (k_NL = 0.35 h/Mpc at 0.3/0.8 is close to the
// box's k_F = 0.25 h/Mpc). Untruncated, the ZA's shell-crossing particles stream through each
// other, the map's large-scale power falls as sigma_8 rises (damping by exp(-k^2 sigma_psi^2)),
// and the web is washed out. A Gaussian truncation of the linear field at k_t = 1 h/Mpc (fixed
// for all cosmologies, so that sigma_8 only scales the displacements) keeps sharp caustic
// filaments and voids and a large-scale power that rises with sigma_8 (1.67x from 0.6 to 1.0
// in the first two bins, against 2.78x in linear theory: the remaining ZA damping).
// Modes of psi along an axis at that axis' Nyquist frequency are set to 0 (i k_Nyq delta is not
// the transform of a real field). No smoothing: shell crossing happens as it does in the ZA.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/cosmology/linear_power.h"
#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"

namespace ds {

struct ZeldovichSettings {
  int n = 64;                   // map pixels per side, 16..512
  double box_size = 25.0;       // Mpc/h: side of the periodic cube and of the map
  double slab_thickness = 5.0;  // Mpc/h
  double slab_offset = 0.0;     // Mpc/h: the slab is [offset, offset + thickness) along z
  int mesh = 0;                 // displacement mesh per axis; 0: min(n, 128)
  // Gaussian truncation of the linear field, P_lin(k) exp(-k^2 / k_t^2), k_t in h/Mpc; 0
  // disables it. See the note on truncation above.
  double truncation_k = 1.0;
};

// The non-linear wavenumber k_NL (h/Mpc): (1/2 pi^2) \int_0^k_NL k^2 P_lin(k) dk = 1 (0.35 h/Mpc
// for the fiducial 0.3/0.8).
double nonlinear_wavenumber(const LinearPowerSpectrum& linear);

// A generator prepared for one cosmology and grid (the linear spectrum tabulated on the mesh's
// distinct |k|); draw() may be called from several threads at once.
class ZeldovichField2d {
 public:
  ZeldovichField2d(const Cosmology& cosmology, const ZeldovichSettings& settings);

  // One N x N Density map in (Msun/h)/(Mpc/h)^2; bit-identical for a seed on any thread. Cost:
  // N_m^3 normal draws, four N_m^3 FFTs and the painting (15-30 ms at N = 64 on one core).
  Field2D draw(std::uint64_t seed, const JobContext& job = {}) const;

  int mesh() const { return mesh_; }
  const ZeldovichSettings& settings() const { return settings_; }
  // Expected mean of a map: rho_m * slab thickness, (Msun/h)/(Mpc/h)^2.
  double mean_surface_density() const { return mean_surface_density_; }
  double truncation_wavenumber() const { return truncation_k_; }  // h/Mpc; 0: none

 private:
  ZeldovichSettings settings_;
  int mesh_;
  double mean_surface_density_;
  double truncation_k_ = 0.0;
  // Displacement amplitude per integer |k|^2 (in units of k_F^2) on the mesh:
  // sqrt(P_lin(k)) (N_m/L)^{3/2} / k^2, so that psi_k,a = i k_a amplitude W_k.
  std::vector<double> amplitude_;
};

Field2D zeldovich_field_2d(const Cosmology& cosmology, const ZeldovichSettings& settings,
                           std::uint64_t seed, const JobContext& job = {});

}  // namespace ds
