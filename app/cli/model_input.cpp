#include "model_input.h"

#include <cstdio>
#include <filesystem>

#include "diffuscope/error.h"

namespace dscli {

void add_model_input_options(CLI::App* cmd, ModelInputOptions& o, const std::string& default_noise,
                             const std::string& draws_flags, bool with_index) {
  cmd->add_option("--model", o.model,
                  "M: a diffusion model (Diffuscope .h5, Diffusion-HMC .pt checkpoint or "
                  "TorchScript); the likelihood is its truncated VLB on --field");
  cmd->add_option("--field", o.field,
                  "FILE: the observed field for --model: .npy [N,N], [M,N,N] or [M,1,N,N] in "
                  "model space (see --physical) or an HDF5 dataset (physical units)");
  if (with_index)
    cmd->add_option("--index", o.index, "field of a stack to use (default: the only one)")
        ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--physical", o.physical,
                "the .npy field is in physical units: apply the model's transform first");
  cmd->add_flag("--ema", o.ema, "use the EMA weights of a PyTorch checkpoint");
  cmd->add_option("--tmax", o.tmax, "T_MAX: VLB terms t = 0 .. T_MAX - 1 (default 20)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--noise", o.noise,
                  "VLB noise: fresh (new noise at every evaluation, as published) or common (K "
                  "fixed draws: a smooth deterministic likelihood); seeded by --seed; default " +
                      default_noise)
      ->check(CLI::IsMember(ds::kVlbNoiseModes.names()));
  cmd->add_option(draws_flags, o.draws,
                  "K: VLB noise draws per evaluation, terms averaged over them (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--add-noise", o.add_noise,
                  "SIGMA: noise-robustness check: add seeded N(0, SIGMA) to log10 of the "
                  "(positive) field before the likelihood, i.e. SIGMA * 2 / (hi - lo) in model "
                  "space for a log10-minmax transform; for an affine transform SIGMA is in the "
                  "field's physical units (the paper: 0.01, 0.02, 0.05)")
      ->check(CLI::NonNegativeNumber);
}

ModelInput load_model_input(const ModelInputOptions& o, std::uint64_t seed, ds::Device device,
                            const std::string& default_noise) {
  if (o.model.empty()) throw ds::InvalidArgument("--model M is required with --field");
  if (o.field.empty()) throw ds::InvalidArgument("--model needs --field FILE (the observed field)");
  if (!std::filesystem::exists(o.field)) throw ds::FileError(o.field, "does not exist");
  ModelInput in{ds::DiffusionModel2d::load(o.model, device, o.ema), {}, {}, {}};
  if (in.model.parameter_count() != 2)
    throw ds::InvalidArgument(o.model + ": the model takes " +
                              std::to_string(in.model.parameter_count()) +
                              " parameters; the likelihood needs (Omega_m, sigma_8)");
  in.field = ds::load_observed_field(o.field, in.model, o.index, o.physical);
  ds::add_observation_noise(in.field.values, in.model.transform, o.add_noise, seed);
  in.settings.t_max = o.tmax;
  in.settings.noise = ds::kVlbNoiseModes.from_string(o.noise.empty() ? default_noise : o.noise);
  in.settings.draws = o.draws;
  in.settings.seed = seed;
  char line[160];
  std::snprintf(line, sizeof line, "truncated VLB, T_MAX %d, %s noise, K = %d%s", o.tmax,
                ds::kVlbNoiseModes.name(in.settings.noise), o.draws,
                o.add_noise > 0.0 ? ", observation noise added" : "");
  in.description = std::string(line) + ", of field " + std::to_string(in.field.index) + " of " +
                   o.field + " under " + o.model;
  return in;
}

}  // namespace dscli
