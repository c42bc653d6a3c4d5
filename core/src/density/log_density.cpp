#include "diffuscope/density/log_density.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "diffuscope/error.h"

namespace ds {

std::vector<std::string> LogDensity::names() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < dimension(); ++i) out.push_back("theta" + std::to_string(i));
  return out;
}

std::vector<std::string> LogDensity::labels() const {
  return names();
}

std::vector<std::pair<double, double>> LogDensity::ranges() const {
  const double inf = std::numeric_limits<double>::infinity();
  return std::vector<std::pair<double, double>>(dimension(), {-inf, inf});
}

double evaluate_one(const LogDensity& density, const std::vector<double>& theta,
                    std::vector<double>* gradient) {
  if (theta.size() != density.dimension())
    throw InvalidArgument("log density: a point has " + std::to_string(theta.size()) +
                          " parameters, the density has " + std::to_string(density.dimension()));
  std::vector<double> values;
  density.evaluate(theta, 1, values, gradient);
  return values.at(0);
}

BoxPrior::BoxPrior(std::shared_ptr<const LogDensity> likelihood,
                   std::vector<std::pair<double, double>> box)
    : likelihood_(std::move(likelihood)), box_(std::move(box)) {
  if (!likelihood_) throw InvalidArgument("box prior: no likelihood given");
  if (box_.size() != likelihood_->dimension())
    throw InvalidArgument("box prior: the box has " + std::to_string(box_.size()) +
                          " intervals, the likelihood " + std::to_string(likelihood_->dimension()) +
                          " parameters");
  for (std::size_t i = 0; i < box_.size(); ++i) {
    const auto& [lo, hi] = box_[i];
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
      throw InvalidArgument("box prior: interval " + std::to_string(i) + " [" + std::to_string(lo) +
                            ", " + std::to_string(hi) + "] must be finite with lo < hi");
    log_volume_ += std::log(hi - lo);
  }
}

BoxPrior::BoxPrior(std::shared_ptr<const LogDensity> likelihood, const Prior& prior)
    : BoxPrior(std::move(likelihood),
               std::vector<std::pair<double, double>>{{prior.omega_m.lo, prior.omega_m.hi},
                                                      {prior.sigma_8.lo, prior.sigma_8.hi}}) {}

bool BoxPrior::contains(const double* theta) const {
  for (std::size_t i = 0; i < box_.size(); ++i)
    if (!(theta[i] >= box_[i].first && theta[i] <= box_[i].second)) return false;  // NaN: outside
  return true;
}

void BoxPrior::evaluate(const std::vector<double>& thetas, std::size_t batch,
                        std::vector<double>& values, std::vector<double>* gradients) const {
  const std::size_t d = dimension();
  if (thetas.size() < batch * d)
    throw InvalidArgument("box prior: " + std::to_string(thetas.size()) + " values for " +
                          std::to_string(batch) + " points of dimension " + std::to_string(d));
  values.assign(batch, -std::numeric_limits<double>::infinity());
  if (gradients) gradients->assign(batch * d, 0.0);

  // Gather the inside points into one sub-batch: the likelihood sees one call per batch.
  std::vector<std::size_t> inside;
  for (std::size_t b = 0; b < batch; ++b)
    if (contains(&thetas[b * d])) inside.push_back(b);
  if (inside.empty()) return;
  std::vector<double> sub(inside.size() * d), sub_values, sub_gradients;
  for (std::size_t i = 0; i < inside.size(); ++i)
    std::copy_n(&thetas[inside[i] * d], d, &sub[i * d]);
  likelihood_->evaluate(sub, inside.size(), sub_values, gradients ? &sub_gradients : nullptr);
  for (std::size_t i = 0; i < inside.size(); ++i) {
    values[inside[i]] = sub_values[i] - log_volume_;
    if (gradients) std::copy_n(&sub_gradients[i * d], d, &(*gradients)[inside[i] * d]);
  }
}

ObservedLogDensity::ObservedLogDensity(std::shared_ptr<const LogDensity> inner, Observer observer)
    : inner_(std::move(inner)), observer_(std::move(observer)) {
  if (!inner_) throw InvalidArgument("ObservedLogDensity: no density");
}

void ObservedLogDensity::evaluate(const std::vector<double>& thetas, std::size_t batch,
                                  std::vector<double>& values,
                                  std::vector<double>* gradients) const {
  inner_->evaluate(thetas, batch, values, gradients);
  if (observer_) observer_(thetas, batch, values);
}

}  // namespace ds
