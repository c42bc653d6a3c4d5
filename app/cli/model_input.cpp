#include "model_input.h"

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
  cmd->add_option("--cloud", o.cloud,
                  "FILE: the observed point cloud for a point-cloud --model (its ELBO is the "
                  "likelihood): .npy [N,F] or [M,N,F] or an HDF5 Points dataset, physical units");
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
                  "K: VLB noise draws per evaluation, terms averaged over them (default 1); for a "
                  "point-cloud model the ELBO's common noise draws (default 8)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--add-noise", o.add_noise,
                  "SIGMA: noise-robustness check: add seeded N(0, SIGMA) to log10 of the "
                  "(positive) field before the likelihood, i.e. SIGMA * 2 / (hi - lo) in model "
                  "space for a log10-minmax transform; for an affine transform SIGMA is in the "
                  "field's physical units (the paper: 0.01, 0.02, 0.05)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--elbo-steps", o.elbo_steps,
                  "S: Riemann steps of a point-cloud model's ELBO (default 50, as published)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--chunk", o.chunk,
                  "ROWS: images per network call of the VLB (grid points x draws x T_MAX rows "
                  "are cut into chunks; results do not depend on it); default: automatic")
      ->check(CLI::NonNegativeNumber);
}

LikelihoodInput load_likelihood_input(const ModelInputOptions& o, std::uint64_t seed,
                                      ds::Device device, const std::string& default_noise) {
  if (o.model.empty()) throw ds::InvalidArgument("--model M is required with --field");
  if (!o.cloud.empty() && !o.field.empty())
    throw ds::InvalidArgument("give the observation once: --field or --cloud, not both");
  LikelihoodInput in;
  in.model = ds::Model::load(o.model, device, o.ema);
  ds::LikelihoodSettings s;
  s.observation = o.cloud.empty() ? o.field : o.cloud;
  s.observation_is_cloud = !o.cloud.empty();
  s.index = o.index;
  s.physical = o.physical;
  s.added_noise = o.add_noise;
  s.seed = seed;
  s.t_max = o.tmax;
  s.noise = ds::kVlbNoiseModes.from_string(o.noise.empty() ? default_noise : o.noise);
  s.chunk = std::size_t(o.chunk);
  s.draws = o.draws;
  s.elbo_steps = o.elbo_steps;
  in.likelihood = in.model->likelihood(s);
  return in;
}

}  // namespace dscli
