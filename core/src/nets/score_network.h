// The torch-level interface of a 2D score network, eps_hat = f(x_t, t, theta) (DESIGN.md,
// ScoreNet). Samplers, likelihood terms and the trainer inside core see this; the CLI and GUI see
// the torch-free facade diffuscope/nets/score_net.h. Implementations: the Diffusion-HMC U-Net
// (nets/unet.h) and any TorchScript module with the same signature (nets/score_net.cpp).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ds::nets {

class ScoreNetwork {
 public:
  virtual ~ScoreNetwork() = default;
  // x_t [B, C, N, N] float32; t [B] int64 steps in [0, T); theta [B, P] float32 normalised to
  // [0, 1]. Returns eps_hat [B, C, N, N] on the device of x_t. Differentiable in theta unless
  // called under InferenceMode.
  virtual torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t,
                                const torch::Tensor& theta) = 0;
  virtual void to(torch::Device device) = 0;
  virtual void set_training(bool on) = 0;
  virtual std::vector<torch::Tensor> parameters() = 0;
};

// While it lives, on this thread: autocast to bfloat16 on `device` when the process-wide network
// precision is Bf16 (runtime.h), nothing otherwise. Wrap score-network forward passes in it.
class NetworkPrecisionScope {
 public:
  explicit NetworkPrecisionScope(torch::Device device);
  ~NetworkPrecisionScope();
  NetworkPrecisionScope(const NetworkPrecisionScope&) = delete;
  NetworkPrecisionScope& operator=(const NetworkPrecisionScope&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
};

// bf16 autocast on CUDA on or off for this thread (the trainer's mixed precision; LibTorch 2.4
// replaced the CUDA-only switches of 1.x by per-device ones).
void set_cuda_bf16_autocast(bool on);

}  // namespace ds::nets
