// diffuscope-cli elbo --model M --cloud FILE [--index I] --theta 0.3,0.8[;0.25,0.8...]
// [--steps 50] [--draws 8] [--seed S] [--json]: the ELBO of one observed point cloud under a
// point-cloud model (reference/point-cloud.md, "Likelihood"): the mean over K common noise draws
// of a Riemann sum over S diffusion times, with its standard error over the draws, in nats.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/error.h"
#include "diffuscope/model/model.h"
#include "diffuscope/pointcloud/point_model.h"
#include "model_input.h"

namespace dscli {

namespace {

struct ElboOptions {
  std::string model, cloud, theta = "0.3,0.8";
  long index = -1;
  int steps = 50, draws = 8;
  long long chunk = 0;
  std::uint64_t seed = 0;
  bool ema = false, json = false, gradient = false;
};

// "0.3,0.8" or "0.3,0.8;0.25,0.8": points inside the prior box, [count, 2] row-major.
std::vector<double> parse_thetas(const std::string& text, std::size_t& count) {
  std::vector<double> out;
  std::stringstream s(text);
  std::string point;
  count = 0;
  while (std::getline(s, point, ';')) {
    const auto values = parse_numbers(point, "elbo: --theta");
    if (values.size() != 2)
      throw ds::InvalidArgument("elbo: --theta '" + point +
                                "' must be two numbers Omega_m,sigma_8");
    const auto& prior = ds::kDefaultPrior;
    if (values[0] < prior.omega_m.lo || values[0] > prior.omega_m.hi ||
        values[1] < prior.sigma_8.lo || values[1] > prior.sigma_8.hi)
      throw ds::InvalidArgument("elbo: --theta " + point + " is outside the prior box Omega_m [" +
                                std::to_string(prior.omega_m.lo).substr(0, 4) + ", " +
                                std::to_string(prior.omega_m.hi).substr(0, 4) + "], sigma_8 [" +
                                std::to_string(prior.sigma_8.lo).substr(0, 4) + ", " +
                                std::to_string(prior.sigma_8.hi).substr(0, 4) + "]");
    out.insert(out.end(), values.begin(), values.end());
    ++count;
  }
  if (count == 0) throw ds::InvalidArgument("elbo: --theta holds no point");
  return out;
}

}  // namespace

Action add_elbo_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<ElboOptions>();
  CLI::App* cmd = app.add_subcommand(
      "elbo",
      "ELBO (log-likelihood lower bound, nats) of one point cloud under a point-cloud model at "
      "given (Omega_m, sigma_8), with its standard error over common noise draws");
  cmd->add_option("--model", o->model, "point-cloud model (Diffuscope .h5)")->required();
  cmd->add_option("--cloud", o->cloud,
                  "FILE: the cloud, physical units: .npy [N,F] or [M,N,F] or an HDF5 Points "
                  "dataset")
      ->required();
  cmd->add_option("--index", o->index, "cloud of a stack (default: the only one)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--theta", o->theta,
                  "'Omega_m,sigma_8', or several points 'a,b;c,d' (same noise at each; default "
                  "0.3,0.8)");
  cmd->add_option("--steps", o->steps, "S: Riemann steps over t (default 50, as published)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--draws", o->draws, "K: common noise draws (default 8)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--chunk", o->chunk, "largest network batch in clouds (default: automatic)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed, "seed of the noise draws (default: the global --seed)");
  cmd->add_flag("--ema", o->ema, "use the EMA weights of a training checkpoint");
  cmd->add_flag("--gradient", o->gradient, "also print d ELBO / d theta (autograd)");
  cmd->add_flag("--json", o->json, "print the result as JSON");

  return [cmd, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    std::size_t count = 0;
    const std::vector<double> thetas = parse_thetas(o->theta, count);
    // The ELBO is the point-cloud model's own bound (a field model's is `vlb`).
    const auto point_model =
        ds::Model::load(o->model, options.parsed_device(), o->ema)->point_model();
    if (!point_model)
      throw ds::InvalidArgument("elbo: " + o->model +
                                " is not a point-cloud model (2D field models: vlb)");
    const ds::PointCloudModel& model = *point_model;
    const ds::ObservedCloud cloud = ds::read_observed_cloud(o->cloud, o->index, model.features());
    ds::PointElboSettings settings;
    settings.steps = o->steps;
    settings.draws = o->draws;
    settings.seed = cmd->count("--seed") ? o->seed : options.seed;
    settings.chunk = o->chunk;
    const auto began = std::chrono::steady_clock::now();
    const ds::PointElboResult r = model.elbo(cloud.values, cloud.n_points, thetas, count, settings,
                                             o->gradient, progress_context(options, "elbo"));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (o->json) {
      nlohmann::json points = nlohmann::json::array();
      for (std::size_t g = 0; g < count; ++g) {
        nlohmann::json p = {
            {"theta", {thetas[2 * g], thetas[2 * g + 1]}},
            {"elbo", r.mean[g]},
            {"standard_error", r.standard_error[g]},
            {"elbo_per_point", r.mean[g] / double(cloud.n_points)},
            {"per_draw", std::vector<double>(r.per_draw.begin() + long(g) * r.draws,
                                             r.per_draw.begin() + long(g + 1) * r.draws)}};
        if (o->gradient) p["gradient"] = {r.gradient[2 * g], r.gradient[2 * g + 1]};
        points.push_back(p);
      }
      const nlohmann::json j = {{"model", o->model},
                                {"cloud", o->cloud},
                                {"index", cloud.index},
                                {"n_points", cloud.n_points},
                                {"features", model.features()},
                                {"steps", settings.steps},
                                {"draws", settings.draws},
                                {"seed", settings.seed},
                                {"seconds", seconds},
                                {"points", points}};
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    std::printf(
        "ELBO of cloud %zu of %s (%lld points x %d features) under %s: S = %d steps, "
        "K = %d draws, seed %llu, %.2f s\n",
        cloud.index, o->cloud.c_str(), static_cast<long long>(cloud.n_points), model.features(),
        o->model.c_str(), settings.steps, settings.draws,
        static_cast<unsigned long long>(settings.seed), seconds);
    for (std::size_t g = 0; g < count; ++g) {
      std::printf("Omega_m %.6g sigma_8 %.6g: ELBO %.6f +- %.4f nats (%.6f per point)",
                  thetas[2 * g], thetas[2 * g + 1], r.mean[g], r.standard_error[g],
                  r.mean[g] / double(cloud.n_points));
      if (o->gradient)
        std::printf("; gradient %.6g %.6g", r.gradient[2 * g], r.gradient[2 * g + 1]);
      std::printf("\n");
    }
    return 0;
  };
}

}  // namespace dscli
