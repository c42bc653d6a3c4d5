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
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_model.h"

namespace dscli {

namespace {

struct SampleOptions {
  std::string model, sampler = "ddim", out;
  double omega_m = 0.3, sigma_8 = 0.8, eta = 0.0, box = 25.0, clip = 0.0;
  int n = 16, steps = 50, res = 64, batch = 16, n_points = 0;
  std::uint64_t seed = 0;
  bool model_space = false, ema = false;
};

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string file_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Clouds from a point-cloud model: the options that only make sense for fields are refused.
int sample_points(SampleOptions o, const CLI::App& cmd, const GlobalOptions& options,
                  bool h5) {
  for (const char* flag : {"--res", "--eta", "--clip", "--batch", "--model-space", "--box-size"})
    if (cmd.count(flag))
      throw ds::InvalidArgument("sample: " + std::string(flag) + " is for 2D field models; " +
                                o.model + " is a point-cloud model");
  const auto model = ds::PointCloudModel::load(o.model, options.parsed_device(), o.ema);
  if (!cmd.count("--n-points")) {
    const int trained = model.training_points();
    o.n_points = trained > 0 ? trained : 5000;
  }
  if (o.n_points < 1)
    throw ds::InvalidArgument("sample: --n-points " + std::to_string(o.n_points) +
                              " must be at least 1");
  ds::PointSampleSettings settings;
  if (cmd.count("--sampler")) {
    if (o.sampler != "ancestral" && o.sampler != "ode")
      throw ds::InvalidArgument("sample: --sampler " + o.sampler +
                                " is not a point-cloud sampler (ancestral | ode)");
    settings.sampler =
        o.sampler == "ode" ? ds::PointSamplerKind::Ode : ds::PointSamplerKind::Ancestral;
  }
  settings.steps = cmd.count("--steps") ? o.steps : 100;
  settings.seed = cmd.count("--seed") ? o.seed : options.seed;
  const auto clouds = model.sample({o.omega_m, o.sigma_8}, o.n, o.n_points, settings, {},
                                   progress_context(options, "sample"));
  const auto& info = model.info();
  const std::vector<std::size_t> shape{std::size_t(o.n), std::size_t(o.n_points),
                                       std::size_t(model.features())};
  if (!h5) {
    ds::write_npy(o.out, shape, std::vector<double>(clouds.begin(), clouds.end()), true);
  } else {
    ds::Dataset d;
    d.kind = ds::SampleKind::Points;
    d.shape = shape;
    d.samples = clouds;
    d.param_names = {"Omega_m", "sigma_8"};
    for (int i = 0; i < o.n; ++i) d.params.insert(d.params.end(), {o.omega_m, o.sigma_8});
    d.feature_names = info.transform.feature_names;
    d.box_size = info.transform.box_size;
    d.set_kind = ds::SetKind::Single;
    d.source = "diffusion";
    d.generator = file_name(o.model);
    d.seed = settings.seed;
    d.units = "physical (positions Mpc/h, velocities km/s, masses log10 Msun/h)";
    ds::write_dataset_hdf5(o.out, d);
  }
  if (!options.quiet)
    std::fprintf(stderr, "wrote %d cloud(s) of %d points x %d features (%s, %d steps) to %s\n", o.n,
                 o.n_points, model.features(),
                 settings.sampler == ds::PointSamplerKind::Ode ? "ode" : "ancestral",
                 settings.steps, o.out.c_str());
  return 0;
}

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
                  "downsampling factor; the model's training size is best)")
      ->check(CLI::Range(4, 4096))
      ->capture_default_str();
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
  cmd->add_option("--box-size", o->box, "box side in Mpc/h recorded in .h5 output")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--ema", o->ema, "use the EMA weights of a PyTorch checkpoint");
  cmd->add_option("--out", o->out,
                  "output: .npy float32 [n, N, N] (clouds: [n, N, F]) or .h5 dataset")
      ->required();

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    const bool h5 = has_suffix(o->out, ".h5") || has_suffix(o->out, ".hdf5");
    if (!h5 && !has_suffix(o->out, ".npy"))
      throw ds::InvalidArgument("sample: --out " + o->out + " must end in .npy, .h5 or .hdf5");
    apply_global_options(options);
    if (ds::PointCloudModel::is_point_model(o->model)) return sample_points(*o, *cmd, options, h5);
    if (cmd->count("--n-points"))
      throw ds::InvalidArgument("sample: --n-points is for point-cloud models; " + o->model +
                                " is not one");
    const auto model = ds::DiffusionModel2d::load(o->model, options.parsed_device(), o->ema);
    if (model.parameter_count() != 2)
      throw ds::InvalidArgument("sample: " + o->model + " takes " +
                                std::to_string(model.parameter_count()) +
                                " parameters, not (Omega_m, sigma_8)");
    ds::FieldSampleRequest request;
    request.thetas = {o->omega_m, o->sigma_8};
    request.per_theta = o->n;
    request.n = o->res;
    request.seed = cmd->count("--seed") ? o->seed : options.seed;
    request.physical = !o->model_space;
    request.sampler.kind = ds::kDiffusionSamplers.from_string(o->sampler);
    request.sampler.steps = o->steps;
    request.sampler.eta = o->eta;
    request.sampler.clip_x0 = o->clip;
    request.sampler.max_batch = std::size_t(o->batch);
    const auto fields = ds::sample_fields(model, request, {}, progress_context(options, "sample"));

    // A model-space value beyond ~8.6 overflows float32 after log10-minmax: say so rather than
    // write infinities (an untrained or diverged model; --model-space shows the raw values).
    std::size_t overflow = 0;
    for (float v : fields) overflow += std::isfinite(v) ? 0 : 1;
    if (overflow > 0)
      throw ds::InvalidArgument("sample: " + std::to_string(overflow) + " of " +
                                std::to_string(fields.size()) +
                                " values are not finite in physical units (the model's fields "
                                "leave the transform's range; see them with --model-space)");
    const int c = model.channels();
    std::vector<std::size_t> shape{std::size_t(o->n), std::size_t(o->res), std::size_t(o->res)};
    if (c != 1) shape.insert(shape.begin() + 1, std::size_t(c));
    if (!h5) {
      ds::write_npy(o->out, shape, std::vector<double>(fields.begin(), fields.end()), true);
    } else {
      if (c != 1) throw ds::InvalidArgument("sample: .h5 datasets hold one channel per field");
      ds::Dataset d;
      d.kind = ds::SampleKind::Fields;
      d.shape = shape;
      d.samples = fields;
      d.param_names = {"Omega_m", "sigma_8"};
      for (int i = 0; i < o->n; ++i) d.params.insert(d.params.end(), {o->omega_m, o->sigma_8});
      d.box_size = o->box;
      d.set_kind = ds::SetKind::Single;
      d.source = "diffusion";
      d.generator = file_name(o->model);
      d.seed = request.seed;
      d.units = o->model_space ? "model space (" + model.transform.describe() + ")"
                               : "physical (inverse of " + model.transform.describe() + ")";
      ds::write_dataset_hdf5(o->out, d);
    }
    if (!options.quiet)
      std::fprintf(stderr, "wrote %d field(s) %dx%d (%s, %s) to %s\n", o->n, o->res, o->res,
                   o->sampler.c_str(), o->model_space ? "model space" : "physical units",
                   o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
