// How well an emulator's fields follow held-out mocks (issue 5, "good enough that its P(k)
// follows the mocks across the prior"): for every cosmology of a reference set with several
// fields per cosmology (a `single`, `cv` or `1p` set), draw fields from the model at those
// parameters and compare their P(k) with the mocks' by Diffusion-HMC's diagonal reduced chi^2
// (eq. 10: each generated field against the mocks' mean and scatter), next to the same statistic
// of each mock against the other mocks (leave-one-out) — what a perfect emulator would score.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/jobs/job.h"

namespace ds {

struct EmulatorCheckSettings {
  int samples = 16;  // generated fields per cosmology
  std::uint64_t seed = 0;
  DiffusionSamplerSettings sampler;  // DDIM 50 by default
};

struct EmulatorCheckRow {
  std::vector<double> theta;  // the cosmology (first P parameters of the reference set)
  int mocks = 0;              // reference fields at it
  int generated = 0;          // generated fields with finite values (of settings.samples)
  double chi2_generated = 0.0, chi2_generated_sd = 0.0;  // mean, sd of reduced chi^2
  double chi2_loo = 0.0, chi2_loo_sd = 0.0;              // the mocks' leave-one-out values
  std::vector<double> k;                                 // h/Mpc, bins up to Nyquist
  std::vector<double> ratio;        // mean generated P(k) / mean mock P(k) per bin
  std::vector<double> ratio_error;  // 1-sigma of that ratio from the mocks' scatter
};

// Throws InvalidArgument when the reference set has no cosmology with >= 3 fields, its fields do
// not fit the model, or it has fewer parameters than the model.
std::vector<EmulatorCheckRow> check_emulator_power(const DiffusionModel2d& model,
                                                   const Dataset& reference,
                                                   const EmulatorCheckSettings& settings,
                                                   const JobContext& job = {});

}  // namespace ds
