// The PointCloudModel facade (point_model.h): model files, sampling in physical units and ELBO
// likelihoods with common random numbers.
#include "diffuscope/pointcloud/point_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/hdf5_file.h"
#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/runtime.h"
#include "nets/named_tensors.h"
#include "nets/unet.h"
#include "pointcloud/point_model_impl.h"

namespace ds {

namespace {

using json = nlohmann::json;

// Points per network batch when the settings leave it to us: ~64k points keep a GNN's edge
// activations (k = 20, width 128) within a few GB.
constexpr std::int64_t kAutomaticChunkPoints = 65536;

torch::Device torch_device(Device device) {
  return device == Device::Cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

std::string first_line(const std::string& message) {
  return message.substr(0, message.find('\n'));
}

std::vector<float> to_floats(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU).to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Inference use: no weight ever needs a gradient, so ELBO gradients in theta build graphs through
// the activations only and the module is never mutated (safe to share between threads).
void freeze(pointcloud::VdmImpl& vdm) {
  vdm.eval();
  for (auto& p : vdm.parameters(true)) p.requires_grad_(false);
}

// info fields that follow from the module itself.
void describe(PointCloudModel::Impl& impl) {
  auto& info = impl.info;
  info.parameter_count = nets::parameter_count(*impl.vdm);
  auto& gamma = *impl.vdm->gamma();
  info.gamma0 = gamma.b.item<double>();
  info.gamma1 = info.gamma0 - gamma.rate().item<double>();
}

// The standardised cloud [N, F] on the model's device after checking its size and values.
torch::Tensor standardised_cloud(const PointCloudModel::Impl& impl, std::vector<float> cloud,
                                 std::int64_t n_points) {
  const std::int64_t f = impl.info.network.n_features;
  if (n_points <= 0) throw InvalidArgument("ELBO: the cloud must have at least one point");
  if (std::int64_t(cloud.size()) != n_points * f)
    throw InvalidArgument("ELBO: the cloud has " + std::to_string(cloud.size()) +
                          " values, expected " + std::to_string(n_points) + " points x " +
                          std::to_string(f) + " features (the model's)");
  for (float v : cloud)
    if (!std::isfinite(v)) throw InvalidArgument("ELBO: the cloud holds non-finite values");
  impl.info.transform.standardise(cloud);
  return torch::tensor(cloud, torch::TensorOptions().dtype(torch::kFloat32))
      .reshape({n_points, f})
      .to(torch_device(impl.device));
}

// ELBOs of the standardised cloud x at `count` raw parameter points; the gradient of the mean
// over draws when asked for.
PointElboResult run_elbo(const PointCloudModel::Impl& impl, const torch::Tensor& x,
                         const pointcloud::ElboNoise& noise, const std::vector<double>& thetas,
                         std::size_t count, std::int64_t chunk, bool gradient,
                         const JobContext& job) {
  const std::int64_t p = impl.info.network.n_params;
  if (chunk == 0) chunk = std::max<std::int64_t>(1, kAutomaticChunkPoints / x.size(0));
  PointElboResult result;
  result.count = count;
  result.draws = noise.draws();
  if (count == 0) return result;
  auto& vdm = *impl.vdm.ptr();  // the module is shared, not changed: eval mode, frozen weights
  const auto theta_values = torch::tensor(thetas, torch::TensorOptions().dtype(torch::kFloat64))
                                .reshape({std::int64_t(count), p})
                                .to(torch::kFloat32)
                                .to(torch_device(impl.device));
  torch::Tensor per_draw, grad;
  if (gradient) {
    const auto theta = theta_values.clone().requires_grad_(true);
    per_draw = pointcloud::elbo(vdm, x, theta, noise, chunk, job);
    grad = torch::autograd::grad({per_draw.mean(1).sum()}, {theta})[0];
    per_draw = per_draw.detach();
  } else {
    torch::InferenceMode inference;
    per_draw = pointcloud::elbo(vdm, x, theta_values, noise, chunk, job);
  }
  const auto k = per_draw.size(1);
  result.per_draw = to_doubles(per_draw);
  result.mean = to_doubles(per_draw.mean(1));
  result.standard_error =
      k > 1 ? to_doubles(per_draw.std(1) / std::sqrt(double(k)))
            : std::vector<double>(count, std::numeric_limits<double>::quiet_NaN());
  if (gradient) result.gradient = to_doubles(grad);
  return result;
}

void check_elbo_settings(const PointElboSettings& s) {
  if (s.steps <= 0) throw InvalidArgument("ELBO: steps must be positive");
  if (s.draws <= 0) throw InvalidArgument("ELBO: draws must be positive");
  if (s.chunk < 0) throw InvalidArgument("ELBO: chunk must be >= 0 (0: automatic)");
}

}  // namespace

namespace pointcloud {

std::string point_model_config_json(const PointNetConfig& network, const PointTransform& transform,
                                    double gamma0, double gamma1,
                                    const std::vector<std::string>& parameter_names) {
  const json j = {{"format", "diffuscope-model"},
                  {"modality", "points"},
                  {"network", json::parse(network.to_json())},
                  {"transform", json::parse(transform.to_json())},
                  {"gamma", {{"gamma0", gamma0}, {"gamma1", gamma1}}},
                  {"parameters", parameter_names},
                  {"version", library_versions().diffuscope}};
  return j.dump();
}

std::unique_ptr<PointCloudModel::Impl> build_point_model(PointNetConfig network,
                                                         const PointTransform& transform,
                                                         double gamma0, double gamma1,
                                                         Device device) {
  require_device(device);
  if (transform.features() != std::size_t(network.n_features))
    throw InvalidArgument("point model: the transform has " + std::to_string(transform.features()) +
                          " features, the network " + std::to_string(network.n_features));
  network.box_size = transform.box_size;
  for (std::size_t d = 0; d < 3; ++d) {
    network.position_mean[d] = transform.mean[d];
    network.position_std[d] = transform.std[d];
  }
  network.validate();
  auto impl = std::make_unique<PointCloudModel::Impl>();
  impl->vdm = Vdm(nets::make_point_network(network), gamma0, gamma1);
  impl->vdm->to(torch_device(device));
  impl->device = device;
  impl->info.network = network;
  impl->info.architecture = network.describe();
  impl->info.transform = transform;
  impl->info.parameter_names.resize(std::size_t(network.n_params));
  for (std::size_t i = 2; i < impl->info.parameter_names.size(); ++i)
    impl->info.parameter_names[i] = "theta" + std::to_string(i);
  describe(*impl);
  return impl;
}

void load_point_model_weights(PointCloudModel::Impl& impl, const std::vector<NamedArray>& weights,
                              const std::string& path) {
  auto state = train::to_state_map(weights);
  for (const auto& entry : state)
    if (!torch::isfinite(entry.second).all().item<bool>())
      throw FileError(path, "weight '" + entry.first + "' holds non-finite values");
  try {
    nets::load_state_dict(*impl.vdm, state);
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  describe(impl);
}

std::unique_ptr<PointCloudModel::Impl> point_model_from_checkpoint(
    const ModelCheckpoint& checkpoint, const std::string& path, Device device, bool ema) {
  json config;
  try {
    config = json::parse(checkpoint.config_json);
  } catch (const json::exception& e) {
    throw FileError(path, "/config is not valid JSON (" + first_line(e.what()) + ")");
  }
  if (!config.is_object() || !config.contains("modality") || config["modality"] != "points")
    throw FileError(path, "is not a point-cloud model (/config lacks modality 'points')");
  for (const char* key : {"network", "transform"})
    if (!config.contains(key) || !config[key].is_object())
      throw FileError(path, std::string("/config has no '") + key + "' object");
  if (ema && checkpoint.ema.empty())
    throw FileError(path, "has no EMA weights (exported models keep only the chosen weights)");

  std::unique_ptr<PointCloudModel::Impl> impl;
  try {
    const auto network = PointNetConfig::from_json(config["network"].dump());
    const auto transform = PointTransform::from_json(config["transform"].dump());
    const json gamma = config.value("gamma", json::object());
    impl = build_point_model(network, transform, gamma.value("gamma0", 14.0),
                             gamma.value("gamma1", -8.0), device);
    if (config.contains("parameters")) {
      const auto names = config["parameters"].get<std::vector<std::string>>();
      if (names.size() != std::size_t(network.n_params))
        throw InvalidArgument("/config lists " + std::to_string(names.size()) +
                              " parameters for a network of " + std::to_string(network.n_params));
      impl->info.parameter_names = names;
    }
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  } catch (const json::exception& e) {
    throw FileError(path, "/config: " + first_line(e.what()));
  }
  load_point_model_weights(*impl, ema ? checkpoint.ema : checkpoint.weights, path);
  freeze(*impl->vdm);
  auto& info = impl->info;
  info.path = path;
  info.step = checkpoint.step;
  info.has_ema = !checkpoint.ema.empty();
  info.weights = ema ? "ema" : "weights";
  info.config_json = checkpoint.config_json;
  return impl;
}

}  // namespace pointcloud

std::string point_model_info_json(const PointModelInfo& info) {
  json config = json::object();
  try {
    config = json::parse(info.config_json);
  } catch (const json::exception&) {
  }
  const json j = {{"file", info.path},
                  {"modality", "points"},
                  {"architecture", info.architecture},
                  {"parameters", info.parameter_count},
                  {"parameter_names", info.parameter_names},
                  {"features", info.transform.features()},
                  {"feature_names", info.transform.feature_names},
                  {"box_size", info.transform.box_size},
                  {"gamma0", info.gamma0},
                  {"gamma1", info.gamma1},
                  {"step", info.step},
                  {"weights", info.weights},
                  {"has_ema", info.has_ema},
                  {"transform", json::parse(info.transform.to_json())},
                  {"network", json::parse(info.network.to_json())},
                  {"config", config}};
  return j.dump(2);
}

PointCloudModel::PointCloudModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PointCloudModel::PointCloudModel(PointCloudModel&&) noexcept = default;
PointCloudModel& PointCloudModel::operator=(PointCloudModel&&) noexcept = default;
PointCloudModel::~PointCloudModel() = default;

const PointModelInfo& PointCloudModel::info() const {
  return impl_->info;
}
Device PointCloudModel::device() const {
  return impl_->device;
}
PointCloudModel::Impl& PointCloudModel::impl() const {
  return *impl_;
}

PointCloudModel PointCloudModel::load(const std::string& path, Device device, bool ema) {
  require_device(device);
  return PointCloudModel(
      pointcloud::point_model_from_checkpoint(read_model_checkpoint(path), path, device, ema));
}

bool PointCloudModel::is_point_model(const std::string& path) {
  return model_file_modality(path) == "points";
}

PointCloudModel PointCloudModel::with_random_weights(const PointNetConfig& network,
                                                     const PointTransform& transform,
                                                     std::uint64_t seed, Device device) {
  torch::manual_seed(seed);
  auto impl = pointcloud::build_point_model(network, transform, 14.0, -8.0, device);
  freeze(*impl->vdm);
  impl->info.path = "random:" + impl->info.architecture;
  impl->info.config_json = pointcloud::point_model_config_json(impl->info.network, transform, 14.0,
                                                               -8.0, impl->info.parameter_names);
  impl->info.weights = "weights";
  return PointCloudModel(std::move(impl));
}

std::vector<float> PointCloudModel::sample(
    const std::vector<double>& theta, int n, int n_points, const PointSampleSettings& settings,
    const PartialResultCallback<PointTrajectoryStep>& on_step, const JobContext& job) const {
  const auto& info = impl_->info;
  const std::int64_t p = info.network.n_params;
  if (std::int64_t(theta.size()) != p)
    throw InvalidArgument("sample: " + std::to_string(theta.size()) + " parameters given, the " +
                          "model takes " + std::to_string(p));
  for (std::size_t i = 0; i < theta.size(); ++i)
    if (!std::isfinite(theta[i]))
      throw InvalidArgument("sample: parameter " + info.parameter_names[i] + " is not finite");
  if (p >= 2) kDefaultPrior.require_inside(theta[0], theta[1]);
  if (n <= 0) throw InvalidArgument("sample: the number of clouds must be positive");
  if (n_points <= 0) throw InvalidArgument("sample: the number of points must be positive");
  if (settings.steps <= 0) throw InvalidArgument("sample: steps must be positive");

  torch::InferenceMode inference;
  const auto thetas = torch::tensor(theta, torch::TensorOptions().dtype(torch::kFloat64))
                          .to(torch::kFloat32)
                          .reshape({1, p})
                          .repeat({n, 1})
                          .to(torch_device(impl_->device));
  pointcloud::PointSamplerSettings s;
  s.kind = settings.sampler == PointSamplerKind::Ode ? pointcloud::PointSampler::Ode
                                                     : pointcloud::PointSampler::Ancestral;
  s.steps = settings.steps;
  s.seed = settings.seed;
  s.trace = settings.trace;
  pointcloud::PointStepCallback step_callback;
  if (on_step)
    step_callback = [&](int step, int steps, const torch::Tensor& traced) {
      PointTrajectoryStep partial{step, steps, to_floats(traced)};
      info.transform.unstandardise(partial.traced, true);
      on_step(partial);
    };
  auto values = to_floats(pointcloud::sample(*impl_->vdm, thetas, n_points, s, step_callback, job));
  info.transform.unstandardise(values, true);
  return values;
}

PointElboResult PointCloudModel::elbo(const std::vector<float>& cloud, std::int64_t n_points,
                                      const std::vector<double>& thetas, std::size_t count,
                                      const PointElboSettings& settings, bool gradient,
                                      const JobContext& job) const {
  check_elbo_settings(settings);
  const std::size_t p = std::size_t(impl_->info.network.n_params);
  if (thetas.size() != count * p)
    throw InvalidArgument("ELBO: " + std::to_string(thetas.size()) + " parameter values for " +
                          std::to_string(count) + " points of " + std::to_string(p));
  for (double v : thetas)
    if (!std::isfinite(v)) throw InvalidArgument("ELBO: non-finite parameter value");
  const auto x = standardised_cloud(*impl_, cloud, n_points);
  const auto noise = pointcloud::ElboNoise::draw(settings.steps, settings.draws, n_points,
                                                 impl_->info.network.n_features, settings.seed);
  return run_elbo(*impl_, x, noise, thetas, count, settings.chunk, gradient, job);
}

struct PointElboLogDensity::Prepared {
  torch::Tensor x;
  pointcloud::ElboNoise noise;
};

PointElboLogDensity::PointElboLogDensity(std::shared_ptr<const PointCloudModel> model,
                                         std::vector<float> cloud, std::int64_t n_points,
                                         PointElboSettings settings)
    : model_(std::move(model)), cloud_(std::move(cloud)), n_points_(n_points), settings_(settings) {
  if (!model_) throw InvalidArgument("ELBO log density: no model");
  check_elbo_settings(settings_);
  auto prepared = std::make_shared<Prepared>();
  prepared->x = standardised_cloud(model_->impl(), cloud_, n_points_);
  prepared->noise = pointcloud::ElboNoise::draw(settings_.steps, settings_.draws, n_points_,
                                                model_->features(), settings_.seed);
  prepared_ = std::move(prepared);
}

std::size_t PointElboLogDensity::dimension() const {
  return std::size_t(model_->info().network.n_params);
}

void PointElboLogDensity::evaluate(const std::vector<double>& thetas, std::size_t batch,
                                   std::vector<double>& values,
                                   std::vector<double>* gradients) const {
  if (thetas.size() != batch * dimension())
    throw InvalidArgument("ELBO log density: " + std::to_string(thetas.size()) +
                          " values for a batch of " + std::to_string(batch) + " points of " +
                          std::to_string(dimension()));
  auto result = run_elbo(model_->impl(), prepared_->x, prepared_->noise, thetas, batch,
                         settings_.chunk, gradients != nullptr, JobContext());
  values = std::move(result.mean);
  values.resize(batch);
  if (gradients) {
    *gradients = std::move(result.gradient);
    gradients->resize(batch * dimension());
  }
}

std::vector<std::string> PointElboLogDensity::names() const {
  return model_->info().parameter_names;
}

std::vector<std::string> PointElboLogDensity::labels() const {
  std::vector<std::string> labels;
  for (const auto& name : names())
    labels.push_back(name == "Omega_m" ? "\\Omega_m" : name == "sigma_8" ? "\\sigma_8" : name);
  return labels;
}

int PointCloudModel::training_points() const {
  const json config = json::parse(info().config_json, nullptr, false);
  if (!config.is_object() || !config.contains("data") || !config["data"].is_object()) return 0;
  const json& data = config["data"];
  if (data.contains("points") && data["points"].is_number_integer() &&
      data["points"].get<long long>() > 0)
    return int(data["points"].get<long long>());
  if (data.contains("shape") && data["shape"].is_array() && data["shape"].size() == 3 &&
      data["shape"][1].is_number_integer() && data["shape"][1].get<long long>() > 0)
    return int(data["shape"][1].get<long long>());
  return 0;
}

}  // namespace ds
