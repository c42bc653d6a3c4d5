// The model-based likelihood inputs shared by `vlb-grid`, `hmc`, `nuts` and `svi`: a diffusion
// model, one observed field, the truncated-VLB settings and optional observation noise; or, when
// the model file is a point-cloud model, one observed cloud (--cloud, or --field naming a cloud
// file) and the ELBO settings (--elbo-steps, --draws, --seed).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/diffusion/vlb.h"
#include "diffuscope/pointcloud/point_model.h"

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

struct ModelInput {
  ds::DiffusionModel2d model;
  ds::ObservedField field;  // model space, observation noise already added
  ds::VlbSettings settings;
  std::string description;  // one line naming the model, field and settings
};

// Loads the model and the field and resolves the settings. The VLB noise and the observation
// noise both derive from `seed` (separate streams). Throws ds::InvalidArgument / ds::FileError
// (also for --cloud: a 2D field model takes --field).
ModelInput load_model_input(const ModelInputOptions& o, std::uint64_t seed, ds::Device device,
                            const std::string& default_noise);

// True when --model names a point-cloud model (then use load_point_model_input).
bool is_point_model_input(const ModelInputOptions& o);

// One cloud of a file, physical units [n_points, F].
struct PointCloudInput {
  std::vector<float> values;
  std::int64_t n_points = 0;
  std::size_t index = 0;  // cloud of the file
};

// A cloud from .npy ([N, F] or [M, N, F], physical units) or an HDF5 Points dataset; index -1:
// the only cloud of the file. Throws ds::FileError naming the path and the problem (missing,
// 2D fields, wrong rank, F differing from `features`, index out of range).
PointCloudInput read_point_cloud(const std::string& path, long index, int features);

struct PointModelInput {
  std::shared_ptr<const ds::PointCloudModel> model;
  PointCloudInput cloud;
  std::string cloud_path;
  ds::PointElboSettings settings;
  std::string description;  // one line naming the model, cloud and settings
};

// The model, the cloud (--cloud, else --field) and the ELBO settings (S = --elbo-steps, K =
// --draws or 8, seed). Refuses the 2D-only options (--add-noise, --physical).
PointModelInput load_point_model_input(const ModelInputOptions& o, std::uint64_t seed,
                                       ds::Device device);

}  // namespace dscli
