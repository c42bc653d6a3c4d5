// Stochastic variational inference with a full-rank Gaussian, as the point-cloud paper fits its
// posteriors: q(eta) = N(mu, L L^T) (L lower triangular, positive diagonal) maximises
// ELBO = E_q[log p(theta(eta)) + log|d theta / d eta|] + H[q] by the reparameterisation
// eta = mu + L z, z ~ N(0, I), K draws of z per step evaluated in ONE LogDensity call, and Adam.
//
// eta are unconstrained coordinates (ADVI, Kucukelbir et al. 2017): a parameter with a finite
// range (the prior box of LogDensity::ranges()) is theta = lo + (hi - lo) sigmoid(eta), any other
// theta = eta. So q never puts mass outside the prior box (dropping such draws instead lets the
// entropy inflate q until it leaves the support), and for a posterior well inside the box q is
// close to a Gaussian in theta. For unbounded densities q is exactly N(mu, L L^T) in theta.
//
// The draws come in antithetic pairs (z, -z), K rounded up to even: for a Gaussian target the
// pair's mean gradient is exact, and near-Gaussian posteriors keep most of that noise reduction.
// Adam runs in standardised coordinates u = (eta - eta(start)) / scale (scale = the initial sd,
// mapped to eta), where its step means the same whatever the units (Omega_m has a posterior sd
// ~0.01); this changes the ELBO by a constant only. The learning rate decays geometrically from
// learning_rate to learning_rate * final_learning_rate_fraction. Draws whose log density is
// still not finite (a density with holes) carry no gradient: left out of the average, counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/chains/chains.h"
#include "diffuscope/jobs/job.h"

namespace ds {

struct SviSettings {
  std::vector<double> start;  // initial mean in theta, D entries (required; inside the box)
  // Initial sd per parameter; empty: 5% of |start| (0.05 at 0), the order of cosmological
  // posterior widths. On the correlated Gaussian 1% needed 3000 steps, 5% converges in 1500.
  std::vector<double> initial_scale;
  std::size_t steps = 2000;
  std::size_t samples_per_step = 16;  // K (rounded up to even: antithetic pairs)
  double learning_rate = 0.05;
  double final_learning_rate_fraction = 0.01;
  // Adam. beta2 = 0.99 rather than the usual 0.999: the ELBO gradient shrinks by orders of
  // magnitude as q converges, and a long memory of early squared gradients stalls the last
  // approach of the mean (on the correlated Gaussian: 0.28 sd short after 3000 steps).
  double beta1 = 0.9, beta2 = 0.99, epsilon = 1e-8;
  std::size_t draws = 1000;  // draws from the fitted q returned as a chain
  std::uint64_t seed = 0;
};

// Reported every `report_every` steps to the partial-result callback (live ELBO plots).
struct SviProgress {
  std::size_t step = 0;
  double elbo = 0.0;  // Monte Carlo estimate over the step's K draws, up to log-normaliser
  std::vector<double> mean;
};

struct SviResult {
  // q in the unconstrained coordinates eta (equal to theta for unbounded parameters).
  std::vector<double> unconstrained_mean;      // mu, D
  std::vector<double> unconstrained_cholesky;  // L, [D, D] row-major, lower
  // Mean and covariance of theta under q: exact (mu, L L^T) when no parameter is bounded, else
  // estimated from the returned draws.
  std::vector<double> mean;          // D
  std::vector<double> covariance;    // [D, D] row-major
  std::vector<double> elbo;          // per step, including the log-Jacobian
  std::size_t rejected_samples = 0;  // draws of z with a non-finite log density
  std::uint64_t density_calls = 0;
  Chains chains;  // `draws` draws of q: sampler "svi", 1 chain, lp filled
};

// Throws InvalidArgument for bad settings (sizes, non-positive scale), a start with a non-finite
// density or on the edge of a bounded range, or when every draw of a step has a non-finite
// density.
SviResult fit_svi(const LogDensity& density, const SviSettings& settings,
                  const JobContext& job = {},
                  const PartialResultCallback<SviProgress>& on_progress = {},
                  std::size_t report_every = 50);

}  // namespace ds
