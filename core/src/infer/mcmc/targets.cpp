#include "diffuscope/infer/mcmc/targets.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/error.h"
#include "infer/mcmc/linear_algebra.h"
#include "numerics/quadrature.h"

namespace ds {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void require_batch(const std::vector<double>& thetas, std::size_t batch, std::size_t d,
                   const char* what) {
  if (thetas.size() < batch * d)
    throw InvalidArgument(std::string(what) + ": " + std::to_string(thetas.size()) +
                          " values for " + std::to_string(batch) + " points of dimension " +
                          std::to_string(d));
}

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Mass of N(mean, cov) (2-D) inside the box: integral over x of the x-marginal density times
// the probability of the conditional y interval, by composite Simpson on the x interval clipped
// to mean +- 12 sd (the integrand is smooth; 4000 panels give ~1e-14 relative).
double gaussian_mass_in_box_2d(const std::vector<double>& mean, const std::vector<double>& cov,
                               const std::vector<std::pair<double, double>>& box) {
  const double sx = std::sqrt(cov[0]), sy = std::sqrt(cov[3]);
  const double rho = cov[1] / (sx * sy);
  const double conditional_sd = sy * std::sqrt(1.0 - rho * rho);
  const double lo = std::max(box[0].first, mean[0] - 12.0 * sx);
  const double hi = std::min(box[0].second, mean[0] + 12.0 * sx);
  if (!(lo < hi)) return 0.0;
  auto integrand = [&](double x) {
    const double u = (x - mean[0]) / sx;
    const double m = mean[1] + rho * sy * u;
    const double p = normal_cdf((box[1].second - m) / conditional_sd) -
                     normal_cdf((box[1].first - m) / conditional_sd);
    return std::exp(-0.5 * u * u) / (sx * std::sqrt(2.0 * M_PI)) * p;
  };
  double sum = 0.0;
  detail::for_each_simpson_node(lo, hi, 4000, [&](double x, double w) { sum += w * integrand(x); });
  return sum;
}

}  // namespace

GaussianTarget::GaussianTarget(std::vector<double> mean, std::vector<double> covariance,
                               std::vector<std::pair<double, double>> box)
    : mean_(std::move(mean)), covariance_(std::move(covariance)), box_(std::move(box)) {
  const std::size_t d = mean_.size();
  if (d == 0) throw InvalidArgument("Gaussian target: empty mean");
  if (covariance_.size() != d * d)
    throw InvalidArgument("Gaussian target: covariance has " + std::to_string(covariance_.size()) +
                          " entries, expected " + std::to_string(d * d));
  for (double v : mean_)
    if (!std::isfinite(v)) throw InvalidArgument("Gaussian target: non-finite mean");
  const std::vector<double> chol = detail::cholesky(covariance_, d, "Gaussian target covariance");
  precision_ = detail::inverse_from_cholesky(chol, d);
  double log_det = 0.0;
  for (std::size_t i = 0; i < d; ++i) log_det += 2.0 * std::log(chol[i * d + i]);
  log_normaliser_ = -0.5 * double(d) * std::log(2.0 * M_PI) - 0.5 * log_det;
  if (!box_.empty()) {
    if (d != 2 || box_.size() != 2)
      throw InvalidArgument("Gaussian target: a truncation box is supported in 2 dimensions");
    for (const auto& [lo, hi] : box_)
      if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
        throw InvalidArgument("Gaussian target: box intervals must be finite with lo < hi");
    mass_inside_ = gaussian_mass_in_box_2d(mean_, covariance_, box_);
    if (!(mass_inside_ > 0.0))
      throw InvalidArgument("Gaussian target: no probability mass inside the box");
    log_normaliser_ -= std::log(mass_inside_);
  }
}

std::vector<std::string> GaussianTarget::names() const {
  if (mean_.size() == 2) return {"x", "y"};
  return LogDensity::names();
}

std::vector<std::pair<double, double>> GaussianTarget::ranges() const {
  if (!box_.empty()) return box_;
  return LogDensity::ranges();
}

void GaussianTarget::evaluate(const std::vector<double>& thetas, std::size_t batch,
                              std::vector<double>& values, std::vector<double>* gradients) const {
  const std::size_t d = mean_.size();
  require_batch(thetas, batch, d, "Gaussian target");
  values.assign(batch, 0.0);
  if (gradients) gradients->assign(batch * d, 0.0);
  std::vector<double> delta(d);
  for (std::size_t b = 0; b < batch; ++b) {
    const double* theta = &thetas[b * d];
    bool inside = true;
    for (std::size_t i = 0; i < box_.size(); ++i)
      inside = inside && theta[i] >= box_[i].first && theta[i] <= box_[i].second;
    if (!inside) {
      values[b] = -kInf;
      continue;
    }
    for (std::size_t i = 0; i < d; ++i) delta[i] = theta[i] - mean_[i];
    double quadratic = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      double row = 0.0;  // (P delta)_i
      for (std::size_t j = 0; j < d; ++j) row += precision_[i * d + j] * delta[j];
      quadratic += delta[i] * row;
      if (gradients) (*gradients)[b * d + i] = -row;
    }
    values[b] = log_normaliser_ - 0.5 * quadratic;
  }
}

BananaTarget::BananaTarget(double cx, double cy, double sx, double sy, double b)
    : cx_(cx), cy_(cy), sx_(sx), sy_(sy), b_(b) {
  if (!(sx > 0.0) || !(sy > 0.0) || !std::isfinite(sx) || !std::isfinite(sy))
    throw InvalidArgument("banana target: sx and sy must be positive");
  if (!std::isfinite(cx) || !std::isfinite(cy) || !std::isfinite(b))
    throw InvalidArgument("banana target: cx, cy and b must be finite");
}

void BananaTarget::evaluate(const std::vector<double>& thetas, std::size_t batch,
                            std::vector<double>& values, std::vector<double>* gradients) const {
  require_batch(thetas, batch, 2, "banana target");
  values.assign(batch, 0.0);
  if (gradients) gradients->assign(batch * 2, 0.0);
  const double log_norm = -std::log(2.0 * M_PI * sx_ * sy_);
  for (std::size_t k = 0; k < batch; ++k) {
    const double u = (thetas[2 * k] - cx_) / sx_;
    const double v = (thetas[2 * k + 1] - cy_) / sy_;
    const double r = v - b_ * (u * u - 1.0);  // the second standard normal
    values[k] = log_norm - 0.5 * u * u - 0.5 * r * r;
    if (gradients) {
      (*gradients)[2 * k] = (-u + r * 2.0 * b_ * u) / sx_;
      (*gradients)[2 * k + 1] = -r / sy_;
    }
  }
}

namespace {

nlohmann::json read_targets_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot open the target file");
  nlohmann::json doc;
  try {
    in >> doc;
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("targets") || !doc["targets"].is_array())
    throw FileError(path, "has no \"targets\" array (expected the layout of hmc_targets_a.json)");
  return doc;
}

std::vector<double> numbers(const nlohmann::json& params, const char* key, std::size_t count,
                            const std::string& path, const std::string& name) {
  auto fail = [&](const std::string& why) {
    throw FileError(path, "target '" + name + "': params." + key + " " + why);
  };
  if (!params.contains(key)) fail("is missing");
  const nlohmann::json& v = params[key];
  std::vector<double> out;
  if (count == 1 && v.is_number()) return {v.get<double>()};
  if (!v.is_array() || v.size() != count)
    fail("must be " + (count == 1 ? std::string("a number")
                                  : "an array of " + std::to_string(count) + " numbers"));
  for (const auto& x : v) {
    if (!x.is_number()) fail("holds a non-number");
    out.push_back(x.get<double>());
  }
  return out;
}

}  // namespace

std::vector<std::string> test_target_names(const std::string& path) {
  const nlohmann::json doc = read_targets_file(path);
  std::vector<std::string> names;
  for (const auto& t : doc["targets"])
    if (t.is_object() && t.contains("name") && t["name"].is_string())
      names.push_back(t["name"].get<std::string>());
  return names;
}

std::shared_ptr<const LogDensity> load_test_target(const std::string& path,
                                                   const std::string& name) {
  const nlohmann::json doc = read_targets_file(path);
  std::string available;
  for (const auto& t : doc["targets"]) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
    const std::string this_name = t["name"].get<std::string>();
    available += (available.empty() ? "" : ", ") + this_name;
    if (this_name != name) continue;
    if (!t.contains("params") || !t["params"].is_object())
      throw FileError(path, "target '" + name + "' has no params object");
    const nlohmann::json& p = t["params"];
    try {
      if (p.contains("cx")) {  // the Rosenbrock-like banana
        return std::make_shared<BananaTarget>(
            numbers(p, "cx", 1, path, name)[0], numbers(p, "cy", 1, path, name)[0],
            numbers(p, "sx", 1, path, name)[0], numbers(p, "sy", 1, path, name)[0],
            numbers(p, "b", 1, path, name)[0]);
      }
      // A (possibly box-truncated) bivariate Gaussian given by mu, sd, rho.
      const std::vector<double> mu = numbers(p, "mu", 2, path, name);
      const std::vector<double> sd = numbers(p, "sd", 2, path, name);
      const double rho = numbers(p, "rho", 1, path, name)[0];
      if (!(std::abs(rho) < 1.0))
        throw FileError(path, "target '" + name + "': params.rho must lie in (-1, 1)");
      const double c = rho * sd[0] * sd[1];
      std::vector<std::pair<double, double>> box;
      if (p.contains("box")) {
        if (!p["box"].is_array() || p["box"].size() != 2)
          throw FileError(path, "target '" + name + "': params.box must be [[lo, hi], [lo, hi]]");
        for (std::size_t i = 0; i < 2; ++i) {
          const nlohmann::json edge = nlohmann::json{{"box", p["box"][i]}};
          const std::vector<double> lh = numbers(edge, "box", 2, path, name);
          box.emplace_back(lh[0], lh[1]);
        }
      }
      return std::make_shared<GaussianTarget>(
          mu, std::vector<double>{sd[0] * sd[0], c, c, sd[1] * sd[1]}, box);
    } catch (const InvalidArgument& e) {
      throw FileError(path, "target '" + name + "': " + e.what());
    }
  }
  throw FileError(path, "has no target '" + name + "' (it has: " + available + ")");
}

std::pair<std::string, std::string> split_target_spec(const std::string& spec) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw InvalidArgument("target '" + spec + "' must be FILE.json:NAME");
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

}  // namespace ds
