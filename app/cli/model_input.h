// The model-based likelihood inputs shared by `vlb-grid`, `hmc`, `nuts` and `svi`: a diffusion
// model, one observed field, the truncated-VLB settings and optional observation noise.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/diffusion/vlb.h"

namespace dscli {

struct ModelInputOptions {
  std::string model, field;
  long index = -1;  // -1: the only field of the file
  bool physical = false, ema = false;
  int tmax = 20;
  std::string noise;  // "" = the command's default
  int draws = 1;
  double add_noise = 0.0;
};

// Registers --model, --field, --physical, --ema, --tmax, --noise, the draws option (draws_flags,
// e.g. "--draws" or "--noise-draws") and --add-noise; --index only when with_index.
void add_model_input_options(CLI::App* cmd, ModelInputOptions& o, const std::string& default_noise,
                             const std::string& draws_flags, bool with_index);

struct ModelInput {
  ds::DiffusionModel2d model;
  ds::ObservedField field;  // model space, observation noise already added
  ds::VlbSettings settings;
  std::string description;  // one line naming the model, field and settings
};

// Loads the model and the field and resolves the settings. The VLB noise and the observation
// noise both derive from `seed` (separate streams). Throws ds::InvalidArgument / ds::FileError.
ModelInput load_model_input(const ModelInputOptions& o, std::uint64_t seed, ds::Device device,
                            const std::string& default_noise);

}  // namespace dscli
