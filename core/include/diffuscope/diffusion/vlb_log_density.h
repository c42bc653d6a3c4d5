// The truncated VLB of a diffusion model as a ds::LogDensity, so that HMC, NUTS, SVI and grid
// scans run on a model (issue 6): log L(theta) = -sum_{t < T_MAX} L_t(theta) for one observed
// field, batched over the sampler's points (all chains or grid points in one network batch).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/diffusion/vlb.h"
#include "diffuscope/density/log_density.h"

namespace ds {

// The likelihood alone (no prior): defined for any finite theta (the network extrapolates
// outside its training box); put it behind a BoxPrior, as vlb_posterior does. In fresh noise mode
// every call draws new noise (a stochastic target, as published); in common mode it is a
// deterministic, smooth function of theta.
class VlbLogLikelihood : public LogDensity, public StepTerms {
 public:
  explicit VlbLogLikelihood(std::shared_ptr<TruncatedVlb> vlb, std::size_t dimension = 2);

  std::size_t dimension() const override { return dimension_; }
  // Non-finite network output gives a NaN value (a divergence to a sampler), never a throw.
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override;
  std::vector<std::string> labels() const override;

  // Per-step terms of the last evaluation, [batch, terms_per_point] (grid scans keep each L_t).
  VlbEvaluation last_evaluation() const;
  const StepTerms* step_terms() const override { return this; }
  StepTermsSettings step_terms_settings() const override;
  std::vector<double> last_step_terms(std::size_t batch) const override;
  TruncatedVlb& vlb() const { return *vlb_; }

 private:
  std::shared_ptr<TruncatedVlb> vlb_;
  std::size_t dimension_;
  mutable std::mutex mutex_;  // evaluate() is const, the VLB's fresh-noise Rng is not
  mutable VlbEvaluation last_;
};

// log posterior = log L + flat prior on the box (Omega_m, sigma_8 of `prior`), -inf outside.
// x0 is the observed field in MODEL space, [C, N, N].
std::shared_ptr<const BoxPrior> vlb_posterior(const DiffusionModel2d& model, std::vector<float> x0,
                                              int n, const VlbSettings& settings,
                                              const Prior& prior = kDefaultPrior);

}  // namespace ds
