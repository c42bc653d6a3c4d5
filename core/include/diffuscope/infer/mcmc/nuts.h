// The No-U-Turn sampler as Stan runs it: the trajectory doubles forwards or backwards in time
// (Hoffman & Gelman 2014) until the generalised no-U-turn criterion fails (Betancourt 2017,
// "A Conceptual Introduction to HMC", appendix A.4.2: p#_minus . rho > 0 and p#_plus . rho > 0 with
// rho the summed momenta and p# = M^-1 p; checked for every subtree and, as Stan does since 2.23,
// also across the two halves of each merge), the maximum tree depth is reached, or a divergence
// occurs. The draw is chosen by multinomial sampling: uniformly-progressive within a subtree,
// biased-progressive (favouring the new subtree) when a subtree joins the trajectory.
//
// Metric, leapfrog, boundary rule and warm-up adaptation as in infer/mcmc/hmc.h. A divergence is a
// NaN / +inf density or gradient or an energy error above max_energy_error (1000, Stan's): the
// subtree being built is discarded and the trajectory stops (the draw comes from the valid part).
// Reaching log p = -inf stops it the same way but is not flagged as a divergence.
//
// Batching: the tree of each chain is built by plain recursive code; with McmcRun::lockstep the
// chains run as cooperative tasks whose leapfrog evaluations are gathered into one LogDensity
// call per round (every chain still building its tree contributes its next point; chains whose
// tree is complete wait for the iteration to end). Trees differ, so later rounds hold fewer
// points; the results are identical to running the chains one after another.
#pragma once

#include <vector>

#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/mcmc/adaptation.h"
#include "diffuscope/infer/mcmc/mcmc.h"

namespace ds {

struct NutsSettings {
  McmcRun run;
  // Initial step size; 0 = Stan's heuristic (double or halve from 1 until the one-step
  // acceptance crosses 0.8) before warm-up.
  double step_size = 0.0;
  std::vector<double> inverse_mass;  // initial M^-1: empty (unit), D entries, or D*D
  bool adapt = true;
  AdaptationSettings adaptation;
  Boundary boundary = Boundary::Automatic;  // Reflect unless Reject is asked for (mcmc.h)
  int max_tree_depth = 10;                  // at most 2^10 - 1 leapfrog steps per transition
  double max_energy_error = 1000.0;
};

McmcResult sample_nuts(const LogDensity& density, const NutsSettings& settings,
                       const JobContext& job = {}, const McmcIterationCallback& on_iteration = {});

}  // namespace ds
