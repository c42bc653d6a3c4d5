// The exact posterior of (Omega_m, sigma_8) for a Gaussian-random-field mock: the exact GRF
// log-likelihood of infer/baselines/grf_likelihood.h times the flat prior on the cosmology box. It
// is the reference every other posterior of a GRF mock is drawn against (issue 6, item 6a).
#pragma once

#include <memory>

#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"

namespace ds {

// log L(Omega_m, sigma_8) of one field, batched through GrfLikelihood::evaluate (its threads;
// results do not depend on the thread count). Defined on the likelihood's prior box only: use it
// behind a BoxPrior (exact_grf_posterior does), which never passes points outside.
class GrfLogLikelihood2d : public LogDensity {
 public:
  explicit GrfLogLikelihood2d(std::shared_ptr<const GrfLikelihood> likelihood);

  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override { return {"Omega_m", "sigma_8"}; }
  std::vector<std::string> labels() const override { return {"\\Omega_m", "\\sigma_8"}; }

  const GrfLikelihood& likelihood() const { return *likelihood_; }

 private:
  std::shared_ptr<const GrfLikelihood> likelihood_;
};

// log posterior = log L + flat prior on likelihood->prior() (-inf outside the box).
std::shared_ptr<const BoxPrior> exact_grf_posterior(
    std::shared_ptr<const GrfLikelihood> likelihood);

}  // namespace ds
