#include "diffuscope/infer/baselines/exact_grf.h"

#include <array>
#include <string>

#include "diffuscope/error.h"

namespace ds {

GrfLogLikelihood2d::GrfLogLikelihood2d(std::shared_ptr<const GrfLikelihood> likelihood)
    : likelihood_(std::move(likelihood)) {
  if (!likelihood_) throw InvalidArgument("exact GRF log density: no likelihood given");
}

void GrfLogLikelihood2d::evaluate(const std::vector<double>& thetas, std::size_t batch,
                                  std::vector<double>& values,
                                  std::vector<double>* gradients) const {
  if (thetas.size() < 2 * batch)
    throw InvalidArgument("exact GRF log density: " + std::to_string(thetas.size()) +
                          " values for " + std::to_string(batch) + " points of dimension 2");
  std::vector<std::array<double, 2>> points(batch);
  for (std::size_t b = 0; b < batch; ++b) points[b] = {thetas[2 * b], thetas[2 * b + 1]};
  // One threaded call for the whole batch (GrfLikelihood spreads the points over its threads).
  const std::vector<GrfLogLikelihood> results = likelihood_->evaluate(points, gradients != nullptr);
  values.resize(batch);
  if (gradients) gradients->resize(2 * batch);
  for (std::size_t b = 0; b < batch; ++b) {
    values[b] = results[b].value;
    if (gradients) {
      (*gradients)[2 * b] = results[b].gradient[0];
      (*gradients)[2 * b + 1] = results[b].gradient[1];
    }
  }
}

std::shared_ptr<const BoxPrior> exact_grf_posterior(
    std::shared_ptr<const GrfLikelihood> likelihood) {
  if (!likelihood) throw InvalidArgument("exact GRF posterior: no likelihood given");
  const Prior prior = likelihood->prior();
  return std::make_shared<BoxPrior>(std::make_shared<GrfLogLikelihood2d>(std::move(likelihood)),
                                    prior);
}

}  // namespace ds
