#include "model_input.h"

#include <cstdio>
#include <filesystem>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/train/model_file.h"

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

ModelInput load_model_input(const ModelInputOptions& o, std::uint64_t seed, ds::Device device,
                            const std::string& default_noise) {
  if (o.model.empty()) throw ds::InvalidArgument("--model M is required with --field");
  if (!o.cloud.empty())
    throw ds::InvalidArgument("--cloud " + o.cloud + " is for point-cloud models; " + o.model +
                              " is a 2D field model (give --field)");
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
  in.settings.draws = o.draws > 0 ? o.draws : 1;
  in.settings.seed = seed;
  in.settings.max_batch = std::size_t(o.chunk);
  char line[160];
  std::snprintf(line, sizeof line, "truncated VLB, T_MAX %d, %s noise, K = %d%s", o.tmax,
                ds::kVlbNoiseModes.name(in.settings.noise), in.settings.draws,
                o.add_noise > 0.0 ? ", observation noise added" : "");
  in.description = std::string(line) + ", of field " + std::to_string(in.field.index) + " of " +
                   o.field + " under " + o.model;
  return in;
}

bool is_point_model_input(const ModelInputOptions& o) {
  return !o.model.empty() && ds::PointCloudModel::is_point_model(o.model);
}

namespace {

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::size_t pick_index(const std::string& path, long index, std::size_t count) {
  if (index < 0) {
    if (count != 1)
      throw ds::FileError(path,
                          "holds " + std::to_string(count) + " clouds; choose one with --index");
    return 0;
  }
  if (std::size_t(index) >= count)
    throw ds::FileError(path, "has no cloud " + std::to_string(index) + " (it holds " +
                                  std::to_string(count) + ")");
  return std::size_t(index);
}

}  // namespace

PointCloudInput read_point_cloud(const std::string& path, long index, int features) {
  if (!std::filesystem::exists(path)) throw ds::FileError(path, "does not exist");
  PointCloudInput in;
  std::size_t n = 0, f = 0;
  if (ds::is_hdf5_file(path)) {
    const ds::Dataset d = ds::read_dataset_hdf5(path);
    if (d.kind != ds::SampleKind::Points)
      throw ds::FileError(path,
                          "holds 2D fields, not point clouds (a point-cloud model needs a "
                          "cloud)");
    n = d.shape[1];
    f = d.shape[2];
    in.index = pick_index(path, index, d.count());
    in.values.assign(d.sample(in.index), d.sample(in.index) + n * f);
  } else {
    const ds::NpyArray a = ds::read_npy(path);
    if (a.shape.size() == 2) {
      n = a.shape[0];
      f = a.shape[1];
      in.index = pick_index(path, index, 1);
      in.values.assign(a.data.begin(), a.data.end());
    } else if (a.shape.size() == 3) {
      n = a.shape[1];
      f = a.shape[2];
      in.index = pick_index(path, index, a.shape[0]);
      const auto first = a.data.begin() + long(in.index * n * f);
      in.values.assign(first, first + long(n * f));
    } else {
      throw ds::FileError(path, "shape " + shape_text(a.shape) +
                                    " is not a cloud [N, F] or a "
                                    "stack of clouds [M, N, F]");
    }
  }
  if (f != std::size_t(features))
    throw ds::FileError(path, "clouds have " + std::to_string(f) +
                                  " features but the model takes " + std::to_string(features));
  if (n < 1) throw ds::FileError(path, "holds an empty cloud");
  in.n_points = std::int64_t(n);
  return in;
}

PointModelInput load_point_model_input(const ModelInputOptions& o, std::uint64_t seed,
                                       ds::Device device) {
  const std::string path = o.cloud.empty() ? o.field : o.cloud;
  if (path.empty())
    throw ds::InvalidArgument(o.model +
                              " is a point-cloud model: give --cloud FILE (the observed "
                              "cloud)");
  if (!o.cloud.empty() && !o.field.empty())
    throw ds::InvalidArgument("give the observed cloud once: --cloud or --field, not both");
  if (o.add_noise > 0.0)
    throw ds::InvalidArgument("--add-noise is for 2D field models; " + o.model +
                              " is a point-cloud model");
  if (o.physical)
    throw ds::InvalidArgument("--physical is for 2D field models (clouds are always physical)");
  PointModelInput in;
  in.model = std::make_shared<const ds::PointCloudModel>(
      ds::PointCloudModel::load(o.model, device, o.ema));
  in.cloud = read_point_cloud(path, o.index, in.model->features());
  in.cloud_path = path;
  in.settings.steps = o.elbo_steps;
  in.settings.draws = o.draws > 0 ? o.draws : 8;
  in.settings.seed = seed;
  char line[160];
  std::snprintf(line, sizeof line, "ELBO, S = %d steps, K = %d common draws (seed %llu)",
                in.settings.steps, in.settings.draws, static_cast<unsigned long long>(seed));
  in.description = std::string(line) + ", of cloud " + std::to_string(in.cloud.index) + " (" +
                   std::to_string(in.cloud.n_points) + " points) of " + path + " under " + o.model;
  return in;
}

}  // namespace dscli
