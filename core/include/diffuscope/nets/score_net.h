// A trained 2D score network eps_hat = f(x_t, t, theta), behind a torch-free facade for the CLI,
// the GUI and tests. Loads Diffusion-HMC PyTorch checkpoints (torch.save dicts, read without
// executing any pickle code) and TorchScript modules with the signature
//   forward(x_t [B, 1, N, N] float32, t [B] int64, theta [B, P] float32 in [0, 1]) -> eps [B, 1, N,
//   N].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/nets/unet_config.h"
#include "diffuscope/registries.h"

namespace ds {

namespace nets {
class ScoreNetwork;  // the torch-level interface, core/src/nets/score_network.h
}

// Diffuscope: our HDF5 model checkpoint (data/model_file.h), written by `diffuscope-cli train`.
enum class ScoreNetFormat { PytorchCheckpoint, TorchScript, Diffuscope };

// What `model info` shows.
struct ScoreNetInfo {
  std::string path;
  ScoreNetFormat format = ScoreNetFormat::PytorchCheckpoint;
  std::string architecture;  // one line, e.g. "UnetExplicitConditional(dim=16, ...)"
  std::string model_type;    // checkpoint's model_type, e.g. "explicitconditional"
  std::int64_t parameter_count = 0;
  int channels = 1;             // of x_t and eps
  int conditional_dim = 0;      // P; 0 when unknown (TorchScript without metadata)
  int downsampling_factor = 1;  // N must be a multiple of this
  std::string weights;          // "model_state_dict" or "model_ema_state_dict"; "" for TorchScript
  bool has_ema = false;
  std::string schedule;       // e.g. "custom_linear_beta_schedule"; "" when unknown
  std::vector<double> betas;  // [T]; empty when unknown
  std::int64_t epoch = -1;    // -1 when unknown
  std::int64_t iteration = -1;
  std::string config_json;  // model_kwargs (checkpoint) or the diffuscope.json extra file
};

// The info as a JSON object (keys: file, format "pytorch"|"torchscript", model_type,
// architecture, parameters, weights, has_ema, channels, conditional_dim, downsampling_factor,
// schedule, timesteps, epoch, iteration, config).
std::string score_net_info_json(const ScoreNetInfo& info);

class ScoreNet2d {
 public:
  // Detects the format from the content: an HDF5 file is a Diffuscope model, a zip with
  // constants.pkl or code/ is TorchScript, a zip with data.pkl a torch.save checkpoint. Throws
  // FileError naming the path otherwise.
  static ScoreNet2d load(const std::string& path, Device device = Device::Cpu, bool ema = false);
  // A Diffusion-HMC checkpoint dict (model_type 'explicitconditional', model_kwargs,
  // model_state_dict, optional model_ema_state_dict, schedule, betas). ema selects
  // model_ema_state_dict and fails when it is absent.
  static ScoreNet2d load_pytorch_checkpoint(const std::string& path, bool ema = false,
                                            Device device = Device::Cpu);
  // A Diffuscope HDF5 model (`train` checkpoints and `model export` files). ema selects the /ema
  // weights of a training checkpoint and fails when it has none. info().config_json is the whole
  // /config document (transform, parameter normalisation, training settings, data).
  static ScoreNet2d load_model_file(const std::string& path, bool ema = false,
                                    Device device = Device::Cpu);
  // A TorchScript module (torch.jit.save). An extra file "diffuscope.json" (torch.jit.save's
  // _extra_files), when present, supplies conditional_dim, schedule, betas, ... as JSON.
  static ScoreNet2d load_torchscript(const std::string& path, Device device = Device::Cpu);
  // A Diffusion-HMC U-Net with random weights (LibTorch's default initialisation after
  // torch::manual_seed(seed)): for benchmarks and tests of code that needs a network of a given
  // size, not a trained one. info().path is "random:<architecture>", no betas.
  static ScoreNet2d with_random_weights(const UnetConfig& config, std::uint64_t seed = 0,
                                        Device device = Device::Cpu);

  ScoreNet2d(ScoreNet2d&&) noexcept;
  ScoreNet2d& operator=(ScoreNet2d&&) noexcept;
  ~ScoreNet2d();

  const ScoreNetInfo& info() const;
  std::int64_t parameter_count() const { return info().parameter_count; }
  const std::string& config() const { return info().config_json; }
  Device device() const;

  // Raw network output in eval mode (no autograd). x [batch, C, n, n] and theta [batch, P] are
  // flattened in C order, theta normalised to [0, 1]; t [batch] are integer steps in [0, T).
  // Returns eps_hat [batch, C, n, n] flattened. Throws InvalidArgument for sizes that do not
  // match, non-finite inputs or negative steps.
  std::vector<float> predict_noise(const std::vector<float>& x, const std::vector<std::int64_t>& t,
                                   const std::vector<float>& theta01, int batch, int n) const;

  // For samplers, likelihoods and the trainer inside core (torch level).
  std::shared_ptr<nets::ScoreNetwork> network() const;

 private:
  struct Impl;
  explicit ScoreNet2d(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ds
