#include "diffuscope/diffusion/vlb_log_density.h"

#include <cmath>
#include <limits>

#include "diffuscope/error.h"
#include "diffuscope/registries.h"

namespace ds {

VlbLogLikelihood::VlbLogLikelihood(std::shared_ptr<TruncatedVlb> vlb, std::size_t dimension)
    : vlb_(std::move(vlb)), dimension_(dimension) {
  if (!vlb_) throw InvalidArgument("VLB log-likelihood: no VLB given");
  if (dimension_ == 0) throw InvalidArgument("VLB log-likelihood: zero parameters");
}

std::vector<std::string> VlbLogLikelihood::names() const {
  if (dimension_ == 2) return {"Omega_m", "sigma_8"};
  return LogDensity::names();
}

std::vector<std::string> VlbLogLikelihood::labels() const {
  if (dimension_ == 2) return {"\\Omega_m", "\\sigma_8"};
  return LogDensity::labels();
}

void VlbLogLikelihood::evaluate(const std::vector<double>& thetas, std::size_t batch,
                                std::vector<double>& values, std::vector<double>* gradients) const {
  if (thetas.size() < batch * dimension_)
    throw InvalidArgument("VLB log-likelihood: " + std::to_string(thetas.size()) + " values for " +
                          std::to_string(batch) + " points of dimension " +
                          std::to_string(dimension_));
  values.assign(batch, std::numeric_limits<double>::quiet_NaN());
  if (gradients) gradients->assign(batch * dimension_, 0.0);
  if (batch == 0) return;
  const std::vector<double> points(thetas.begin(), thetas.begin() + batch * dimension_);
  bool finite = true;
  for (double v : points) finite = finite && std::isfinite(v);
  if (!finite) return;  // NaN values: a divergence for the sampler
  std::lock_guard<std::mutex> lock(mutex_);
  last_ = vlb_->evaluate(points, gradients != nullptr);
  values = last_.log_likelihood;
  if (gradients) *gradients = last_.gradient;
}

VlbEvaluation VlbLogLikelihood::last_evaluation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

StepTermsSettings VlbLogLikelihood::step_terms_settings() const {
  const VlbSettings& s = vlb_->settings();
  StepTermsSettings out;
  out.terms_per_point = std::size_t(s.t_max) + (s.include_prior_term ? 1 : 0);
  out.t_max = s.t_max;
  out.prior_term = s.include_prior_term;
  out.noise = kVlbNoiseModes.name(s.noise);
  out.draws = s.draws;
  out.seed = s.seed;
  return out;
}

std::vector<double> VlbLogLikelihood::last_step_terms(std::size_t batch) const {
  const VlbEvaluation last = last_evaluation();
  const std::size_t t = step_terms_settings().terms_per_point;
  if (last.points != batch || last.terms.size() != batch * t) return {};
  return last.terms;
}

std::shared_ptr<const BoxPrior> vlb_posterior(const DiffusionModel2d& model, std::vector<float> x0,
                                              int n, const VlbSettings& settings,
                                              const Prior& prior) {
  if (model.parameter_count() != 2)
    throw InvalidArgument("VLB posterior: the model takes " +
                          std::to_string(model.parameter_count()) +
                          " parameters; the cosmology prior box has 2 (Omega_m, sigma_8)");
  auto vlb = std::make_shared<TruncatedVlb>(model, std::move(x0), n, settings);
  auto likelihood = std::make_shared<const VlbLogLikelihood>(std::move(vlb), 2);
  return std::make_shared<const BoxPrior>(std::move(likelihood), prior);
}

}  // namespace ds
