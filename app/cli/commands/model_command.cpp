// diffuscope-cli model info MODEL | model eval --model M --x X.npy --t T.npy --theta THETA.npy
// --out EPS.npy: inspect a score network and evaluate its raw output.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/emulator_check.h"
#include "diffuscope/error.h"
#include "diffuscope/nets/score_net.h"
#include "diffuscope/pointcloud/point_check.h"
#include "diffuscope/pointcloud/point_model.h"
#include "diffuscope/train/model_file.h"

namespace dscli {

namespace {

struct ModelOptions {
  std::string model, x, t, theta, out, mocks, sampler;  // sampler "": the model kind's default
  int samples = 16, steps = 50;
  double clip = 0.0;
  bool ema = false;
  bool json = false;
};

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char* format_name(ds::ScoreNetFormat format) {
  switch (format) {
    case ds::ScoreNetFormat::TorchScript:
      return "TorchScript module";
    case ds::ScoreNetFormat::Diffuscope:
      return "Diffuscope model (HDF5)";
    case ds::ScoreNetFormat::PytorchCheckpoint:
      break;
  }
  return "PyTorch checkpoint (torch.save zip, read weights-only)";
}

// sqrt(1 - alphabar_t) at a few steps: how much noise each step carries (reference doc: 0.010 at
// t = 0, 0.062 at 19, 0.242 at 100, 0.852 at 500 for the paper's schedule).
std::string schedule_summary(const ds::ScoreNetInfo& info) {
  if (info.betas.empty()) return info.schedule.empty() ? "unknown" : info.schedule;
  const auto& b = info.betas;
  std::ostringstream s;
  s << (info.schedule.empty() ? "betas" : info.schedule) << ", T = " << b.size()
    << ", beta_0 = " << b.front() << ", beta_" << b.size() - 1 << " = " << b.back()
    << "; sqrt(1 - alphabar_t) at t =";
  std::vector<std::size_t> steps;
  for (std::size_t t :
       {std::size_t(0), std::size_t(19), std::size_t(100), b.size() / 2, b.size() - 1})
    if (t < b.size() && (steps.empty() || t > steps.back())) steps.push_back(t);
  double log_alphabar = 0.0;
  std::string values;
  for (std::size_t t = 0, k = 0; t < b.size() && k < steps.size(); ++t) {
    log_alphabar += std::log1p(-b[t]);
    if (t == steps[k]) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.3f", k ? ", " : " ",
                    std::sqrt(-std::expm1(log_alphabar)));
      s << (k ? ", " : " ") << t;
      values += buf;
      ++k;
    }
  }
  s << ":" << values;
  return s.str();
}

void print_info(const ds::ScoreNetInfo& info) {
  const std::string n = "N a multiple of " + std::to_string(info.downsampling_factor);
  const std::string p = info.conditional_dim > 0 ? std::to_string(info.conditional_dim) : "P";
  const std::string t_range = info.betas.empty()
                                  ? "integer steps"
                                  : "in [0, " + std::to_string(info.betas.size() - 1) + "]";
  std::printf("file: %s\n", info.path.c_str());
  std::printf("format: %s\n", format_name(info.format));
  if (!info.model_type.empty()) std::printf("model type: %s\n", info.model_type.c_str());
  std::printf("architecture: %s\n", info.architecture.c_str());
  std::printf("parameters: %lld\n", static_cast<long long>(info.parameter_count));
  if (!info.weights.empty())
    std::printf("weights: %s (EMA weights %s)\n", info.weights.c_str(),
                info.has_ema ? "present" : "absent");
  std::printf("input x_t: [B, %d, N, N] float32, %s\n", info.channels, n.c_str());
  std::printf("input t: [B] int64, %s\n", t_range.c_str());
  std::printf("input theta: [B, %s] float32, normalised to [0, 1]\n", p.c_str());
  std::printf("output eps: [B, %d, N, N] float32\n", info.channels);
  std::printf("schedule: %s\n", schedule_summary(info).c_str());
  if (info.epoch >= 0 || info.iteration >= 0)
    std::printf("training: epoch %lld, iteration %lld\n", static_cast<long long>(info.epoch),
                static_cast<long long>(info.iteration));
  if (info.format == ds::ScoreNetFormat::Diffuscope) {
    // The model's own description: transform, parameters and the data it was trained on.
    const auto config = nlohmann::json::parse(info.config_json, nullptr, false);
    if (config.is_object()) {
      if (config.contains("transform"))
        std::printf("transform: %s\n", config["transform"].dump().c_str());
      if (config.contains("param_names") && config.contains("param_lo"))
        std::printf("parameters: %s, normalised with lo %s, width %s\n",
                    config["param_names"].dump().c_str(), config["param_lo"].dump().c_str(),
                    config.value("param_width", nlohmann::json()).dump().c_str());
      if (config.contains("dataset")) {
        const auto& d = config["dataset"];
        std::printf(
            "training data: %s (%s %s set, %s fields, %s; fingerprint %s), resolution %s, "
            "box %s Mpc/h\n",
            d.value("path", "?").c_str(), d.value("generator", "?").c_str(),
            d.value("set_kind", "?").c_str(), d.value("count", nlohmann::json()).dump().c_str(),
            d.value("units", "?").c_str(), d.value("fingerprint", "?").c_str(),
            config.value("resolution", nlohmann::json()).dump().c_str(),
            config.value("box_size", nlohmann::json()).dump().c_str());
      }
    }
  }
  std::printf("config: %s\n", info.config_json.c_str());
}

void print_point_info(const ds::PointModelInfo& info) {
  const auto& t = info.transform;
  std::printf("file: %s\n", info.path.c_str());
  std::printf("format: Diffuscope model (HDF5)\n");
  std::printf("modality: points (variational diffusion model)\n");
  std::printf("architecture: %s\n", info.architecture.c_str());
  std::printf("parameters: %lld\n", static_cast<long long>(info.parameter_count));
  if (!info.weights.empty())
    std::printf("weights: %s (EMA weights %s)\n", info.weights.c_str(),
                info.has_ema ? "present" : "absent");
  std::string names;
  for (const auto& n : t.feature_names) names += (names.empty() ? "" : " ") + n;
  std::printf("features: %zu (%s)\n", t.features(), names.c_str());
  std::printf("box: %g Mpc/h\n", t.box_size);
  std::string conditioning;
  for (const auto& n : info.parameter_names) conditioning += (conditioning.empty() ? "" : ", ") + n;
  std::printf("conditioning: %s (raw values)\n", conditioning.c_str());
  std::printf("schedule: learned linear log-SNR, gamma(0) = %.4g, gamma(1) = %.4g\n", info.gamma0,
              info.gamma1);
  std::printf("training: step %lld\n", static_cast<long long>(info.step));
  std::printf("transform: %s\n", t.to_json().c_str());
  std::printf("config: %s\n", info.config_json.c_str());
}

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
    throw ds::FileError(o.x, "shape " + shape_text(x.shape) + " is not [B, " +
                                 std::to_string(info.channels) + ", N, N]");
  in.x_shape = x.shape;
  in.batch = static_cast<int>(x.shape[0]);
  in.n = static_cast<int>(x.shape[2]);
  in.x.assign(x.data.begin(), x.data.end());

  const auto t = ds::read_npy(o.t);
  if (t.shape != std::vector<std::size_t>{x.shape[0]})
    throw ds::FileError(o.t, "shape " + shape_text(t.shape) + " is not [" +
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
        "shape " + shape_text(theta.shape) + " is not [" + std::to_string(x.shape[0]) + ", " +
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

// A halo emulator against held-out halo mocks: kNN-CDFs and 2PCF (pointcloud/point_check.h).
int run_point_check(const ModelOptions& o, const GlobalOptions& options) {
  const auto model = ds::PointCloudModel::load(o.model, options.parsed_device(), o.ema);
  const auto reference = ds::read_dataset_hdf5(o.mocks);
  ds::PointCheckSettings settings;
  settings.samples = o.samples;
  settings.seed = options.seed;
  if (o.sampler != "ancestral" && o.sampler != "ode")
    throw ds::InvalidArgument("model check: --sampler " + o.sampler +
                              " is not a point-cloud sampler (ancestral | ode)");
  settings.sampler.sampler =
      o.sampler == "ode" ? ds::PointSamplerKind::Ode : ds::PointSamplerKind::Ancestral;
  settings.sampler.steps = o.steps;
  const auto rows =
      ds::check_point_emulator(model, reference, settings, progress_context(options, "check"));
  std::printf(
      "# kNN-CDF (k = 1, 5, 9) and 2PCF of %d %s-%d clouds per cosmology against the "
      "mocks of %s\n",
      o.samples, o.sampler.c_str(), o.steps, o.mocks.c_str());
  std::printf(
      "# reduced chi^2 (diagonal): generated vs mocks, and each mock vs the others "
      "(leave-one-out); r50_k: median k-th neighbour distance of random points (Mpc/h); "
      "xi: mean 2PCF over 10-50 Mpc/h\n");
  std::printf("%-7s %-7s %5s %4s %15s %15s %26s %26s %17s\n", "Omega_m", "sigma_8", "mocks", "gen",
              "knn_chi2 gen", "xi_chi2 gen", "r50_1,5,9 generated", "r50_1,5,9 mocks",
              "xi gen / mocks");
  nlohmann::json table = nlohmann::json::array();
  for (const auto& r : rows) {
    const auto three = [](const std::vector<double>& v) {
      char b[64];
      std::snprintf(b, sizeof b, "%.1f, %.1f, %.1f", v.size() > 0 ? v[0] : 0.0,
                    v.size() > 1 ? v[1] : 0.0, v.size() > 2 ? v[2] : 0.0);
      return std::string(b);
    };
    std::printf("%-7.4f %-7.4f %5d %4d %7.2f (%5.2f) %7.2f (%5.2f) %26s %26s %8.3f / %.3f\n",
                r.theta[0], r.theta.size() > 1 ? r.theta[1] : 0.0, r.mocks, r.generated,
                r.knn_chi2_generated, r.knn_chi2_loo, r.xi_chi2_generated, r.xi_chi2_loo,
                three(r.knn_median_generated).c_str(), three(r.knn_median_mock).c_str(),
                r.xi_generated, r.xi_mock);
    table.push_back({{"theta", r.theta},
                     {"mocks", r.mocks},
                     {"generated", r.generated},
                     {"knn_chi2_generated", r.knn_chi2_generated},
                     {"knn_chi2_loo", r.knn_chi2_loo},
                     {"xi_chi2_generated", r.xi_chi2_generated},
                     {"xi_chi2_loo", r.xi_chi2_loo},
                     {"knn_median_generated", r.knn_median_generated},
                     {"knn_median_mock", r.knn_median_mock},
                     {"xi_generated", r.xi_generated},
                     {"xi_mock", r.xi_mock}});
  }
  std::printf("# (in brackets: the mocks' own leave-one-out reduced chi^2)\n");
  write_check_table(o, options, table);
  return 0;
}

int run_check(const ModelOptions& given, const GlobalOptions& options) {
  const bool points = ds::PointCloudModel::is_point_model(given.model);
  ModelOptions o = given;
  if (o.sampler.empty()) o.sampler = points ? "ancestral" : "ddim";
  if (points) return run_point_check(o, options);
  const auto model = ds::DiffusionModel2d::load(o.model, options.parsed_device(), o.ema);
  const auto reference = ds::read_dataset_hdf5(o.mocks);
  ds::EmulatorCheckSettings settings;
  settings.samples = o.samples;
  settings.seed = options.seed;
  settings.sampler.kind = ds::kDiffusionSamplers.from_string(o.sampler);
  settings.sampler.steps = o.steps;
  settings.sampler.clip_x0 = o.clip;
  const auto rows =
      ds::check_emulator_power(model, reference, settings, progress_context(options, "check"));
  const std::string sampler = o.sampler == "ancestral" ? "ancestral (all T steps)"
                                                       : o.sampler + "-" + std::to_string(o.steps);
  std::printf("# P(k) of %d %s fields per cosmology against the mocks of %s\n", o.samples,
              sampler.c_str(), o.mocks.c_str());
  std::printf(
      "# reduced chi^2 (Diffusion-HMC eq. 10): generated vs mocks, and each mock vs the "
      "others (leave-one-out)\n");
  std::printf("%-8s %-8s %5s %5s %16s %16s %s\n", "Omega_m", "sigma_8", "mocks", "gen",
              "chi2_generated", "chi2_mocks_loo", "P_gen/P_mock (first, middle, last k bins)");
  nlohmann::json table = nlohmann::json::array();
  for (const auto& r : rows) {
    const std::size_t b = r.ratio.size();
    std::string ratios;
    for (std::size_t i : {std::size_t(0), b / 2, b ? b - 1 : 0})
      if (i < b) {
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "%s%.3f+-%.3f", ratios.empty() ? "" : ", ", r.ratio[i],
                      r.ratio_error[i]);
        ratios += buffer;
      }
    std::printf("%-8.4f %-8.4f %5d %5d %8.3f +- %-5.2f %8.3f +- %-5.2f %s\n", r.theta[0],
                r.theta.size() > 1 ? r.theta[1] : 0.0, r.mocks, r.generated, r.chi2_generated,
                r.chi2_generated_sd, r.chi2_loo, r.chi2_loo_sd, ratios.c_str());
    table.push_back({{"theta", r.theta},
                     {"mocks", r.mocks},
                     {"generated", r.generated},
                     {"chi2_generated", r.chi2_generated},
                     {"chi2_generated_sd", r.chi2_generated_sd},
                     {"chi2_loo", r.chi2_loo},
                     {"chi2_loo_sd", r.chi2_loo_sd},
                     {"k", r.k},
                     {"ratio", r.ratio},
                     {"ratio_error", r.ratio_error}});
  }
  write_check_table(o, options, table);
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
    if (ds::PointCloudModel::is_point_model(o->model)) {
      if (!info->parsed())
        throw ds::InvalidArgument("model " + std::string(eval->parsed() ? "eval" : "check") + ": " +
                                  o->model +
                                  " is a point-cloud model; this command takes 2D field models "
                                  "(see sample and elbo for point clouds)");
      const auto point_model = ds::PointCloudModel::load(o->model, options.parsed_device(), o->ema);
      if (o->json)
        std::printf("%s\n", ds::point_model_info_json(point_model.info()).c_str());
      else
        print_point_info(point_model.info());
      return 0;
    }
    const auto net = ds::ScoreNet2d::load(o->model, options.parsed_device(), o->ema);
    if (info->parsed()) {
      if (o->json)
        std::printf("%s\n", ds::score_net_info_json(net.info()).c_str());
      else
        print_info(net.info());
      return 0;
    }
    const EvalInputs in = read_eval_inputs(*o, net.info());
    const auto eps = net.predict_noise(in.x, in.t, in.theta, in.batch, in.n);
    ds::write_npy(o->out, in.x_shape, std::vector<double>(eps.begin(), eps.end()),
                  /*as_float32=*/true);
    if (!options.quiet)
      std::fprintf(stderr, "wrote eps %s to %s\n", shape_text(in.x_shape).c_str(), o->out.c_str());
    return 0;
  };
}

}  // namespace dscli
