// Architecture of the conditional U-Net of Diffusion-HMC ("UnetExplicitConditional", see
// shared/reference/diffusion-hmc.md). The field names and JSON keys are those of the authors'
// model_kwargs, so a PyTorch checkpoint's model_kwargs reads directly into this struct.
#pragma once

#include <string>
#include <vector>

namespace ds {

struct UnetConfig {
  int dim = 64;                            // base width (channels of the first level)
  std::vector<int> dim_mults{1, 2, 4, 8};  // width multiplier per resolution level
  int channels = 1;                        // input channels of x_t
  bool init_conv = false;                  // 7x7 convolution before the first level
  int init_dim = 0;                        // its width; 0: dim / 3 * 2 (the authors' default)
  int out_dim = 0;                         // output channels; 0: channels
  int conditional_dim = 2;                 // number of parameters theta (normalised to [0, 1])
  bool use_cond_dim_for_block = true;      // blocks see raw theta (true) or its embedding (false)
  int time_embed_dim = 0;                  // 0: 4 * dim
  bool non_linear_conditional_embedding = true;  // Linear-GELU-Linear (true) or one Linear
  bool circular_convolution = true;  // periodic padding in every convolution but upsampling
  int resnet_block_groups = 8;       // GroupNorm groups in the ResNet blocks
  // Diffuscope extension, not in the reference: periodic padding in the transposed-convolution
  // upsampling too, which makes the whole network commute with periodic shifts by multiples of
  // downsampling_factor(). Same parameters, so either setting loads the same weights; false
  // reproduces Diffusion-HMC checkpoints.
  bool periodic_upsampling = false;

  int effective_init_dim() const {
    return init_conv ? (init_dim > 0 ? init_dim : dim / 3 * 2) : channels;
  }
  int effective_out_dim() const { return out_dim > 0 ? out_dim : channels; }
  int effective_time_dim() const { return time_embed_dim > 0 ? time_embed_dim : 4 * dim; }
  // Fields must be a multiple of this (2^(levels - 1)): the down path halves them at every level
  // but the last.
  int downsampling_factor() const { return 1 << (dim_mults.size() - 1); }

  // Throws InvalidArgument naming the field when the configuration cannot be built (widths not
  // divisible by the GroupNorm groups, no levels, non-positive sizes).
  void validate() const;

  // The authors' model_kwargs as a JSON object.
  std::string to_json() const;
  // Reads model_kwargs; keys that change the architecture in ways not implemented here
  // (pk_embedding, base2fourier) or unknown keys throw InvalidArgument naming the key.
  static UnetConfig from_json(const std::string& model_kwargs_json);

  // One line for `model info`: "UnetExplicitConditional(dim=16, dim_mults=(1, 2, 4), ...)".
  std::string describe() const;
};

}  // namespace ds
