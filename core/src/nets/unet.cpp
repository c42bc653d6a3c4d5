#include "nets/unet.h"

#include <cmath>
#include <set>
#include <sstream>

#include "diffuscope/error.h"

namespace ds::nets {

namespace {

namespace nn = torch::nn;

nn::Conv2dOptions conv_options(int in, int out, int kernel, bool circular) {
  auto o = nn::Conv2dOptions(in, out, kernel);
  // A 1x1 convolution has no padding, so its padding mode is irrelevant.
  if (kernel > 1) {
    o.padding(kernel == 3 ? 1 : (kernel - 1) / 2);
    if (circular) o.padding_mode(torch::kCircular);
  }
  return o;
}

// [B, C] -> [B, C, 1, 1], to add a per-channel vector to every pixel.
torch::Tensor per_channel(const torch::Tensor& v) {
  return v.unsqueeze(-1).unsqueeze(-1);
}

}  // namespace

torch::Tensor SinusoidalTimeEmbeddingImpl::forward(const torch::Tensor& t) {
  const int half = dim_ / 2;
  // The same operation sequence as the reference (int64 arange times a double scalar gives
  // float32; exp in float32), so that the features agree bit for bit at large t, where a one-ulp
  // change in a frequency moves sin(999 f) by ~1e-4.
  const double step = std::log(10000.0) / (half - 1);
  const auto frequencies = torch::exp(
      torch::arange(half, torch::TensorOptions().dtype(torch::kInt64).device(t.device())) *
      (-step));
  const auto arguments = t.unsqueeze(1).to(torch::kFloat32) * frequencies.unsqueeze(0);
  return torch::cat({arguments.sin(), arguments.cos()}, -1);
}

namespace {
// GroupNorm in fp32: under CPU autocast to bfloat16 (LibTorch 1.13 keeps group_norm out of its
// CPU fp32 list) a convolution hands it bf16 activations with fp32 weights, which it refuses. A
// no-op without autocast (the tensor is already fp32), so fp32 results are unchanged bit for bit.
torch::Tensor as_fp32(const torch::Tensor& x) {
  return x.scalar_type() == torch::kFloat32 ? x : x.to(torch::kFloat32);
}
}  // namespace

ConvNormActImpl::ConvNormActImpl(int in, int out, int groups, bool circular) {
  proj_ = register_module("proj", nn::Conv2d(conv_options(in, out, 3, circular)));
  norm_ = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(groups, out)));
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
  return torch::silu(norm_->forward(as_fp32(proj_->forward(x))));
}

ResnetBlockImpl::ResnetBlockImpl(int in, int out, int time_dim, int cond_dim, int groups,
                                 bool circular) {
  mlp_ = register_module("mlp", nn::Sequential(nn::SiLU(), nn::Linear(time_dim, out)));
  cond_mlp_ = register_module("cond_mlp", nn::Sequential(nn::SiLU(), nn::Linear(cond_dim, out)));
  block1_ = register_module("block1", ConvNormAct(in, out, groups, circular));
  block2_ = register_module("block2", ConvNormAct(out, out, groups, circular));
  if (in != out)
    res_conv_ = register_module("res_conv", nn::Conv2d(conv_options(in, out, 1, circular)));
}

torch::Tensor ResnetBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& time_emb,
                                       const torch::Tensor& cond) {
  auto h = block1_->forward(x);
  h = per_channel(mlp_->forward(time_emb)) + h;
  h = per_channel(cond_mlp_->forward(cond)) + h;
  h = block2_->forward(h);
  return h + (res_conv_ ? res_conv_->forward(x) : x);
}

LinearAttentionImpl::LinearAttentionImpl(int dim, int heads, int dim_head)
    : heads_(heads), dim_head_(dim_head) {
  const int hidden = heads * dim_head;
  to_qkv_ =
      register_module("to_qkv", nn::Conv2d(nn::Conv2dOptions(dim, 3 * hidden, 1).bias(false)));
  to_out_ = register_module("to_out", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(hidden, dim, 1)),
                                                     nn::GroupNorm(nn::GroupNormOptions(1, dim))));
}

torch::Tensor LinearAttentionImpl::forward(const torch::Tensor& x) {
  const auto b = x.size(0), h = x.size(2), w = x.size(3);
  // q, k and v by three 1x1 convolutions with the thirds of to_qkv's weight: the same products
  // as one convolution and a chunk, but each comes out contiguous, so the softmaxes and the
  // products below read them without first copying a strided third of the whole (measured:
  // the copies cost as much as the softmaxes themselves at 64x64).
  const auto& weight = to_qkv_->weight;  // [3 * heads * d, dim, 1, 1], no bias
  const std::int64_t hidden = std::int64_t(heads_) * dim_head_;
  const auto third = [&](std::int64_t i) {
    // [B, heads * d, H, W] -> [B, heads, d, H * W]
    return torch::conv2d(x, weight.narrow(0, i * hidden, hidden))
        .reshape({b, heads_, dim_head_, h * w});
  };
  const auto q = third(0).softmax(-2);
  const auto k = third(1).softmax(-1);
  const auto v = third(2);
  // The reference scales q by d^-1/2; scaling the d x e context instead is the same product
  // and touches d x e numbers instead of d x H x W.
  const auto context = torch::matmul(k, v.transpose(-1, -2)) *
                       std::pow(double(dim_head_), -0.5);        // [B, h, d, e] = sum_n k_dn v_en
  const auto out = torch::matmul(context.transpose(-1, -2), q);  // [B, h, e, n] = sum_d c_de q_dn
  // to_out = conv1x1 -> GroupNorm(1, dim), the norm in fp32 (as_fp32).
  const auto projected =
      to_out_[0]->as<nn::Conv2d>()->forward(out.reshape({b, heads_ * dim_head_, h, w}));
  return to_out_[1]->as<nn::GroupNorm>()->forward(as_fp32(projected));
}

FullAttentionImpl::FullAttentionImpl(int dim, int heads, int dim_head)
    : heads_(heads), dim_head_(dim_head) {
  const int hidden = heads * dim_head;
  to_qkv_ =
      register_module("to_qkv", nn::Conv2d(nn::Conv2dOptions(dim, 3 * hidden, 1).bias(false)));
  to_out_ = register_module("to_out", nn::Conv2d(nn::Conv2dOptions(hidden, dim, 1)));
}

torch::Tensor FullAttentionImpl::forward(const torch::Tensor& x) {
  const auto b = x.size(0), h = x.size(2), w = x.size(3);
  const auto qkv = to_qkv_->forward(x).chunk(3, 1);
  auto split = [&](const torch::Tensor& t) { return t.reshape({b, heads_, dim_head_, h * w}); };
  const auto q = split(qkv[0]) * std::pow(double(dim_head_), -0.5);
  const auto k = split(qkv[1]);
  const auto v = split(qkv[2]);
  auto sim = torch::matmul(q.transpose(-1, -2), k);  // [B, h, i, j]
  // The reference detaches the maximum: it only stabilises the softmax, so no gradient flows.
  sim = sim - std::get<0>(sim.max(-1, /*keepdim=*/true)).detach();
  const auto attention = sim.softmax(-1);
  const auto out = torch::matmul(attention, v.transpose(-1, -2));  // [B, h, i, d]
  return to_out_->forward(out.permute({0, 1, 3, 2}).reshape({b, heads_ * dim_head_, h, w}));
}

PreNormImpl::PreNormImpl(int dim, std::shared_ptr<AttentionModule> fn) {
  fn_ = register_module("fn", std::move(fn));
  norm_ = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(1, dim)));
}

torch::Tensor PreNormImpl::forward(const torch::Tensor& x) {
  return fn_->forward(norm_->forward(as_fp32(x)));
}

ResidualImpl::ResidualImpl(PreNorm fn) {
  fn_ = register_module("fn", std::move(fn));
}

ConditionalUnetImpl::ConditionalUnetImpl(const UnetConfig& config) : config_(config) {
  config_.validate();
  const UnetConfig& c = config_;
  const int time_dim = c.effective_time_dim();
  const int block_cond_dim = c.use_cond_dim_for_block ? c.conditional_dim : time_dim;
  const bool circular = c.circular_convolution;
  auto resnet = [&](int in, int out) {
    return ResnetBlock(in, out, time_dim, block_cond_dim, c.resnet_block_groups, circular);
  };
  auto attention = [&](int dim, bool linear) {
    std::shared_ptr<AttentionModule> fn;
    if (linear)
      fn = std::make_shared<LinearAttentionImpl>(dim);
    else
      fn = std::make_shared<FullAttentionImpl>(dim);
    return Residual(PreNorm(dim, fn));
  };

  // Registration order follows the reference's constructor, so parameters() lists them in the
  // order of its state dict.
  conditional_embedding_ = nn::Sequential();
  if (c.non_linear_conditional_embedding) {
    conditional_embedding_->push_back(nn::Linear(c.conditional_dim, 5 * c.conditional_dim));
    conditional_embedding_->push_back(nn::GELU());
    conditional_embedding_->push_back(nn::Linear(5 * c.conditional_dim, time_dim));
    register_module("conditional_embedding", conditional_embedding_);
  } else {
    // A bare Linear in the reference: its parameters are conditional_embedding.weight/.bias.
    auto linear = register_module("conditional_embedding", nn::Linear(c.conditional_dim, time_dim));
    conditional_embedding_->push_back(linear);
  }
  if (c.init_conv)
    init_conv_ = register_module(
        "init_conv", nn::Conv2d(conv_options(c.channels, c.effective_init_dim(), 7, circular)));

  time_mlp_ = register_module(
      "time_mlp", nn::Sequential(SinusoidalTimeEmbedding(c.dim), nn::Linear(c.dim, time_dim),
                                 nn::GELU(), nn::Linear(time_dim, time_dim)));

  std::vector<int> dims{c.effective_init_dim()};
  for (int m : c.dim_mults) dims.push_back(c.dim * m);
  const std::size_t levels = c.dim_mults.size();

  auto downs = nn::ModuleList();
  for (std::size_t i = 0; i < levels; ++i) {
    Level level;
    level.block1 = resnet(dims[i], dims[i + 1]);
    level.block2 = resnet(dims[i + 1], dims[i + 1]);
    level.attention = attention(dims[i + 1], true);
    auto modules = nn::ModuleList(level.block1, level.block2, level.attention);
    if (i + 1 < levels) {
      level.downsample =
          nn::Conv2d(conv_options(dims[i + 1], dims[i + 1], 4, circular).stride(2).padding(1));
      modules->push_back(level.downsample);
    } else {
      modules->push_back(nn::Identity());
    }
    downs->push_back(modules);
    downs_.push_back(level);
  }
  register_module("downs", downs);
  // Registered before the middle blocks (and filled below), as in the reference.
  auto ups = register_module("ups", nn::ModuleList());

  const int mid = dims.back();
  mid_block1_ = register_module("mid_block1", resnet(mid, mid));
  mid_attention_ = register_module("mid_attn", attention(mid, false));
  mid_block2_ = register_module("mid_block2", resnet(mid, mid));

  // The up path walks levels (levels-1 .. 1) and upsamples after each of them, which returns
  // to full resolution; the first level's skip is never used (as in the reference).
  for (std::size_t i = levels - 1; i >= 1; --i) {
    const int in = dims[i], out = dims[i + 1];
    Level level;
    level.block1 = resnet(2 * out, in);
    level.block2 = resnet(in, in);
    level.attention = attention(in, true);
    // PyTorch's transposed convolution has no circular mode, so the reference zero-pads here and
    // its rows/columns at the border miss the wrapped-around neighbour. periodic_upsampling pads
    // the input circularly by one pixel and crops three instead of one: the same weights, but
    // every output pixel sees its periodic neighbours.
    level.upsample = nn::ConvTranspose2d(
        nn::ConvTranspose2dOptions(in, in, 4).stride(2).padding(c.periodic_upsampling ? 3 : 1));
    ups->push_back(nn::ModuleList(level.block1, level.block2, level.attention, level.upsample));
    ups_.push_back(level);
  }

  final_block_ = resnet(c.dim, c.dim);
  final_projection_ = nn::Conv2d(conv_options(c.dim, c.effective_out_dim(), 1, circular));
  register_module("final_conv", nn::ModuleList(final_block_, final_projection_));
}

torch::Tensor ConditionalUnetImpl::forward(const torch::Tensor& x_in, const torch::Tensor& t,
                                           const torch::Tensor& theta) {
  const UnetConfig& c = config_;
  const auto n = x_in.size(-1);
  if (x_in.dim() != 4 || x_in.size(1) != c.channels || x_in.size(2) != n ||
      n % c.downsampling_factor() != 0 || t.dim() != 1 || t.size(0) != x_in.size(0) ||
      theta.dim() != 2 || theta.size(0) != x_in.size(0) || theta.size(1) != c.conditional_dim) {
    std::ostringstream s;
    s << "U-Net input shapes x " << x_in.sizes() << ", t " << t.sizes() << ", theta "
      << theta.sizes() << " do not match [B, " << c.channels << ", N, N] with N a multiple of "
      << c.downsampling_factor() << ", [B], [B, " << c.conditional_dim << "]";
    throw InvalidArgument(s.str());
  }
  auto x = init_conv_ ? init_conv_->forward(x_in) : x_in;
  const auto label_emb = conditional_embedding_->forward(theta);
  const auto time_emb = time_mlp_->forward(t) + label_emb;
  const auto& cond = c.use_cond_dim_for_block ? theta : label_emb;

  std::vector<torch::Tensor> skips;
  for (auto& level : downs_) {
    x = level.block1->forward(x, time_emb, cond);
    x = level.block2->forward(x, time_emb, cond);
    x = level.attention->forward(x);
    skips.push_back(x);
    if (level.downsample) x = level.downsample->forward(x);
  }
  x = mid_block1_->forward(x, time_emb, cond);
  x = mid_attention_->forward(x);
  x = mid_block2_->forward(x, time_emb, cond);
  for (auto& level : ups_) {
    x = torch::cat({x, skips.back()}, 1);
    skips.pop_back();
    x = level.block1->forward(x, time_emb, cond);
    x = level.block2->forward(x, time_emb, cond);
    x = level.attention->forward(x);
    if (c.periodic_upsampling)
      x = torch::nn::functional::pad(
          x, torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kCircular));
    x = level.upsample->forward(x);
  }
  x = final_block_->forward(x, time_emb, cond);
  return final_projection_->forward(x);
}

void load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> problems;
  std::set<std::string> known;
  auto copy_into = [&](const std::string& name, torch::Tensor& target) {
    known.insert(name);
    const auto it = state.find(name);
    if (it == state.end()) {
      problems.push_back("missing '" + name + "'");
      return;
    }
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream s;
      s << "'" << name << "' has shape " << it->second.sizes() << ", the network expects "
        << target.sizes();
      problems.push_back(s.str());
      return;
    }
    target.copy_(it->second);
  };
  for (auto& item : module.named_parameters(true)) copy_into(item.key(), item.value());
  for (auto& item : module.named_buffers(true)) copy_into(item.key(), item.value());
  for (const auto& entry : state)
    if (!known.count(entry.first)) problems.push_back("unexpected '" + entry.first + "'");
  if (problems.empty()) return;
  std::string message = "weights do not match the architecture: ";
  const std::size_t shown = std::min<std::size_t>(problems.size(), 4);
  for (std::size_t i = 0; i < shown; ++i) message += (i ? ", " : "") + problems[i];
  if (problems.size() > shown)
    message += " and " + std::to_string(problems.size() - shown) + " more";
  throw InvalidArgument(message);
}

std::int64_t parameter_count(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters(true)) n += p.numel();
  return n;
}

}  // namespace ds::nets
