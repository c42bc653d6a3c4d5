// The model-based likelihood inputs shared by `vlb-grid`, `hmc`, `nuts`, `svi` and `posterior`:
// a model (ds::Model: a 2D field or a point-cloud model), its observation and the settings of its
// bound: the truncated VLB of a field with optional observation noise, or the ELBO of a cloud
// (--cloud, or --field naming a cloud file; --elbo-steps, --draws, --seed).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/model/model.h"

namespace dscli {

struct ModelInputOptions {
  std::string model, field, cloud;
  long index = -1;  // -1: the only field of the file
  bool physical = false, ema = false;
  int tmax = 20;
  std::string noise;  // "" = the command's default
  int draws = 0;      // 0: the default (1 VLB draw, 8 ELBO draws)
  double add_noise = 0.0;
  int elbo_steps = 50;  // S of a point-cloud model's ELBO
  int chunk = 0;        // VLB network rows per call; 0: automatic
};

// Registers --model, --field, --cloud, --physical, --ema, --tmax, --noise, the draws option
// (draws_flags, e.g. "--draws" or "--noise-draws"), --add-noise, --elbo-steps and --chunk; --index
// only when with_index.
void add_model_input_options(CLI::App* cmd, ModelInputOptions& o, const std::string& default_noise,
                             const std::string& draws_flags, bool with_index);

// A model and its likelihood on the observation: --field (or --cloud for a point-cloud model),
// --index, and the bound's settings. The VLB noise and the observation noise both derive from
// `seed` (separate streams). Throws ds::InvalidArgument / ds::FileError naming the problem.
struct LikelihoodInput {
  std::shared_ptr<const ds::Model> model;
  ds::ModelLikelihood likelihood;
};
LikelihoodInput load_likelihood_input(const ModelInputOptions& o, std::uint64_t seed,
                                      ds::Device device, const std::string& default_noise);

}  // namespace dscli
