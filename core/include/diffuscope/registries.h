// The registries shared by the CLI and the GUI. Adding a choice = one enum value + one row here
// (+ the code that implements it).
#pragma once

#include "diffuscope/registry.h"

namespace ds {

enum class Device { Cpu, Cuda };
inline constexpr Registry<Device, 2> kDevices{
    "device",
    {{{Device::Cpu, "cpu", "CPU", "run on the CPU (default)"},
      {Device::Cuda, "cuda", "CUDA GPU", "run on the first CUDA device (needs a CUDA LibTorch)"}}}};

// Colour maps of the field viewport; the GLSL side (shaders/colormaps.glsl) uses the same order.
enum class Colormap { Viridis, Magma, Grey, RedBlue };
inline constexpr Registry<Colormap, 4> kColormaps{
    "colormap",
    {{{Colormap::Viridis, "viridis", "Viridis", "perceptually uniform, default"},
      {Colormap::Magma, "magma", "Magma", "perceptually uniform, dark to light"},
      {Colormap::Grey, "grey", "Grey", "linear grey scale"},
      {Colormap::RedBlue, "redblue", "Red-Blue", "diverging, for signed density contrasts"}}}};

// How field values map to colour: linear, or log10 of the density (1 + delta for contrasts).
enum class FieldScaling { Linear, Log };
inline constexpr Registry<FieldScaling, 2> kFieldScalings{
    "scaling",
    {{{FieldScaling::Linear, "linear", "Linear", "colour linear in the value"},
      {FieldScaling::Log, "log", "Log10", "colour linear in log10 of the density"}}}};

// Kinds of built-in 2D mock fields (core/include/diffuscope/mock/): `mock fields --kind`.
enum class MockFieldKind { Grf, Lognormal, Zeldovich };
inline constexpr Registry<MockFieldKind, 3> kFieldKinds{
    "field kind",
    {{{MockFieldKind::Grf, "grf", "Gaussian random field",
       "Gaussian density contrast with the slab-projected linear spectrum"},
      {MockFieldKind::Lognormal, "lognormal", "Lognormal field",
       "positive field 1 + delta with the same spectrum, lognormal one-point PDF"},
      {MockFieldKind::Zeldovich, "zeldovich", "Zel'dovich map",
       "Zel'dovich-displaced particles painted and projected over a 5 Mpc/h slab, "
       "(Msun/h)/(Mpc/h)^2"}}}};

// Matter transfer functions of the linear power spectrum (cosmology/transfer.h).
enum class TransferFunction { Eh98, Eh98NoWiggle };
inline constexpr Registry<TransferFunction, 2> kTransferFunctions{
    "transfer function",
    {{{TransferFunction::Eh98, "eh98", "Eisenstein & Hu 1998",
       "EH98 fitting formula with baryon acoustic oscillations (default)"},
      {TransferFunction::Eh98NoWiggle, "eh98-nowiggle", "EH98 no-wiggle",
       "EH98 zero-baryon shape with baryon suppression, no oscillations"}}}};

// Summary statistics (core/include/diffuscope/stats/); the names are the `stats` subcommands.
enum class Statistic {
  PowerSpectrum2d,
  DensityHistogram,
  PowerSpectrum3d,
  TwoPointCorrelation,
  KnnCdf,
  MassFunction,
  PairwiseVelocity
};
inline constexpr Registry<Statistic, 7> kStatistics{
    "statistic",
    {{{Statistic::PowerSpectrum2d, "pk2d", "P(k) 2D",
       "2D power spectrum, Pylians Pk_plane conventions"},
      {Statistic::DensityHistogram, "hist", "Density histogram",
       "density-normalised histogram of the log10 field"},
      {Statistic::PowerSpectrum3d, "pk3d", "P(k) 3D",
       "3D power spectrum monopole of a point set painted on a mesh, Pylians Pk conventions"},
      {Statistic::TwoPointCorrelation, "tpcf", "2PCF xi(r)",
       "two-point correlation function, natural estimator with analytic randoms"},
      {Statistic::KnnCdf, "knn", "kNN-CDF",
       "CDF of the distance from random points to their k-th nearest data point"},
      {Statistic::MassFunction, "hmf", "Mass function n(>M)",
       "cumulative number density of halos above a log10 mass"},
      {Statistic::PairwiseVelocity, "v12", "Pairwise velocity v12(r)",
       "mean radial velocity of pairs versus separation"}}}};

// Mass-assignment schemes for painting points on a mesh, and the window a power spectrum divides
// out (stats/mass_assignment.h). Pylians' names and order.
enum class MassAssignment { None, Ngp, Cic, Tsc, Pcs };
inline constexpr Registry<MassAssignment, 5> kMassAssignments{
    "mass assignment",
    {{{MassAssignment::None, "none", "None", "no deconvolution (fields that were not painted)"},
      {MassAssignment::Ngp, "ngp", "NGP", "nearest grid point"},
      {MassAssignment::Cic, "cic", "CIC", "cloud in cell"},
      {MassAssignment::Tsc, "tsc", "TSC", "triangular shaped cloud"},
      {MassAssignment::Pcs, "pcs", "PCS", "piecewise cubic spline"}}}};

// DDPM noise schedules (diffusion/schedule.h).
enum class ScheduleKind { CustomLinear, Linear, Cosine };
inline constexpr Registry<ScheduleKind, 3> kSchedules{
    "noise schedule",
    {{{ScheduleKind::CustomLinear, "custom-linear", "Custom linear (Diffusion-HMC)",
       "linear 1e-4..1e-2 over 1000 steps, the second half ramped by 1..3 (the paper's)"},
      {ScheduleKind::Linear, "linear", "Linear (DDPM)", "linear 1e-4..0.02 (Ho et al. 2020)"},
      {ScheduleKind::Cosine, "cosine", "Cosine",
       "cosine alphabar, s = 0.008, betas clipped at 0.999 (Nichol & Dhariwal 2021)"}}}};

// Reverse-diffusion samplers that draw fields from a score network (diffusion/sampler.h).
enum class DiffusionSamplerKind { Ancestral, Ddim, Ode };
inline constexpr Registry<DiffusionSamplerKind, 3> kDiffusionSamplers{
    "diffusion sampler",
    {{{DiffusionSamplerKind::Ancestral, "ancestral", "Ancestral DDPM",
       "all T steps with the posterior variance, the mean at the last step (the paper's)"},
      {DiffusionSamplerKind::Ddim, "ddim", "DDIM", "N steps, eta = 0 deterministic (Song et al.)"},
      {DiffusionSamplerKind::Ode, "ode", "Probability-flow ODE",
       "Heun's method on the probability-flow ODE, N steps (2N - 1 network calls)"}}}};

// Noise of the truncated VLB likelihood (diffusion/vlb.h).
enum class VlbNoiseMode { Fresh, Common };
inline constexpr Registry<VlbNoiseMode, 2> kVlbNoiseModes{
    "VLB noise mode",
    {{{VlbNoiseMode::Fresh, "fresh", "Fresh",
       "new noise at every evaluation: a stochastic likelihood (as published)"},
      {VlbNoiseMode::Common, "common", "Common",
       "K fixed noise draws shared by every parameter value: a smooth deterministic "
       "likelihood"}}}};

// Posterior samplers on a log density (infer/mcmc/hmc.h, infer/mcmc/nuts.h, infer/mcmc/svi.h).
enum class SamplerKind { Hmc, Nuts, Svi };
inline constexpr Registry<SamplerKind, 3> kSamplers{
    "sampler",
    {{{SamplerKind::Hmc, "hmc", "HMC",
       "Hamiltonian Monte Carlo, fixed leapfrog steps (the published configuration)"},
      {SamplerKind::Nuts, "nuts", "NUTS",
       "No-U-Turn sampler, multinomial, with step size and metric adaptation"},
      {SamplerKind::Svi, "svi", "SVI (full-rank Gaussian)",
       "variational fit of a full-rank Gaussian by the reparameterised ELBO with Adam"}}}};

}  // namespace ds
