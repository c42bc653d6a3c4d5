// diffuscope-cli train --data D.h5 --config C.json --out M.h5 [--resume] [--device cuda]
// [--steps N]: trains a conditional diffusion model and checkpoints it (HDF5): a 2D field model
// (U-Net, DDPM) for a dataset of fields, a point-cloud model (GNN/transformer, VDM) for a dataset
// of point clouds. Ctrl-C checkpoints the current step; --resume continues exactly where a run
// stopped. Under a launcher (torchrun-style RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, or
// srun's SLURM_PROCID / SLURM_NTASKS) every rank runs this command and they train data-parallel
// (diffuscope/train/distributed.h); only rank 0 prints, logs and writes --out.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands/commands.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/error.h"
#include "diffuscope/train/distributed.h"
#include "diffuscope/train/point_trainer.h"
#include "diffuscope/train/trainer.h"

namespace dscli {

namespace {

struct TrainOptions {
  std::string data, config, out;
  bool resume = false;
  long long steps = -1;
  double dist_timeout = 60.0;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ds::FileError(path, "cannot be opened (missing or unreadable)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The config for the data: without --config the defaults of the data's modality; a config
// without "modality" takes the data's; one naming the other modality is an error.
ds::TrainConfig config_for(const TrainOptions& o, bool points) {
  if (o.config.empty()) return points ? ds::TrainConfig::points_default() : ds::TrainConfig();
  const std::string text = read_text(o.config);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object() && !j.contains("modality") && points) {
    auto with_modality = j;
    with_modality["modality"] = "points";
    return ds::TrainConfig::from_json(with_modality.dump(), o.config);
  }
  ds::TrainConfig config = ds::TrainConfig::from_json(text, o.config);
  const bool config_points = config.modality == ds::TrainModality::Points;
  if (config_points != points)
    throw ds::InvalidArgument(o.config + ": \"modality\" is \"" +
                              (config_points ? "points" : "fields") + "\" but " + o.data +
                              " holds " + (points ? "point clouds" : "2D fields"));
  return config;
}

}  // namespace

Action add_train_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "train a conditional diffusion model on a dataset (HDF5 checkpoints): 2D fields -> U-Net "
      "DDPM, point clouds -> point-cloud VDM (GNN or transformer)");
  cmd->add_option("--data", o->data,
                  "HDF5 dataset of fields [M, N, N] or point clouds [M, N, F] with /params")
      ->required();
  cmd->add_option("--config", o->config,
                  "training config JSON (see README; \"{}\" trains the CPU default); without "
                  "it the defaults of the data's modality are used (point clouds: the published "
                  "settings); \"modality\" defaults to the data's");
  cmd->add_option("--out", o->out, "checkpoint .h5, rewritten atomically during training")
      ->required();
  cmd->add_flag("--resume", o->resume,
                "continue from --out (same data and architecture) exactly where it stopped");
  cmd->add_option("--steps", o->steps, "train until this total number of steps (overrides config)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dist-timeout", o->dist_timeout,
                  "data-parallel runs: seconds a rank waits for the others (rendezvous and every "
                  "all-reduce) before it fails; a dead rank stops the rest within this time")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    ds::TrainRequest request;
    request.distributed.launcher = ds::read_launcher_environment();
    request.distributed.timeout_seconds = o->dist_timeout;
    const int rank = request.distributed.launcher.rank;
    request.data_path = o->data;
    auto data = std::make_shared<ds::Dataset>(ds::read_dataset_hdf5(o->data));
    const bool points = data->kind == ds::SampleKind::Points;
    request.data = std::move(data);
    request.config = config_for(*o, points);
    request.out_path = o->out;
    request.resume = o->resume;
    request.device = options.parsed_device();
    request.steps = o->steps;
    GlobalOptions rank_options = options;
    rank_options.quiet = options.quiet || rank != 0;  // one voice: rank 0's
    const bool quiet = rank_options.quiet;
    const ds::TrainLog log = [quiet](const std::string& line) {
      if (!quiet) std::fprintf(stderr, "\n%s\n", line.c_str());
    };
    const auto job = progress_context(rank_options, "train");
    const auto summary = points ? ds::train_point_model(request, job, log)
                                : ds::train_field_model(request, job, log);
    if (rank != 0) return 0;
    std::printf(
        "trained steps %lld..%lld in %.1f s; loss %.5f (first %lld-step mean) -> %.5f "
        "(last)\n",
        static_cast<long long>(summary.start_step), static_cast<long long>(summary.end_step),
        summary.seconds, summary.first_loss, static_cast<long long>(request.config.log_every),
        summary.last_loss);
    if (!summary.validations.empty() && points)
      std::printf("validation loss per point at step %lld: %.5f +- %.4f\n",
                  static_cast<long long>(summary.validations.back().step),
                  summary.validations.back().reduced_chi2, summary.validations.back().spread);
    else if (!summary.validations.empty())
      std::printf("validation P(k) reduced chi^2 at step %lld: %.3f +- %.3f\n",
                  static_cast<long long>(summary.validations.back().step),
                  summary.validations.back().reduced_chi2, summary.validations.back().spread);
    std::printf("checkpoint: %s\n", o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
