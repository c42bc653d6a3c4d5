// diffuscope-cli train --data D.h5 --config C.json --out M.h5 [--resume] [--device cuda]
// [--steps N]: trains a conditional 2D diffusion model and checkpoints it (HDF5). Ctrl-C
// checkpoints the current step; --resume continues exactly where a run stopped.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "commands/commands.h"
#include "diffuscope/error.h"
#include "diffuscope/train/trainer.h"

namespace dscli {

namespace {

struct TrainOptions {
  std::string data, config, out;
  bool resume = false;
  long long steps = -1;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ds::FileError(path, "cannot be opened (missing or unreadable)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Action add_train_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train", "train a conditional 2D diffusion model on a field dataset (HDF5 checkpoints)");
  cmd->add_option("--data", o->data, "HDF5 dataset of fields [M, N, N] with /params")->required();
  cmd->add_option("--config", o->config,
                  "training config JSON (see README; \"{}\" trains the CPU default); without "
                  "it the defaults are used");
  cmd->add_option("--out", o->out, "checkpoint .h5, rewritten atomically during training")
      ->required();
  cmd->add_flag("--resume", o->resume,
                "continue from --out (same data and architecture) exactly where it stopped");
  cmd->add_option("--steps", o->steps, "train until this total number of steps (overrides config)")
      ->check(CLI::PositiveNumber);

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    ds::TrainRequest request;
    request.data_path = o->data;
    request.config = o->config.empty()
                         ? ds::TrainConfig()
                         : ds::TrainConfig::from_json(read_text(o->config), o->config);
    request.out_path = o->out;
    request.resume = o->resume;
    request.device = options.parsed_device();
    request.steps = o->steps;
    const bool quiet = options.quiet;
    const auto summary = ds::train_field_model(request, progress_context(options, "train"),
                                               [quiet](const std::string& line) {
                                                 if (!quiet)
                                                   std::fprintf(stderr, "\n%s\n", line.c_str());
                                               });
    std::printf(
        "trained steps %lld..%lld in %.1f s; loss %.5f (first %lld-step mean) -> %.5f "
        "(last)\n",
        static_cast<long long>(summary.start_step), static_cast<long long>(summary.end_step),
        summary.seconds, summary.first_loss, static_cast<long long>(request.config.log_every),
        summary.last_loss);
    if (!summary.validations.empty())
      std::printf("validation P(k) reduced chi^2 at step %lld: %.3f +- %.3f\n",
                  static_cast<long long>(summary.validations.back().step),
                  summary.validations.back().reduced_chi2, summary.validations.back().spread);
    std::printf("checkpoint: %s\n", o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
