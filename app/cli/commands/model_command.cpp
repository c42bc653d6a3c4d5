// diffuscope-cli model info MODEL | model eval --model M --x X.npy --t T.npy --theta THETA.npy
// --out EPS.npy: inspect a score network and evaluate its raw output.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/model/model.h"
#include "diffuscope/nets/score_net.h"
#include "diffuscope/text.h"

namespace dscli {

namespace {

struct ModelOptions {
  std::string model, x, t, theta, out, mocks, sampler;  // sampler "": the model kind's default
  int samples = 16, steps = 50;
  double clip = 0.0;
  bool ema = false;
  bool json = false;
};

// Reads the three inputs of `model eval` and checks that their shapes agree.
struct EvalInputs {
  std::vector<float> x, theta;
  std::vector<std::int64_t> t;
  std::vector<std::size_t> x_shape;
  int batch = 0, n = 0;
};

EvalInputs read_eval_inputs(const ModelOptions& o, const ds::ScoreNetInfo& info) {
  EvalInputs in;
  const auto x = ds::read_npy(o.x);
  if (x.shape.size() != 4 || x.shape[2] != x.shape[3] ||
      x.shape[1] != static_cast<std::size_t>(info.channels))
    throw ds::FileError(o.x, "shape " + ds::shape_text(x.shape) + " is not [B, " +
                                 std::to_string(info.channels) + ", N, N]");
  in.x_shape = x.shape;
  in.batch = static_cast<int>(x.shape[0]);
  in.n = static_cast<int>(x.shape[2]);
  in.x.assign(x.data.begin(), x.data.end());

  const auto t = ds::read_npy(o.t);
  if (t.shape != std::vector<std::size_t>{x.shape[0]})
    throw ds::FileError(o.t, "shape " + ds::shape_text(t.shape) + " is not [" +
                                 std::to_string(x.shape[0]) + "] (one step per field of x)");
  for (double v : t.data) {
    if (v != std::floor(v)) throw ds::FileError(o.t, "holds a non-integer time step");
    in.t.push_back(static_cast<std::int64_t>(v));
  }

  const auto theta = ds::read_npy(o.theta);
  if (theta.shape.size() != 2 || theta.shape[0] != x.shape[0] ||
      (info.conditional_dim > 0 && theta.shape[1] != std::size_t(info.conditional_dim)))
    throw ds::FileError(
        o.theta,
        "shape " + ds::shape_text(theta.shape) + " is not [" + std::to_string(x.shape[0]) + ", " +
            (info.conditional_dim > 0 ? std::to_string(info.conditional_dim) : std::string("P")) +
            "]");
  in.theta.assign(theta.data.begin(), theta.data.end());
  return in;
}

// `model check --out`: the settings and the table as JSON, written atomically.
void write_check_table(const ModelOptions& o, const GlobalOptions& options,
                       const nlohmann::json& table) {
  if (o.out.empty()) return;
  const nlohmann::json j = {{"model", o.model},     {"mocks", o.mocks}, {"samples", o.samples},
                            {"sampler", o.sampler}, {"steps", o.steps}, {"seed", options.seed},
                            {"rows", table}};
  ds::write_file_atomically(o.out, [&](std::ostream& s) { s << j.dump(2) << "\n"; });
}

int run_check(const ModelOptions& given, const GlobalOptions& options) {
  const auto model = ds::Model::load(given.model, options.parsed_device(), given.ema);
  const auto reference = ds::read_dataset_hdf5(given.mocks);
  ds::ModelCheckSettings settings;
  settings.samples = given.samples;
  settings.sampler = given.sampler;
  settings.steps = given.steps;
  settings.clip = given.clip;
  settings.seed = options.seed;
  const ds::ModelCheck check =
      model->check(reference, given.mocks, settings, progress_context(options, "check"));
  std::printf("%s", check.text.c_str());
  ModelOptions o = given;
  o.sampler = check.sampler;
  write_check_table(o, options, nlohmann::json::parse(check.rows_json));
  return 0;
}

}  // namespace

Action add_model_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<ModelOptions>();
  CLI::App* model = app.add_subcommand(
      "model",
      "inspect a score network and evaluate its raw output (PyTorch checkpoint or "
      "TorchScript module)");
  model->require_subcommand(1);
  CLI::App* info = model->add_subcommand(
      "info", "architecture, parameter count, inputs, noise schedule and training state");
  info->add_option("model", o->model,
                   "model file: Diffuscope .h5, Diffusion-HMC .pt checkpoint or TorchScript")
      ->required();
  info->add_flag("--ema", o->ema, "describe the EMA weights (model_ema_state_dict)");
  info->add_flag("--json", o->json, "print the description as JSON");

  CLI::App* eval = model->add_subcommand(
      "eval", "network output eps_hat = f(x_t, t, theta) for given inputs, in eval mode");
  eval->add_option("--model", o->model,
                   "model file: Diffuscope .h5, Diffusion-HMC .pt checkpoint or TorchScript")
      ->required();
  eval->add_option("--x", o->x, ".npy of noisy fields x_t, [B, 1, N, N]")->required();
  eval->add_option("--t", o->t, ".npy of integer time steps, [B]")->required();
  eval->add_option("--theta", o->theta, ".npy of parameters normalised to [0, 1], [B, P]")
      ->required();
  eval->add_option("--out", o->out, ".npy to write eps_hat to, float32 [B, 1, N, N]")->required();
  eval->add_flag("--ema", o->ema, "use the EMA weights (model_ema_state_dict)");

  CLI::App* exporter = model->add_subcommand(
      "export", "inference-only copy of a training checkpoint (config, schedule, one weight set)");
  exporter->add_option("--model", o->model, "Diffuscope training checkpoint (.h5)")->required();
  exporter->add_option("--out", o->out, "output .h5 (written atomically)")->required();
  exporter->add_flag("--ema", o->ema, "export the EMA weights (what sampling should use)");

  CLI::App* check = model->add_subcommand(
      "check",
      "P(k) of generated fields (kNN-CDF and 2PCF of generated halo clouds for a point-cloud "
      "model) against held-out mocks at each cosmology of a reference set (reduced chi^2 next "
      "to the mocks' leave-one-out value)");
  check->add_option("--model", o->model, "model file")->required();
  check
      ->add_option("--mocks", o->mocks,
                   "HDF5 reference set with >= 3 fields per cosmology (mock fields --set "
                   "single/cv/1p --per-cosmo M)")
      ->required();
  check->add_option("--samples", o->samples, "generated fields per cosmology")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  check
      ->add_option("--sampler", o->sampler,
                   "sampler: " + ds::kDiffusionSamplers.joined_names(" | ") +
                       " (default ddim; point-cloud models: ancestral | ode, default ancestral)")
      ->check(CLI::IsMember(ds::kDiffusionSamplers.names()));
  check->add_option("--steps", o->steps, "DDIM / ODE steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  check->add_flag("--ema", o->ema, "use the EMA weights");
  check->add_option("--clip", o->clip, "clamp the predicted x0 to [-CLIP, CLIP] (see sample)")
      ->check(CLI::NonNegativeNumber);
  check->add_option("--out", o->out, "also write the table as JSON");

  return [model, info, eval, exporter, check, o, &options]() -> int {
    if (!model->parsed()) return -1;
    apply_global_options(options);
    if (check->parsed()) return run_check(*o, options);
    if (exporter->parsed()) {
      ds::export_model_file(o->model, o->out, o->ema);
      if (!options.quiet)
        std::fprintf(stderr, "wrote %s (%s weights of %s)\n", o->out.c_str(),
                     o->ema ? "EMA" : "raw", o->model.c_str());
      return 0;
    }
    if (info->parsed()) {
      const auto m = ds::Model::load(o->model, options.parsed_device(), o->ema);
      std::printf("%s", o->json ? (m->info_json() + "\n").c_str() : m->info_text().c_str());
      return 0;
    }
    // eval feeds a 2D score network its raw inputs.
    if (ds::model_modality(o->model) != ds::Modality::Field2d)
      throw ds::InvalidArgument("model eval: " + o->model +
                                " is a point-cloud model; this command takes 2D field models "
                                "(see sample and elbo for point clouds)");
    const auto net = ds::ScoreNet2d::load(o->model, options.parsed_device(), o->ema);
    const EvalInputs in = read_eval_inputs(*o, net.info());
    const auto eps = net.predict_noise(in.x, in.t, in.theta, in.batch, in.n);
    ds::write_npy(o->out, in.x_shape, std::vector<double>(eps.begin(), eps.end()),
                  /*as_float32=*/true);
    if (!options.quiet)
      std::fprintf(stderr, "wrote eps %s to %s\n", ds::shape_text(in.x_shape).c_str(),
                   o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
