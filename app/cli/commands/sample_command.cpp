// diffuscope-cli sample --model M --omega-m 0.3 --sigma-8 0.8 --n 16 --sampler ddim --steps 50
// --seed 1 --out S.npy|S.h5: fields drawn from a diffusion model, in physical units. For a
// point-cloud model (the model file decides): --n clouds of --n-points halos, --sampler
// ancestral|ode, .npy (n, N, F) float32 or an .h5 Points dataset.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/model/model.h"
#include "diffuscope/registries.h"
#include "diffuscope/text.h"

namespace dscli {

namespace {

struct SampleOptions {
  std::string model, sampler = "ddim", out;
  double omega_m = 0.3, sigma_8 = 0.8, eta = 0.0, box = ds::kDefaultFieldBoxSize, clip = 0.0;
  int n = 16, steps = 50, res = 64, batch = 16, n_points = 0;
  std::uint64_t seed = 0;
  bool model_space = false, ema = false;
};

}  // namespace

Action add_sample_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sample",
      "draw 2D fields or halo point clouds from a diffusion model at given (Omega_m, sigma_8)");
  cmd->add_option("--model", o->model,
                  "model file: Diffuscope .h5 (2D field or point-cloud model), Diffusion-HMC .pt "
                  "checkpoint or TorchScript")
      ->required();
  cmd->add_option("--omega-m", o->omega_m, "Omega_m (the model's range: [0.1, 0.5])")
      ->capture_default_str();
  cmd->add_option("--sigma-8", o->sigma_8, "sigma_8 (the model's range: [0.6, 1.0])")
      ->capture_default_str();
  cmd->add_option("--n", o->n, "number of fields (or point clouds)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--res", o->res,
                  "pixels per side (the U-Net is resolution-agnostic: a multiple of its "
                  "downsampling factor; default and best: the model's training size when its "
                  "file records it, else 64)")
      ->check(CLI::Range(4, 4096));
  cmd->add_option("--n-points", o->n_points,
                  "points per cloud of a point-cloud model (default: the model's training count "
                  "from its /config, else 5000 as published)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sampler", o->sampler,
                  "sampler: " + ds::kDiffusionSamplers.joined_names(" | ") +
                      " (ancestral takes all T steps and ignores --steps); point clouds: "
                      "ancestral (default) | ode")
      ->check(CLI::IsMember(ds::kDiffusionSamplers.names()))
      ->capture_default_str();
  cmd->add_option("--steps", o->steps,
                  "noise levels of ddim / ode (ode: 2 steps - 1 network calls); point clouds: "
                  "steps of either sampler (default 100)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--eta", o->eta, "DDIM stochasticity: 0 deterministic, 1 ancestral-like")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--clip", o->clip,
                  "clamp the predicted x0 to [-CLIP, CLIP] in model space at every step "
                  "(ancestral/ddim; 1 = the range of a min-max transform; default 0: off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed, "noise seed (default: the global --seed)");
  cmd->add_option("--batch", o->batch, "fields per network call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--model-space", o->model_space,
                "write model-space fields (skip the inverse transform to physical units)");
  cmd->add_option("--box-size", o->box,
                  "box side in Mpc/h recorded in .h5 output (default: the model's, else 25)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--ema", o->ema, "use the EMA weights of a PyTorch checkpoint");
  cmd->add_option("--out", o->out,
                  "output: .npy float32 [n, N, N] (clouds: [n, N, F]) or .h5 dataset")
      ->required();

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    const bool h5 = ds::ends_with(o->out, ".h5") || ds::ends_with(o->out, ".hdf5");
    if (!h5 && !ds::ends_with(o->out, ".npy"))
      throw ds::InvalidArgument("sample: --out " + o->out + " must end in .npy, .h5 or .hdf5");
    apply_global_options(options);
    const auto model = ds::Model::load(o->model, options.parsed_device(), o->ema);
    // Options a kind does not take are passed only when given, and refused by the other kind.
    ds::ModelSampleSettings settings;
    if (cmd->count("--sampler")) settings.sampler = o->sampler;
    if (cmd->count("--steps")) settings.steps = o->steps;
    settings.seed = cmd->count("--seed") ? o->seed : options.seed;
    if (cmd->count("--res")) settings.resolution = o->res;
    if (cmd->count("--n-points")) settings.points = o->n_points;
    if (cmd->count("--eta")) settings.eta = o->eta;
    if (cmd->count("--clip")) settings.clip = o->clip;
    if (cmd->count("--batch")) settings.batch = std::size_t(o->batch);
    if (cmd->count("--box-size")) settings.box_size = o->box;
    settings.model_space = o->model_space;
    const ds::ModelSamples samples = model->sample({o->omega_m, o->sigma_8}, o->n, settings,
                                                   progress_context(options, "sample"));
    const ds::Dataset& d = samples.data;
    if (!h5) {
      ds::write_npy(o->out, d.shape, std::vector<double>(d.samples.begin(), d.samples.end()), true);
    } else {
      if (d.shape.size() != 3)
        throw ds::InvalidArgument("sample: .h5 datasets hold one channel per field");
      ds::write_dataset_hdf5(o->out, d);
    }
    if (!options.quiet)
      std::fprintf(stderr, "wrote %s to %s\n", samples.summary.c_str(), o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
