// The ScoreNet2d facade and the TorchScript adapter.
#include "diffuscope/nets/score_net.h"

#include <ATen/autocast_mode.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/nets/unet_config.h"
#include "diffuscope/runtime.h"
#include "nets/named_tensors.h"
#include "nets/score_network.h"
#include "nets/torch_checkpoint.h"
#include "nets/unet.h"

namespace ds {

namespace {

constexpr const char* kTorchScriptMetadata = "diffuscope.json";

torch::Device torch_device(Device device) {
  return device == Device::Cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

std::string first_line(const std::string& message) {
  return message.substr(0, message.find('\n'));
}

// Any scripted module with forward(x_t, t, theta) -> eps.
class TorchScriptScoreNetwork : public nets::ScoreNetwork {
 public:
  explicit TorchScriptScoreNetwork(torch::jit::Module module) : module_(std::move(module)) {}
  torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t,
                        const torch::Tensor& theta) override {
    return module_.forward({x_t, t, theta}).toTensor();
  }
  void to(torch::Device device) override { module_.to(device); }
  void set_training(bool on) override { module_.train(on); }
  std::vector<torch::Tensor> parameters() override {
    std::vector<torch::Tensor> out;
    for (const auto& p : module_.parameters()) out.push_back(p);
    return out;
  }

 private:
  torch::jit::Module module_;
};

// A U-Net built from `json` (model_kwargs) with `state` loaded, in eval mode on `device`; every
// failure names `path`.
std::shared_ptr<nets::UnetScoreNetwork> load_unet(const std::string& path, const std::string& json,
                                                  const std::map<std::string, torch::Tensor>& state,
                                                  Device device, UnetConfig& config) {
  try {
    config = UnetConfig::from_json(json);
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  auto network = std::make_shared<nets::UnetScoreNetwork>(config);
  try {
    nets::load_state_dict(*network->module(), state);
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  network->set_training(false);
  network->to(torch_device(device));
  return network;
}

// What the architecture alone says about a U-Net.
void describe_unet(ScoreNetInfo& info, const UnetConfig& config, nets::UnetScoreNetwork& network) {
  info.architecture = config.describe();
  info.parameter_count = nets::parameter_count(*network.module());
  info.channels = config.channels;
  info.conditional_dim = config.conditional_dim;
  info.downsampling_factor = config.downsampling_factor();
}

}  // namespace

struct ScoreNet2d::Impl {
  ScoreNetInfo info;
  Device device = Device::Cpu;
  std::shared_ptr<nets::ScoreNetwork> network;
};

ScoreNet2d::ScoreNet2d(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScoreNet2d::ScoreNet2d(ScoreNet2d&&) noexcept = default;
ScoreNet2d& ScoreNet2d::operator=(ScoreNet2d&&) noexcept = default;
ScoreNet2d::~ScoreNet2d() = default;

const ScoreNetInfo& ScoreNet2d::info() const {
  return impl_->info;
}
Device ScoreNet2d::device() const {
  return impl_->device;
}
std::shared_ptr<nets::ScoreNetwork> ScoreNet2d::network() const {
  return impl_->network;
}

ScoreNet2d ScoreNet2d::load(const std::string& path, Device device, bool ema) {
  if (is_hdf5_file(path)) return load_model_file(path, ema, device);
  bool torchscript = false;
  {
    nets::TorchArchive archive(path);
    torchscript = archive.is_torchscript();
    if (!torchscript && !archive.has_record("data.pkl"))
      throw FileError(path,
                      "zip archive is neither a torch.save checkpoint (data.pkl) nor a "
                      "TorchScript module (constants.pkl, code/)");
  }
  if (!torchscript) return load_pytorch_checkpoint(path, ema, device);
  if (ema) throw InvalidArgument(path + ": EMA weights can only be chosen in a PyTorch checkpoint");
  return load_torchscript(path, device);
}

ScoreNet2d ScoreNet2d::load_pytorch_checkpoint(const std::string& path, bool ema, Device device) {
  require_device(device);
  const auto ckpt =
      nets::read_torch_checkpoint(path, ema ? "model_ema_state_dict" : "model_state_dict");
  if (!ckpt.model_type.empty() && ckpt.model_type != "explicitconditional")
    throw FileError(path, "model_type '" + ckpt.model_type +
                              "' is not supported (only 'explicitconditional', Diffusion-HMC's "
                              "UnetExplicitConditional)");
  if (ckpt.model_kwargs.empty()) throw FileError(path, "has no model_kwargs");
  UnetConfig config;
  auto network = load_unet(path, ckpt.model_kwargs.dump(), ckpt.state_dict, device, config);

  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->network = network;
  ScoreNetInfo& info = impl->info;
  info.path = path;
  info.format = ScoreNetFormat::PytorchCheckpoint;
  describe_unet(info, config, *network);
  info.model_type = ckpt.model_type;
  info.weights = ckpt.weights_key;
  info.has_ema = ckpt.has_ema;
  info.schedule = ckpt.schedule;
  info.betas = ckpt.betas;
  info.epoch = ckpt.epoch;
  info.iteration = ckpt.iteration;
  info.config_json = ckpt.model_kwargs.dump();
  return ScoreNet2d(std::move(impl));
}

ScoreNet2d ScoreNet2d::load_model_file(const std::string& path, bool ema, Device device) {
  require_device(device);
  const auto file = read_model_checkpoint(path);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(file.config_json);
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, "/config is not valid JSON (" + first_line(e.what()) + ")");
  }
  if (!config.is_object() || config.value("modality", "") != "field2d" ||
      !config.contains("architecture"))
    throw FileError(path,
                    "is not a 2D field model (/config lacks modality 'field2d' or "
                    "architecture)");
  if (ema && file.ema.empty())
    throw FileError(path, "has no EMA weights (exported models keep only the chosen weights)");
  UnetConfig unet;
  auto network = load_unet(path, config["architecture"].dump(),
                           train::to_state_map(ema ? file.ema : file.weights), device, unet);

  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->network = network;
  ScoreNetInfo& info = impl->info;
  info.path = path;
  info.format = ScoreNetFormat::Diffuscope;
  describe_unet(info, unet, *network);
  info.model_type = config.value("model_type", "explicitconditional");
  info.weights = ema ? "ema" : "weights";
  info.has_ema = !file.ema.empty();
  info.schedule = config.value("schedule", "");
  info.betas = file.betas;
  info.iteration = file.step;
  info.config_json = file.config_json;
  return ScoreNet2d(std::move(impl));
}

ScoreNet2d ScoreNet2d::with_random_weights(const UnetConfig& config, std::uint64_t seed,
                                           Device device) {
  require_device(device);
  config.validate();
  torch::manual_seed(seed);
  auto network = std::make_shared<nets::UnetScoreNetwork>(config);
  network->set_training(false);
  network->to(torch_device(device));
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->network = network;
  ScoreNetInfo& info = impl->info;
  info.path = "random:" + config.describe();
  describe_unet(info, config, *network);
  info.model_type = "explicitconditional";
  info.config_json = config.to_json();
  return ScoreNet2d(std::move(impl));
}

ScoreNet2d ScoreNet2d::load_torchscript(const std::string& path, Device device) {
  require_device(device);
  {
    nets::TorchArchive archive(path);  // missing / non-zip / truncated files: one clear message
    if (!archive.is_torchscript())
      throw FileError(path,
                      "is not a TorchScript module (no constants.pkl or code/ in the "
                      "archive; export one with torch.jit.script(model).save(path))");
  }
  torch::jit::ExtraFilesMap extra{{kTorchScriptMetadata, ""}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch_device(device), extra);
  } catch (const c10::Error& e) {
    throw FileError(path, "cannot load the TorchScript module (" +
                              first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw FileError(path, "cannot load the TorchScript module (" + first_line(e.what()) + ")");
  }
  const auto forward = module.find_method("forward");
  if (!forward) throw FileError(path, "TorchScript module has no forward method");
  const std::size_t arguments = forward->function().getSchema().arguments().size();
  if (arguments != 4)  // self, x_t, t, theta
    throw FileError(path, "TorchScript forward takes " + std::to_string(arguments - 1) +
                              " arguments; expected forward(x_t, t, theta)");
  module.eval();

  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->network = std::make_shared<TorchScriptScoreNetwork>(module);
  ScoreNetInfo& info = impl->info;
  info.path = path;
  info.format = ScoreNetFormat::TorchScript;
  const auto type_name = module.type()->name();
  info.architecture = "TorchScript module" + (type_name ? " " + type_name->qualifiedName() : "");
  for (const auto& p : module.parameters()) info.parameter_count += p.numel();
  info.conditional_dim = 0;
  info.config_json = "{}";
  const std::string& metadata = extra[kTorchScriptMetadata];
  if (!metadata.empty()) {
    try {
      const auto j = nlohmann::json::parse(metadata);
      info.config_json = j.dump();
      info.channels = j.value("channels", 1);
      info.conditional_dim = j.value("conditional_dim", 0);
      info.downsampling_factor = j.value("downsampling_factor", 1);
      info.schedule = j.value("schedule", std::string());
      info.betas = j.value("betas", std::vector<double>());
    } catch (const nlohmann::json::exception& e) {
      throw FileError(path, std::string(kTorchScriptMetadata) + " is not valid JSON (" +
                                first_line(e.what()) + ")");
    }
  }
  return ScoreNet2d(std::move(impl));
}

std::string score_net_info_json(const ScoreNetInfo& info) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(info.config_json);
  } catch (const nlohmann::json::exception&) {
    config = info.config_json;
  }
  const nlohmann::json j = {{"file", info.path},
                            {"format", info.format == ScoreNetFormat::TorchScript  ? "torchscript"
                                       : info.format == ScoreNetFormat::Diffuscope ? "diffuscope"
                                                                                   : "pytorch"},
                            {"model_type", info.model_type},
                            {"architecture", info.architecture},
                            {"parameters", info.parameter_count},
                            {"weights", info.weights},
                            {"has_ema", info.has_ema},
                            {"channels", info.channels},
                            {"conditional_dim", info.conditional_dim},
                            {"downsampling_factor", info.downsampling_factor},
                            {"schedule", info.schedule},
                            {"timesteps", info.betas.size()},
                            {"epoch", info.epoch},
                            {"iteration", info.iteration},
                            {"config", config}};
  return j.dump(2);
}

std::vector<float> ScoreNet2d::predict_noise(const std::vector<float>& x,
                                             const std::vector<std::int64_t>& t,
                                             const std::vector<float>& theta01, int batch,
                                             int n) const {
  const ScoreNetInfo& info = impl_->info;
  const std::int64_t c = info.channels;
  if (batch <= 0 || n <= 0) throw InvalidArgument("predict_noise: batch and n must be positive");
  const std::size_t field_size = std::size_t(c) * n * n;
  if (x.size() != std::size_t(batch) * field_size)
    throw InvalidArgument("predict_noise: x has " + std::to_string(x.size()) +
                          " values, expected batch x " + std::to_string(c) + " x " +
                          std::to_string(n) + " x " + std::to_string(n));
  if (t.size() != std::size_t(batch))
    throw InvalidArgument("predict_noise: t has " + std::to_string(t.size()) +
                          " steps for a batch of " + std::to_string(batch));
  if (theta01.size() % std::size_t(batch) != 0 ||
      (info.conditional_dim > 0 && theta01.size() != std::size_t(batch) * info.conditional_dim))
    throw InvalidArgument("predict_noise: theta has " + std::to_string(theta01.size()) +
                          " values, expected batch x " +
                          (info.conditional_dim > 0 ? std::to_string(info.conditional_dim) : "P"));
  if (n % info.downsampling_factor != 0)
    throw InvalidArgument("predict_noise: field size " + std::to_string(n) +
                          " is not a multiple of " + std::to_string(info.downsampling_factor) +
                          " (the network's total downsampling)");
  for (float v : x)
    if (!std::isfinite(v)) throw InvalidArgument("predict_noise: x holds non-finite values");
  for (float v : theta01)
    if (!std::isfinite(v)) throw InvalidArgument("predict_noise: theta holds non-finite values");
  const auto steps = static_cast<std::int64_t>(info.betas.size());
  for (auto step : t)
    if (step < 0 || (steps > 0 && step >= steps))
      throw InvalidArgument("predict_noise: time step " + std::to_string(step) + " outside [0, " +
                            (steps > 0 ? std::to_string(steps) : std::string("T")) + ")");

  torch::InferenceMode inference;
  const auto device = torch_device(impl_->device);
  const std::int64_t p = std::int64_t(theta01.size()) / batch;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto x_t = torch::from_blob(const_cast<float*>(x.data()), {batch, c, n, n}, f32).to(device);
  const auto steps_t = torch::from_blob(const_cast<std::int64_t*>(t.data()), {batch},
                                        torch::TensorOptions().dtype(torch::kInt64))
                           .to(device);
  const auto theta =
      torch::from_blob(const_cast<float*>(theta01.data()), {batch, p}, f32).to(device);
  torch::Tensor eps;
  try {
    eps = impl_->network->forward(x_t, steps_t, theta);
  } catch (const c10::Error& e) {
    throw InvalidArgument(info.path + ": the network failed on inputs x [" + std::to_string(batch) +
                          ", " + std::to_string(c) + ", " + std::to_string(n) + ", " +
                          std::to_string(n) + "] (" + first_line(e.what_without_backtrace()) + ")");
  }
  if (eps.sizes() != x_t.sizes()) {
    std::ostringstream s;
    s << info.path << ": the network returned shape " << eps.sizes() << " for x of shape "
      << x_t.sizes();
    throw InvalidArgument(s.str());
  }
  eps = eps.to(torch::kCPU).to(torch::kFloat32).contiguous();
  return std::vector<float>(eps.data_ptr<float>(), eps.data_ptr<float>() + eps.numel());
}

namespace nets {

void set_cuda_bf16_autocast(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, on);
  if (on) at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
  at::autocast::set_enabled(on);
  if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
  if (!on) at::autocast::clear_cache();
}

NetworkPrecisionScope::NetworkPrecisionScope(torch::Device device) {
  if (network_precision() != Precision::Bf16) return;
  if (device.is_cuda()) {
    set_cuda_bf16_autocast(true);
    cuda_ = true;
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
    cpu_ = true;
  }
}

NetworkPrecisionScope::~NetworkPrecisionScope() {
  if (cuda_) set_cuda_bf16_autocast(false);
  if (cpu_) {
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }
}

}  // namespace nets

}  // namespace ds
