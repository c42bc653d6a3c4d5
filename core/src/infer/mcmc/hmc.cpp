#include "diffuscope/infer/mcmc/hmc.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/error.h"
#include "infer/mcmc/hamiltonian.h"

namespace ds {

namespace {

using detail::ChainState;
using detail::PointEvaluator;
using detail::StepStatus;

// One static-HMC transition (see hmc.h for the conventions).
Transition hmc_transition(ChainState& chain, PointEvaluator& evaluate, int leapfrog_steps,
                          double step_jitter, double max_energy_error) {
  PhasePoint z = chain.z;
  chain.metric.sample_momentum(chain.rng, z.momentum.data());
  const double h0 = hamiltonian(z, chain.metric);
  StepStatus status = StepStatus::Ok;
  int steps = 0;
  // A jittered step (uniform in (1 +- jitter) eps) varies the trajectory length, so no orbit is
  // periodic under a fixed length (Neal 2011, sec. 5.4.2.2); drawn only when jitter > 0, so the
  // published configuration's random stream is unchanged.
  const double eps = step_jitter > 0.0
                         ? chain.step_size * (1.0 + step_jitter * (2.0 * chain.rng.uniform() - 1.0))
                         : chain.step_size;
  while (steps < leapfrog_steps && status == StepStatus::Ok) {
    status = detail::leapfrog_step(evaluate, chain.metric, eps, z, chain.walls);
    ++steps;
  }
  Transition t;
  t.step_size = eps;
  t.n_steps = steps;
  double h1 = std::numeric_limits<double>::quiet_NaN();
  if (status == StepStatus::Ok)
    h1 = hamiltonian(z, chain.metric);
  else if (status == StepStatus::LeftSupport)
    h1 = std::numeric_limits<double>::infinity();
  t.energy_error = h1 - h0;
  t.left_support = status == StepStatus::LeftSupport;
  t.diverging = status == StepStatus::Divergent ||
                (status == StepStatus::Ok && !(t.energy_error <= max_energy_error));
  const bool valid = status == StepStatus::Ok && !t.diverging;
  t.acceptance_rate = valid ? std::min(1.0, std::exp(-t.energy_error)) : 0.0;
  // Always draw the uniform, so a chain's random stream does not depend on what happened.
  const bool accept = chain.rng.uniform() < t.acceptance_rate;
  if (accept) chain.z = z;
  t.energy = accept ? h1 : h0;
  t.position = chain.z.position;
  t.lp = chain.z.log_density;
  return t;
}

}  // namespace

McmcResult sample_hmc(const LogDensity& density, const HmcSettings& settings, const JobContext& job,
                      const McmcIterationCallback& on_iteration) {
  if (settings.leapfrog_steps < 1)
    throw InvalidArgument("HMC needs at least one leapfrog step, got " +
                          std::to_string(settings.leapfrog_steps));
  if (!(settings.step_size > 0.0) || !std::isfinite(settings.step_size))
    throw InvalidArgument("HMC step size " + std::to_string(settings.step_size) +
                          " must be positive and finite");
  if (!(settings.step_jitter < 1.0) || std::isnan(settings.step_jitter))
    throw InvalidArgument("HMC step jitter " + std::to_string(settings.step_jitter) +
                          " must be below 1 (negative: automatic)");
  detail::DriverSettings driver;
  driver.run = settings.run;
  driver.inverse_mass = settings.inverse_mass;
  driver.step_size = settings.step_size;
  driver.adapt = settings.adapt;
  // With adaptation, Stan's heuristic replaces the given step size as the starting point of the
  // search; without, the given step is used as is (the published configuration).
  driver.find_initial_step = settings.adapt;
  driver.adaptation = settings.adaptation;
  driver.reflect = settings.boundary == Boundary::Reflect ||
                   (settings.boundary == Boundary::Automatic && settings.adapt);
  driver.sampler = "hmc";
  const nlohmann::json config = {{"step_size", settings.step_size},
                                 {"leapfrog_steps", settings.leapfrog_steps},
                                 {"step_jitter", settings.step_jitter >= 0.0 ? settings.step_jitter
                                                 : settings.adapt            ? kAdaptedStepJitter
                                                                             : 0.0},
                                 {"max_energy_error", settings.max_energy_error},
                                 {"momentum", "p ~ N(0, M), K = p^T M^-1 p / 2"}};
  driver.settings_json = config.dump();
  const int steps = settings.leapfrog_steps;
  const double jitter = settings.step_jitter >= 0.0 ? settings.step_jitter
                        : settings.adapt            ? kAdaptedStepJitter
                                                    : 0.0;
  const double max_error = settings.max_energy_error;
  return detail::run_hamiltonian_chains(
      density, driver,
      [steps, jitter, max_error](ChainState& chain, PointEvaluator& evaluate) {
        return hmc_transition(chain, evaluate, steps, jitter, max_error);
      },
      job, on_iteration);
}

}  // namespace ds
