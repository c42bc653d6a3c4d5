// diffuscope-cli vlb-terms --model M --field X0.npy --theta 0.3,0.8 [--noise NOISE.npy]
// --tmax 20 [--grad] --out TERMS.npy: the per-step terms of the truncated VLB of one field.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/diffusion/vlb.h"
#include "diffuscope/error.h"

namespace dscli {

namespace {

struct VlbOptions {
  std::string model, field, theta = "0.3,0.8", noise, out;
  int tmax = 20, draws = 1;
  long index = -1;
  std::uint64_t seed = 0;
  bool grad = false, physical = false, prior_term = false, ema = false;
};

std::vector<double> parse_theta(const std::string& text) {
  std::vector<double> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    try {
      std::size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw ds::InvalidArgument("vlb-terms: --theta '" + text +
                                "' is not a comma-separated list of numbers");
    }
  }
  return out;
}

// "TERMS.npy" -> "TERMS_grad.npy"
std::string gradient_path(const std::string& out) {
  const std::string suffix = ".npy";
  if (out.size() > suffix.size() && out.compare(out.size() - 4, 4, suffix) == 0)
    return out.substr(0, out.size() - 4) + "_grad.npy";
  return out + "_grad.npy";
}

// Reads [T_MAX, C, N, N] or [K, T_MAX, C, N, N] noise for the common-noise mode.
std::vector<float> read_noise(const std::string& path, int tmax, int channels, int n) {
  const auto a = ds::read_npy(path);
  std::vector<std::size_t> shape = a.shape;
  if (shape.size() == 4) shape.insert(shape.begin(), 1);
  const std::vector<std::size_t> expected{std::size_t(tmax), std::size_t(channels), std::size_t(n),
                                          std::size_t(n)};
  if (shape.size() != 5 || !std::equal(expected.begin(), expected.end(), shape.begin() + 1)) {
    std::string s;
    for (std::size_t i = 0; i < a.shape.size(); ++i)
      s += (i ? ", " : "") + std::to_string(a.shape[i]);
    throw ds::FileError(path, "shape [" + s + "] is not [T_MAX = " + std::to_string(tmax) + ", " +
                                  std::to_string(channels) + ", " + std::to_string(n) + ", " +
                                  std::to_string(n) + "] (or [K, T_MAX, C, N, N])");
  }
  return {a.data.begin(), a.data.end()};
}

}  // namespace

Action add_vlb_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<VlbOptions>();
  CLI::App* cmd = app.add_subcommand(
      "vlb-terms",
      "per-step terms L_t of the truncated VLB (Diffusion-HMC's likelihood) of one field at one "
      "parameter point, and optionally the gradient of log L = -sum L_t");
  cmd->add_option("--model", o->model,
                  "model file: Diffuscope .h5, Diffusion-HMC .pt checkpoint or TorchScript")
      ->required();
  cmd->add_option("--field", o->field,
                  "observed field: .npy [N, N], [M, N, N] or [M, 1, N, N] in model space (see "
                  "--physical), or an HDF5 dataset (physical units)")
      ->required();
  cmd->add_option("--index", o->index, "field of a stack to use (default: the only one)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--physical", o->physical,
                "the .npy field is in physical units: apply the model's transform first");
  cmd->add_option("--theta", o->theta, "raw parameters Omega_m,sigma_8")->capture_default_str();
  cmd->add_option("--noise", o->noise,
                  ".npy of the noise eps_t, [T_MAX, 1, N, N] or [K, T_MAX, 1, N, N] (terms "
                  "averaged over K); default: --draws draws from --seed");
  cmd->add_option("--tmax", o->tmax, "T_MAX: terms t = 0 .. T_MAX - 1")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--draws", o->draws, "K noise draws without --noise")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the noise without --noise (default: --seed)");
  cmd->add_flag("--prior-term", o->prior_term, "append L_T (independent of theta)");
  cmd->add_flag("--grad", o->grad,
                "also write d log L / d(Omega_m, sigma_8) (raw units) to TERMS_grad.npy");
  cmd->add_flag("--ema", o->ema, "use the EMA weights of a PyTorch checkpoint");
  cmd->add_option("--out", o->out, ".npy of the terms, float64 [T_MAX] (+1 with --prior-term)")
      ->required();

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    const auto model = ds::DiffusionModel2d::load(o->model, options.parsed_device(), o->ema);
    const auto theta = parse_theta(o->theta);
    if (theta.size() != model.parameter_count())
      throw ds::InvalidArgument("vlb-terms: --theta has " + std::to_string(theta.size()) +
                                " values; the model takes " +
                                std::to_string(model.parameter_count()));
    auto field = ds::load_observed_field(o->field, model, o->index, o->physical);
    ds::VlbSettings settings;
    settings.t_max = o->tmax;
    settings.include_prior_term = o->prior_term;
    settings.noise = ds::VlbNoiseMode::Common;
    settings.draws = o->draws;
    settings.seed = cmd->count("--seed") ? o->seed : options.seed;
    std::vector<float> noise;
    if (!o->noise.empty()) noise = read_noise(o->noise, o->tmax, model.channels(), field.n);
    ds::TruncatedVlb vlb(model, std::move(field.values), field.n, settings);
    if (!noise.empty()) vlb.set_common_noise(noise);
    const auto result = vlb.evaluate(theta, o->grad, progress_context(options, "vlb-terms"));

    ds::write_npy(o->out, {result.terms.size()}, result.terms);
    if (o->grad) ds::write_npy(gradient_path(o->out), {result.gradient.size()}, result.gradient);
    std::printf("log_likelihood %.10g\n", result.log_likelihood[0]);
    if (o->grad) {
      std::printf("gradient");
      for (double g : result.gradient) std::printf(" %.10g", g);
      std::printf("\n");
    }
    return 0;
  };
}

}  // namespace dscli
