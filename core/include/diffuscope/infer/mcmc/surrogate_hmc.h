// Delayed-acceptance HMC on a surrogate (issue 15, item 3): exact posterior draws of a smooth,
// expensive log density of a few parameters (the diffusion model's VLB with common noise) for one
// exact evaluation per iteration per chain, value only, no gradient.
//
// Each transition draws a momentum p ~ N(0, M) and runs L leapfrog steps (L uniform in
// [min_leapfrog, max_leapfrog], step size uniform in (1 +- 0.2) step_size, walls of the support
// box reflecting) on a surrogate log p~ (surrogate.h) instead of the density, then
//   stage 1: accepts the end point with min(1, exp(H~(start) - H~(end)))   (free: surrogate only)
//   stage 2: evaluates the exact log p at the end point (value only) and accepts it with
//            min(1, exp([log p(end) - log p(start)] - [log p~(end) - log p~(start)])).
// For a FIXED surrogate this is Christen and Fox's (2005) delayed acceptance of a proposal that is
// reversible with respect to p~: the chain is reversible with respect to p, whatever the
// surrogate's errors; they cost acceptance, never exactness. A rejection at stage 1 costs no exact
// evaluation.
//
// The surrogate is fitted before and during warm-up only, then frozen, so the kept draws are exact:
//  1. design: the exact density (value only, one batched call per round) at the chains' starts and
//     at a central-composite design around the best point so far (+-h along each axis and each
//     pair of axes; h = 10% of the support box, or 1 where unbounded), then again around the
//     fitted mode at +-2 standard deviations along the fitted covariance's axes, up to
//     design_rounds rounds (fewer once the mode moves by less than a third of a standard
//     deviation);
//  2. warm-up: every exact evaluation joins the fit, refitted every refit_every iterations and at
//     the end of warm-up; the metric M^-1 is the fitted covariance (dense);
//  3. kept draws: surrogate and metric fixed.
// Chains advance in lockstep and their exact evaluations of one iteration are ONE density call
// (mcmc.h). Each chain draws from its own ds::Rng(seed, chain).
#pragma once

#include <cstddef>

#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/mcmc/mcmc.h"

namespace ds {

struct SurrogateHmcSettings {
  McmcRun run;
  // Surrogate trajectories: step size in units of the fitted posterior standard deviations (the
  // metric is the fitted covariance), L steps drawn uniformly in [min, max] per transition:
  // trajectories of 1.2-3.6 standard deviations reach far across the posterior.
  double step_size = 0.2;
  int min_leapfrog = 6;
  int max_leapfrog = 18;
  std::size_t design_rounds = 3;
  std::size_t refit_every = 5;  // warm-up iterations between refits
  double length_scale = 1.0;    // of the surrogate's Gaussian process, in standard deviations
  // Half-width of the first design round per parameter; empty: 10% of the support box's side
  // (1 where unbounded).
  std::vector<double> design_half_width;
};

// What the run measured beyond McmcResult (also written to the chains' settings JSON).
struct SurrogateHmcReport {
  std::size_t exact_evaluations = 0;  // starts + design + stage 2, warm-up included
  std::size_t design_evaluations = 0;
  std::size_t surrogate_points = 0;  // points of the final (frozen) surrogate
  // Over the kept transitions: passed stage 1; accepted at stage 2 among those that reached it.
  double stage1_acceptance = 0.0, stage2_acceptance = 0.0;
  std::vector<double> mode, covariance;  // of the frozen surrogate's quadratic
};

// Samples density (dimension D, finite values wherever it is defined, -inf outside its support).
// Reports progress, checks cancellation between iterations (throws Cancelled), streams every
// iteration. Throws InvalidArgument for bad settings, a start outside the support or with a
// non-finite log density, or a design that never gives enough finite evaluations to fit.
McmcResult sample_surrogate_hmc(const LogDensity& density, const SurrogateHmcSettings& settings,
                                const JobContext& job = {},
                                const McmcIterationCallback& on_iteration = {},
                                SurrogateHmcReport* report = nullptr);

}  // namespace ds
