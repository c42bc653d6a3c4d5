// The conditional U-Net of Diffusion-HMC (shared/reference/diffusion-hmc.md, "Score network"),
// in LibTorch. Module and parameter names follow the authors' PyTorch module tree exactly
// (downs.0.0.block1.proj.weight, mid_attn.fn.fn.to_qkv.weight, final_conv.1.weight, ...), so a
// PyTorch state dict loads by name and our checkpoints stay readable by their code.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "diffuscope/nets/unet_config.h"
#include "nets/score_network.h"

namespace ds::nets {

// Sinusoidal features of the integer time step: [B] -> [B, dim], half sin, half cos,
// frequencies exp(-ln(10000) i / (dim/2 - 1)).
class SinusoidalTimeEmbeddingImpl : public torch::nn::Module {
 public:
  explicit SinusoidalTimeEmbeddingImpl(int dim) : dim_(dim) {}
  torch::Tensor forward(const torch::Tensor& t);

 private:
  int dim_;
};
TORCH_MODULE(SinusoidalTimeEmbedding);

// conv3x3 -> GroupNorm -> SiLU ("Block").
class ConvNormActImpl : public torch::nn::Module {
 public:
  ConvNormActImpl(int in, int out, int groups, bool circular);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d proj_{nullptr};
  torch::nn::GroupNorm norm_{nullptr};
};
TORCH_MODULE(ConvNormAct);

// ResNet block with additive time and parameter conditioning (broadcast over pixels).
class ResnetBlockImpl : public torch::nn::Module {
 public:
  ResnetBlockImpl(int in, int out, int time_dim, int cond_dim, int groups, bool circular);
  // x [B, in, H, W], time_emb [B, time_dim], cond [B, cond_dim] -> [B, out, H, W]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& time_emb,
                        const torch::Tensor& cond);

 private:
  torch::nn::Sequential mlp_{nullptr}, cond_mlp_{nullptr};
  ConvNormAct block1_{nullptr}, block2_{nullptr};
  torch::nn::Conv2d res_conv_{nullptr};  // null when in == out (identity)
};
TORCH_MODULE(ResnetBlock);

// The two attention flavours share one interface so that PreNorm/Residual can wrap either.
class AttentionModule : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

// Linear attention (4 heads x 32): softmax of q over features, of k over pixels; O(pixels).
class LinearAttentionImpl : public AttentionModule {
 public:
  explicit LinearAttentionImpl(int dim, int heads = 4, int dim_head = 32);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  int heads_, dim_head_;
  torch::nn::Conv2d to_qkv_{nullptr};
  torch::nn::Sequential to_out_{nullptr};  // conv1x1 -> GroupNorm(1, dim)
};

// Full softmax attention (4 heads x 32), row maximum subtracted before the softmax.
class FullAttentionImpl : public AttentionModule {
 public:
  explicit FullAttentionImpl(int dim, int heads = 4, int dim_head = 32);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  int heads_, dim_head_;
  torch::nn::Conv2d to_qkv_{nullptr}, to_out_{nullptr};
};

// Residual(PreNorm(dim, attention)): x + attention(GroupNorm(1, dim)(x)). The nesting is kept as
// two modules so that names come out as fn.fn.* and fn.norm.*.
class PreNormImpl : public torch::nn::Module {
 public:
  PreNormImpl(int dim, std::shared_ptr<AttentionModule> fn);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::shared_ptr<AttentionModule> fn_;
  torch::nn::GroupNorm norm_{nullptr};
};
TORCH_MODULE(PreNorm);

class ResidualImpl : public torch::nn::Module {
 public:
  explicit ResidualImpl(PreNorm fn);
  torch::Tensor forward(const torch::Tensor& x) { return fn_->forward(x) + x; }

 private:
  PreNorm fn_{nullptr};
};
TORCH_MODULE(Residual);

class ConditionalUnetImpl : public torch::nn::Module {
 public:
  explicit ConditionalUnetImpl(const UnetConfig& config);
  // x [B, channels, N, N] float, N a multiple of config.downsampling_factor(); t [B] int64 steps;
  // theta [B, conditional_dim] normalised to [0, 1]. Returns eps_hat [B, out_dim, N, N].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& theta);
  const UnetConfig& config() const { return config_; }

 private:
  struct Level {
    ResnetBlock block1{nullptr}, block2{nullptr};
    Residual attention{nullptr};
    torch::nn::Conv2d downsample{nullptr};         // down path, all levels but the last
    torch::nn::ConvTranspose2d upsample{nullptr};  // up path, every level
  };
  UnetConfig config_;
  torch::nn::Conv2d init_conv_{nullptr};
  torch::nn::Sequential time_mlp_{nullptr}, conditional_embedding_{nullptr};
  std::vector<Level> downs_, ups_;
  ResnetBlock mid_block1_{nullptr}, mid_block2_{nullptr};
  Residual mid_attention_{nullptr};
  ResnetBlock final_block_{nullptr};
  torch::nn::Conv2d final_projection_{nullptr};
};
TORCH_MODULE(ConditionalUnet);

// Copies a state dict (name -> tensor, any float dtype) into the module's parameters and
// buffers. Throws InvalidArgument listing missing names, unexpected names and shape mismatches.
void load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state);

std::int64_t parameter_count(const torch::nn::Module& module);

// The U-Net behind the ScoreNetwork interface.
class UnetScoreNetwork : public ScoreNetwork {
 public:
  explicit UnetScoreNetwork(const UnetConfig& config) : net_(config) {}
  torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t,
                        const torch::Tensor& theta) override {
    return net_->forward(x_t, t, theta);
  }
  void to(torch::Device device) override { net_->to(device); }
  void set_training(bool on) override { net_->train(on); }
  std::vector<torch::Tensor> parameters() override { return net_->parameters(); }
  ConditionalUnet& module() { return net_; }

 private:
  ConditionalUnet net_;
};

}  // namespace ds::nets
