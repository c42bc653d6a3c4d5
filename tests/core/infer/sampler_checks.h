// Helpers of the sampler tests: the reference file, counting / recording densities, and moment
// checks against Monte Carlo standard errors (ESS-based, from infer/diagnostics/diagnostics.h).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../test_helpers.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/chains/chains.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"

namespace dstest {

// A density with a hole: NaN wherever the first parameter exceeds `edge`, so samplers must record,
// reject and count divergences there instead of crashing.
class NanRegion : public ds::LogDensity {
 public:
  explicit NanRegion(std::shared_ptr<const ds::LogDensity> inner, double edge = 0.32)
      : inner_(std::move(inner)), edge_(edge) {}
  std::size_t dimension() const override { return inner_->dimension(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    inner_->evaluate(thetas, batch, values, gradients);
    for (std::size_t b = 0; b < batch; ++b)
      if (thetas[dimension() * b] > edge_) values[b] = std::numeric_limits<double>::quiet_NaN();
  }

 private:
  std::shared_ptr<const ds::LogDensity> inner_;
  double edge_;
};

inline std::string targets_file() {
  return testdata("goldens/hmc_targets_a.json");
}

// The entry of hmc_targets_a.json for one target.
inline nlohmann::json target_reference(const std::string& name) {
  std::ifstream in(targets_file());
  nlohmann::json doc;
  in >> doc;
  for (const auto& t : doc["targets"])
    if (t["name"] == name) return t;
  ADD_FAILURE() << "no target " << name << " in " << targets_file();
  return {};
}

// Wraps a density and counts calls and points (thread-safe: the lockstep executor calls from
// one thread at a time, but a test may not know that).
class CountingDensity : public ds::LogDensity {
 public:
  explicit CountingDensity(const ds::LogDensity& inner) : inner_(inner) {}
  std::size_t dimension() const override { return inner_.dimension(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    ++calls;
    points += batch;
    std::size_t m = max_batch.load();
    while (batch > m && !max_batch.compare_exchange_weak(m, batch)) {
    }
    inner_.evaluate(thetas, batch, values, gradients);
  }
  std::vector<std::string> names() const override { return inner_.names(); }
  std::vector<std::pair<double, double>> ranges() const override { return inner_.ranges(); }
  mutable std::atomic<std::size_t> calls{0}, points{0}, max_batch{0};

 private:
  const ds::LogDensity& inner_;
};

struct Moment {
  double mean = 0, sd = 0, mcse_mean = 0, mcse_sd = 0;
};

// Mean and sd of parameter p over all chains, with MCSEs: of the mean from the ESS of the
// draws, of the sd by the delta method from the MCSE of the mean of (x - mean)^2.
inline Moment moment(const ds::Chains& chains, std::size_t p) {
  const ds::ChainDraws x = ds::parameter_draws(chains, p);
  Moment m;
  for (double v : x.values) m.mean += v;
  m.mean /= double(x.values.size());
  ds::ChainDraws sq = x;
  double var = 0.0;
  for (double& v : sq.values) {
    v = (v - m.mean) * (v - m.mean);
    var += v;
  }
  var /= double(x.values.size());
  m.sd = std::sqrt(var);
  m.mcse_mean = ds::mcse_mean(x);
  m.mcse_sd = ds::mcse_mean(sq) / (2.0 * m.sd);
  return m;
}

// Expects mean and sd of every parameter within `k` MCSE of the reference, printing both.
inline void expect_moments(const ds::Chains& chains, const std::vector<double>& mean,
                           const std::vector<double>& sd, const std::string& what, double k = 3.0) {
  for (std::size_t p = 0; p < mean.size(); ++p) {
    const Moment m = moment(chains, p);
    const double z_mean = (m.mean - mean[p]) / m.mcse_mean;
    const double z_sd = (m.sd - sd[p]) / m.mcse_sd;
    std::printf(
        "  %-34s param %zu: mean %.6f (ref %.6f, mcse %.2e, z %+.2f)  sd %.6f (ref %.6f, "
        "mcse %.2e, z %+.2f)\n",
        what.c_str(), p, m.mean, mean[p], m.mcse_mean, z_mean, m.sd, sd[p], m.mcse_sd, z_sd);
    EXPECT_LT(std::abs(z_mean), k) << what << " param " << p << ": mean " << m.mean << " vs "
                                   << mean[p] << " (MCSE " << m.mcse_mean << ")";
    EXPECT_LT(std::abs(z_sd), k) << what << " param " << p << ": sd " << m.sd << " vs " << sd[p]
                                 << " (MCSE " << m.mcse_sd << ")";
  }
}

inline std::vector<double> json_vector(const nlohmann::json& j) {
  return j.get<std::vector<double>>();
}

}  // namespace dstest
