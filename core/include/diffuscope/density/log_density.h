// The one interface every sampler (HMC, NUTS, SVI) and grid scan sees: the log density of a
// parameter vector and its gradient, evaluated at a BATCH of points at once (all chains of a
// sampler, all points of a grid row), so that an expensive density (a diffusion model's VLB)
// costs one network call per batch. Models, analytic test targets and the exact GRF posterior
// are adapters behind it (DESIGN.md, Core concepts).
//
// Values are data, not errors: -inf means "outside the support" (zero density, e.g. outside a
// prior box); NaN or +inf means numerical trouble and becomes a divergence in a sampler. An
// implementation throws only for programmer or IO errors (wrong buffer sizes, a lost file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"

namespace ds {

// What a density made of per-step terms also tells (a diffusion model's truncated VLB:
// log L = -sum_t L_t): a grid scan keeps every term of every point. Asked for through
// LogDensity::step_terms(), so a scan never needs to know the concrete density.
struct StepTermsSettings {
  std::size_t terms_per_point = 0;
  int t_max = 0;            // terms t = 0 .. t_max - 1
  bool prior_term = false;  // the last term is L_T
  std::string noise;        // "fresh" | "common"
  int draws = 0;
  std::uint64_t seed = 0;
};

class StepTerms {
 public:
  virtual ~StepTerms() = default;
  virtual StepTermsSettings step_terms_settings() const = 0;
  // The terms of the last evaluate() call when it evaluated `batch` points, [batch,
  // terms_per_point]; empty otherwise (a point that was not evaluated).
  virtual std::vector<double> last_step_terms(std::size_t batch) const = 0;
};

class LogDensity {
 public:
  virtual ~LogDensity() = default;

  // Number of parameters D.
  virtual std::size_t dimension() const = 0;

  // thetas: [batch, D] row-major. Resizes values to [batch] and, when gradients is not null,
  // *gradients to [batch, D] (d log p / d theta). A gradient row is unspecified where the value
  // is not finite. Must give every point the same value whatever else is in the batch.
  virtual void evaluate(const std::vector<double>& thetas, std::size_t batch,
                        std::vector<double>& values, std::vector<double>* gradients) const = 0;

  // Parameter names (files, tables; default "theta0", ...) and LaTeX labels (GetDist
  // .paramnames; default the names).
  virtual std::vector<std::string> names() const;
  virtual std::vector<std::string> labels() const;
  // The support's bounding box per parameter, (-inf, inf) where unbounded (GetDist .ranges).
  virtual std::vector<std::pair<double, double>> ranges() const;
  // Its per-step terms when it has them (the VLB), else nullptr.
  virtual const StepTerms* step_terms() const { return nullptr; }
};

// log p and (optionally) its gradient at one point: a batch of one.
double evaluate_one(const LogDensity& density, const std::vector<double>& theta,
                    std::vector<double>* gradient = nullptr);

// A likelihood times a flat prior on a box: log p = log L(theta) - log(box volume) inside
// the box (edges included), -inf outside. Points outside are never passed to the likelihood (a
// model may be undefined there; GrfLikelihood throws), so the likelihood sees one sub-batch of
// the inside points per call, or no call when none is inside.
class BoxPrior : public LogDensity {
 public:
  // box: (lo, hi) per parameter, lo < hi, finite; its size must equal likelihood->dimension().
  BoxPrior(std::shared_ptr<const LogDensity> likelihood,
           std::vector<std::pair<double, double>> box);
  // The cosmology prior box (Omega_m, sigma_8) of ds::Prior.
  BoxPrior(std::shared_ptr<const LogDensity> likelihood, const Prior& prior);

  std::size_t dimension() const override { return box_.size(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override { return likelihood_->names(); }
  std::vector<std::string> labels() const override { return likelihood_->labels(); }
  std::vector<std::pair<double, double>> ranges() const override { return box_; }

  bool contains(const double* theta) const;
  const LogDensity& likelihood() const { return *likelihood_; }

 private:
  std::shared_ptr<const LogDensity> likelihood_;
  std::vector<std::pair<double, double>> box_;
  double log_volume_ = 0.0;
};

// A density that reports every batch it evaluates, after evaluating it: the points a sampler
// asks for are the leapfrog positions of the trajectories being integrated, so a viewer can
// draw them as they are computed (the GUI's Inference workspace). The callback runs on the
// evaluating thread, once per evaluate call; it must not call back into the density.
class ObservedLogDensity : public LogDensity {
 public:
  // thetas [batch, D] row-major, values [batch].
  using Observer = std::function<void(const std::vector<double>& thetas, std::size_t batch,
                                      const std::vector<double>& values)>;
  ObservedLogDensity(std::shared_ptr<const LogDensity> inner, Observer observer);

  std::size_t dimension() const override { return inner_->dimension(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override { return inner_->names(); }
  std::vector<std::string> labels() const override { return inner_->labels(); }
  std::vector<std::pair<double, double>> ranges() const override { return inner_->ranges(); }

 private:
  std::shared_ptr<const LogDensity> inner_;
  Observer observer_;
};

}  // namespace ds
