// Analytic log densities with known moments, for validating samplers and for teaching: the
// targets of shared/testdata/goldens/hmc_targets_a.json (correlated_gaussian,
// banana_rosenbrock_like, box_truncated_gaussian), with their parameters read from such a file
// so that any values work. All are normalised (log p integrates to 0), parameters (x, y).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "diffuscope/density/log_density.h"

namespace ds {

// N(mean, covariance) in D dimensions, optionally truncated to a box (D = 2 only: the mass
// inside the box, for the normaliser, is a 1-D quadrature of the conditional normal CDF).
// covariance: [D, D] row-major, symmetric positive definite (InvalidArgument otherwise).
class GaussianTarget : public LogDensity {
 public:
  GaussianTarget(std::vector<double> mean, std::vector<double> covariance,
                 std::vector<std::pair<double, double>> box = {});

  std::size_t dimension() const override { return mean_.size(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override;
  std::vector<std::pair<double, double>> ranges() const override;

  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& covariance() const { return covariance_; }
  // Probability mass of the untruncated Gaussian inside the box (1 without a box).
  double mass_inside_box() const { return mass_inside_; }

 private:
  std::vector<double> mean_, covariance_, precision_;
  std::vector<std::pair<double, double>> box_;
  double log_normaliser_ = 0.0;  // log p at the mean
  double mass_inside_ = 1.0;
};

// The Rosenbrock-like banana: u = (x - cx)/sx, v = (y - cy)/sy,
// log p = -u^2/2 - (v - b (u^2 - 1))^2/2 - log(2 pi sx sy). E[x] = cx, sd_x = sx, E[y] = cy,
// sd_y = sy sqrt(1 + 2 b^2), corr 0 (dependence is nonlinear).
class BananaTarget : public LogDensity {
 public:
  BananaTarget(double cx, double cy, double sx, double sy, double b);

  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override { return {"x", "y"}; }

 private:
  double cx_, cy_, sx_, sy_, b_;
};

// The targets a file shaped like hmc_targets_a.json defines, in file order. Throws FileError
// naming the file and the problem (unreadable, not JSON, missing or malformed params).
std::vector<std::string> test_target_names(const std::string& path);

// The target NAME of such a file (correlated_gaussian, banana_rosenbrock_like or
// box_truncated_gaussian; the file's `params` give mu/sd/rho/box or cx/cy/sx/sy/b).
std::shared_ptr<const LogDensity> load_test_target(const std::string& path,
                                                   const std::string& name);

// "FILE.json:NAME" -> (FILE.json, NAME); the last colon splits. InvalidArgument without one.
std::pair<std::string, std::string> split_target_spec(const std::string& spec);

}  // namespace ds
