#include "infer/inference_bench.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "diffuscope/infer/diagnostics.h"
#include "diffuscope/infer/exact_grf.h"
#include "diffuscope/infer/hmc.h"
#include "diffuscope/infer/nuts.h"
#include "diffuscope/mock/gaussian_field.h"

namespace ds {

namespace {

// Seconds per effective sample of a run, with the per-parameter figures in the note.
BenchMeasurement per_effective_sample(const std::string& name, const McmcResult& r) {
  const double ess_om = ess_bulk(parameter_draws(r.chains, 0));
  const double ess_s8 = ess_bulk(parameter_draws(r.chains, 1));
  const double ess = std::min(ess_om, ess_s8);
  BenchMeasurement m;
  m.name = name;
  m.repetitions = 1;
  m.seconds = r.seconds / std::max(ess, 1e-9);
  char note[320];
  std::snprintf(note, sizeof note,
                "wall %.2f s, %zu kept draws, %llu density points; bulk ESS Omega_m %.1f "
                "(%.2f /s), sigma_8 %.1f (%.2f /s); seconds per effective sample of the worse",
                r.seconds, r.chains.chains * r.chains.draws,
                static_cast<unsigned long long>(r.density_points), ess_om, ess_om / r.seconds,
                ess_s8, ess_s8 / r.seconds);
  m.note = note;
  return m;
}

}  // namespace

BenchSuiteResult run_inference_bench(const JobContext& job) {
  BenchSuiteResult result{
      "inference", "Published HMC vs adapted NUTS on the exact GRF posterior of a 64^2 mock", {}};
  GrfSettings settings;
  settings.n = 64;
  settings.box_size = 1000.0;
  const auto posterior = exact_grf_posterior(
      std::make_shared<const GrfLikelihood>(cosmological_grf_2d(Cosmology{}, settings, 606)));

  job.report(0, 2, "HMC, published configuration");
  HmcSettings hmc;  // defaults: step 5e-4, 5 leapfrog steps, inverse mass diag(1, 5)
  hmc.run.chains = 4;
  hmc.run.warmup = 100;
  hmc.run.draws = 200;
  hmc.run.starts = {{0.3, 0.8}};
  hmc.run.seed = 1;
  const McmcResult a = sample_hmc(*posterior, hmc);
  BenchMeasurement published = per_effective_sample("hmc_published/exact_grf_64", a);
  published.note += "; the reference";
  result.measurements.push_back(published);

  job.check_cancelled();
  job.report(1, 2, "NUTS with adaptation");
  NutsSettings nuts;
  nuts.run = hmc.run;
  nuts.run.warmup = 200;
  nuts.run.draws = 300;
  const McmcResult b = sample_nuts(*posterior, nuts);
  BenchMeasurement adapted = per_effective_sample("nuts_adapted/exact_grf_64", b);
  adapted.target_ratio = 0.1;
  result.measurements.push_back(adapted);

  for (auto& m : result.measurements) {
    m.reference = result.measurements.front().name;
    m.ratio = m.seconds / result.measurements.front().seconds;
  }
  char note[96];
  std::snprintf(note, sizeof note, "; ESS per second %.1fx the published HMC (target >= 10x)",
                1.0 / result.measurements.back().ratio);
  result.measurements.back().note += note;
  job.report(2, 2, "done");
  return result;
}

}  // namespace ds
