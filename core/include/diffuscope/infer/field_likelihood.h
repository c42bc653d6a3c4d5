// The likelihoods of ONE observation that can be put over the (Omega_m, sigma_8) plane (issue
// 13, the Inference workspace; the same functions serve the CLI): for a 2D field the truncated
// VLB of a diffusion model, the exact GRF likelihood (GRF mocks only) and the P(k) Gaussian
// baseline; for a halo catalogue the ELBO of a point-cloud model (PointElboLogDensity,
// pointcloud/point_model.h).
// Each returns the likelihood alone (no prior): a grid scan takes it as it is, a sampler behind a
// BoxPrior on the cosmology box.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "diffuscope/data/field.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/vlb.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/infer/baselines/pk_baseline.h"
#include "diffuscope/registry.h"

namespace ds {

enum class LikelihoodKind { Vlb, ExactGrf, PkBaseline, PointElbo };
inline constexpr Registry<LikelihoodKind, 4> kLikelihoodKinds{
    "likelihood",
    {{{LikelihoodKind::Vlb, "vlb", "Diffusion model VLB",
       "truncated variational bound of a diffusion model, -sum_{t < T_MAX} L_t"},
      {LikelihoodKind::ExactGrf, "exact-grf", "Exact GRF",
       "exact Gaussian likelihood of a GRF mock (the reference answer)"},
      {LikelihoodKind::PkBaseline, "pk-baseline", "P(k) baseline",
       "Gaussian likelihood of the binned log power spectrum, mean and covariance from mocks"},
      {LikelihoodKind::PointElbo, "elbo", "Halo model ELBO",
       "ELBO of a point-cloud diffusion model for a halo catalogue (S steps, K draws)"}}}};

// Checks that every value is finite (FileError-free: InvalidArgument naming `origin`, the
// pixel and its value). Every likelihood below calls it.
void require_finite_field(const Field2D& field, const std::string& origin);

// The exact GRF likelihood of a density-contrast field (a GRF mock: mean ~ 0). Throws
// InvalidArgument naming `origin` when the field is a positive density (not a GRF mock: the
// exact likelihood does not apply), for an odd or unsupported size, or non-finite values.
std::shared_ptr<const LogDensity> exact_grf_likelihood(const Field2D& field,
                                                       const std::string& origin,
                                                       double slab_thickness = 5.0);

// The truncated VLB of `model` for a field in PHYSICAL units (the model's transform is applied;
// a Contrast field is read as 1 + delta when the transform needs a positive density), with
// optional observation noise of sd `noise_sigma` on log10 of the field (add_observation_noise,
// stream from `noise_seed`). Throws InvalidArgument naming `origin` when the size does not fit
// the network (require_field_size) or the transform cannot take a value (e.g. a negative pixel
// under a log10 transform).
std::shared_ptr<VlbLogLikelihood> vlb_likelihood(const DiffusionModel2d& model,
                                                 const Field2D& field, const VlbSettings& settings,
                                                 const std::string& origin,
                                                 double noise_sigma = 0.0,
                                                 std::uint64_t noise_seed = 0);

// The P(k) baseline's likelihood of the field (baseline->statistic; the grids must match).
std::shared_ptr<const LogDensity> pk_baseline_likelihood(std::shared_ptr<const PkBaseline> baseline,
                                                         const Field2D& field,
                                                         const std::string& origin);

}  // namespace ds
