// PointGnn and PointTransformer (reference/point-cloud.md, "Score networks").
#include <cmath>
#include <string>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/runtime.h"
#include "nets/periodic_knn.h"
#include "nets/point_network.h"

namespace ds::nets {

namespace {

namespace nn = torch::nn;

// Linear layers of widths [in -> widths...] with GELU between them and none after the last.
nn::Sequential make_mlp(int in, const std::vector<int>& widths) {
  nn::Sequential mlp;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    mlp->push_back(nn::Linear(i == 0 ? in : widths[i - 1], widths[i]));
    if (i + 1 < widths.size()) mlp->push_back(nn::GELU());
  }
  return mlp;
}

// [hidden] x layers + [out].
std::vector<int> mlp_widths(int hidden, int layers, int out) {
  std::vector<int> widths(static_cast<std::size_t>(layers), hidden);
  widths.push_back(out);
  return widths;
}

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

void check_inputs(const PointNetConfig& c, const torch::Tensor& z, const torch::Tensor& gamma,
                  const torch::Tensor& theta) {
  if (z.dim() != 3 || z.size(2) != c.n_features)
    throw InvalidArgument("point network: z has shape " + shape_of(z) + ", expected [B, N, " +
                          std::to_string(c.n_features) + "]");
  const int64_t batch = z.size(0);
  if (gamma.dim() != 1 || gamma.size(0) != batch)
    throw InvalidArgument("point network: gamma has shape " + shape_of(gamma) + ", expected [" +
                          std::to_string(batch) + "]");
  if (theta.dim() != 2 || theta.size(0) != batch || theta.size(1) != c.n_params)
    throw InvalidArgument("point network: theta has shape " + shape_of(theta) + ", expected [" +
                          std::to_string(batch) + ", " + std::to_string(c.n_params) + "]");
}

// g [B, G] from the log-SNR and the parameters: sinusoidal features of 1000 gamma (the published
// scale, so that the frequencies resolve the gamma range of a training schedule) next to a
// linear embedding of theta, through a GELU MLP.
class ConditioningImpl : public nn::Module {
 public:
  explicit ConditioningImpl(const PointNetConfig& c) : time_dim_(c.time_embedding) {
    theta_ = register_module("theta", nn::Linear(c.n_params, c.theta_embedding));
    mlp_ = register_module("mlp", make_mlp(c.time_embedding + c.theta_embedding, c.cond_mlp));
  }

  torch::Tensor forward(const torch::Tensor& gamma, const torch::Tensor& theta) {
    const int half = time_dim_ / 2;
    const double step = std::log(10000.0) / (half - 1);
    const auto frequencies =
        torch::exp(torch::arange(half, gamma.options()) * (-step)).unsqueeze(0);
    const auto arguments = (1000.0 * gamma).unsqueeze(1) * frequencies;
    const auto features =
        torch::cat({arguments.sin(), arguments.cos(), theta_->forward(theta)}, -1);
    return mlp_->forward(features);
  }

 private:
  int time_dim_;
  nn::Linear theta_{nullptr};
  nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(Conditioning);

// [B, G] -> [B, N, k, G] (or [B, N, G] with k = 0) without copying.
torch::Tensor broadcast_to_points(const torch::Tensor& g, int64_t n, int64_t k = 0) {
  if (k == 0) return g.unsqueeze(1).expand({g.size(0), n, g.size(1)});
  return g.unsqueeze(1).unsqueeze(1).expand({g.size(0), n, k, g.size(1)});
}

// The first linear layer of `mlp` on the concatenation of parts of the given widths, evaluated
// part by part: its weight's column block p times part p, summed with the bias. Algebraically the
// layer on the concatenation; the caller multiplies each part at the level where it varies (a
// receiver's node state once per node instead of once per edge, a cloud's conditioning once per
// cloud) and broadcasts or gathers the products. Returns the column blocks' products in order;
// the bias is added to the last.
std::vector<torch::Tensor> first_layer_parts(const nn::Sequential& mlp,
                                             const std::vector<torch::Tensor>& parts) {
  const auto& linear = mlp->at<nn::LinearImpl>(0);
  std::vector<torch::Tensor> out;
  int64_t column = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const int64_t width = parts[p].size(-1);
    const auto block = linear.weight.narrow(1, column, width);
    column += width;
    out.push_back(p + 1 < parts.size() ? torch::matmul(parts[p], block.t())
                                       : torch::addmm(linear.bias, parts[p], block.t()));
  }
  if (column != linear.weight.size(1))
    throw InvalidArgument("point network: an MLP's parts have " + std::to_string(column) +
                          " columns, its first layer " + std::to_string(linear.weight.size(1)));
  return out;
}

// The layers of `mlp` after the first.
torch::Tensor rest_of(nn::Sequential mlp, torch::Tensor x) {
  auto it = mlp->begin();
  for (++it; it != mlp->end(); ++it) x = it->forward(x);
  return x;
}

class MessagePassingRoundImpl : public nn::Module {
 public:
  MessagePassingRoundImpl(const PointNetConfig& c, int g_dim) {
    const int l = c.latent;
    edge_ = register_module("edge", make_mlp(2 * l + g_dim, mlp_widths(c.hidden, c.mlp_layers, l)));
    attention_ = register_module("attention",
                                 make_mlp(3 * l + g_dim, mlp_widths(c.hidden, c.mlp_layers, 1)));
    node_ = register_module("node", make_mlp(2 * l + g_dim, mlp_widths(c.hidden, c.mlp_layers, l)));
    norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({l})));
  }

  // h [B, N, L] nodes, e [B, N, k, L] edges into each node (receiver i, sender neighbours[i][j]),
  // flat [B N k] sender row indices into h viewed as [B N, L], g [B, G]. Updates h and e.
  //   e <- edge MLP [e, h_i - h_j, g];  a = softmax over k of attention MLP [e, h_i, h_j, g];
  //   e <- a e;  h <- norm(h + node MLP [h, sum_k e, g]).
  // The edge and attention MLPs' first layers are taken part by part (first_layer_parts): W h at
  // the N nodes, then broadcast to the receiver's k edges or gathered from the senders, and W g
  // once per cloud, instead of multiplying N k concatenated rows (2.6x fewer edge flops).
  void forward(torch::Tensor& h, torch::Tensor& e, const torch::Tensor& flat,
               const torch::Tensor& g) {
    const int64_t batch = h.size(0), n = h.size(1), k = e.size(2);
    const auto senders = [&](const torch::Tensor& node) {  // [B, N, C] -> [B, N, k, C]
      const int64_t c = node.size(2);
      return node.reshape({batch * n, c}).index_select(0, flat).view({batch, n, k, c});
    };
    const auto cloud = [&](const torch::Tensor& per_cloud) {  // [B, C] -> [B, 1, 1, C]
      return per_cloud.unsqueeze(1).unsqueeze(1);
    };
    // The sums accumulate in place into the per-edge product (a fresh tensor, which its matrix
    // product does not keep for the backward pass): one edge-sized temporary (the gather) besides
    // it, where the concatenation made three (a 5000-halo ELBO, S = 10, K = 8, on 2 threads: 16.1
    // -> 10.8 s, 6.5 -> 3.1 s in the kernel, peak memory 1.6 -> 1.4 GB).
    auto edge = first_layer_parts(edge_, {e, h, g});
    edge[0].add_(edge[1].unsqueeze(2)).sub_(senders(edge[1])).add_(cloud(edge[2]));
    e = rest_of(edge_, edge[0]);
    auto attention = first_layer_parts(attention_, {e, h, h, g});
    attention[0].add_(attention[1].unsqueeze(2)).add_(senders(attention[2]));
    attention[0].add_(cloud(attention[3]));
    const auto logits = rest_of(attention_, attention[0]);
    e = e * torch::softmax(logits, 2);  // over the k edges of each receiver
    const auto received = e.sum(2);
    h = norm_->forward(h +
                       node_->forward(torch::cat({h, received, broadcast_to_points(g, n)}, -1)));
  }

 private:
  nn::Sequential edge_{nullptr}, attention_{nullptr}, node_{nullptr};
  nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(MessagePassingRound);

class PointGnn : public PointNetwork {
 public:
  explicit PointGnn(const PointNetConfig& c) : config_(c) {
    const int g_dim = c.cond_mlp.back();
    cond_ = register_module("cond", Conditioning(c));
    // The node encoder sees g, the features other than positions (velocities, log mass) and,
    // with config.absolute_positions (the default, as published), the positions themselves; see
    // PointNetConfig for why a denoiser needs them and what is invariant without them.
    const int node_features = c.absolute_positions ? c.n_features : c.n_features - 3;
    node_encoder_ = register_module(
        "node_encoder",
        make_mlp(node_features + g_dim, mlp_widths(c.hidden, c.mlp_layers, c.latent)));
    edge_encoder_ =
        register_module("edge_encoder", make_mlp(3, mlp_widths(c.hidden, c.mlp_layers, c.latent)));
    rounds_ = register_module("rounds", nn::ModuleList());
    for (int r = 0; r < c.message_passing; ++r) rounds_->push_back(MessagePassingRound(c, g_dim));
    decoder_ = register_module(
        "decoder", make_mlp(c.latent, mlp_widths(c.hidden, c.mlp_layers, c.n_features)));
  }

  torch::Tensor forward(const torch::Tensor& z_in, const torch::Tensor& gamma_in,
                        const torch::Tensor& theta_in) override {
    const auto& c = config_;
    check_inputs(c, z_in, gamma_in, theta_in);
    const int64_t batch = z_in.size(0), n = z_in.size(1), k = c.k;
    if (n < k)
      throw InvalidArgument("PointGnn: a cloud of " + std::to_string(n) +
                            " points is smaller than k = " + std::to_string(k) + " neighbours");
    const auto z = z_in;
    const auto options = z.options();
    const auto gamma = gamma_in.to(options);
    const auto theta = theta_in.to(options);

    const auto mean =
        torch::tensor({c.position_mean[0], c.position_mean[1], c.position_mean[2]}, torch::kFloat64)
            .to(options);
    const auto spread =
        torch::tensor({c.position_std[0], c.position_std[1], c.position_std[2]}, torch::kFloat64)
            .to(options);
    const auto positions = z.narrow(2, 0, 3) * spread + mean;  // physical, [B, N, 3]

    torch::Tensor flat;  // [B N k] sender rows in [B N, .]
    {
      torch::NoGradGuard no_grad;
      const auto cpu = positions.detach().to(torch::kCPU, torch::kFloat32).contiguous();
      auto neighbours = periodic_knn(cpu.data_ptr<float>(), batch, n, int(k), c.box_size);
      auto index = torch::from_blob(neighbours.data(), {batch, n * k}, torch::kInt64);
      index = index + torch::arange(batch, torch::kInt64).unsqueeze(1) * n;
      flat = index.reshape({-1}).to(z.device());
    }

    // Minimum-image vector from receiver i to sender j, in units of the position spread.
    const auto x_j = positions.reshape({batch * n, 3}).index_select(0, flat).view({batch, n, k, 3});
    auto relative = x_j - positions.unsqueeze(2);
    relative = relative - c.box_size * torch::floor(relative / c.box_size + 0.5);
    auto e = edge_encoder_->forward(relative / spread);

    const auto g = cond_->forward(gamma, theta);
    auto node_input = broadcast_to_points(g, n);
    if (c.absolute_positions)
      node_input = torch::cat({z, node_input}, -1);
    else if (c.n_features > 3)
      node_input = torch::cat({z.narrow(2, 3, c.n_features - 3), node_input}, -1);
    auto h = node_encoder_->forward(node_input);

    for (const auto& round : *rounds_) round->as<MessagePassingRound>()->forward(h, e, flat, g);
    return z - decoder_->forward(h);
  }

  const PointNetConfig& config() const override { return config_; }

 private:
  PointNetConfig config_;
  Conditioning cond_{nullptr};
  nn::Sequential node_encoder_{nullptr}, edge_encoder_{nullptr}, decoder_{nullptr};
  nn::ModuleList rounds_{nullptr};
};

// Multi-head attention of queries [B, Nq, d] on keys/values [B, Nk, d], with plain matmuls.
class AttentionImpl : public nn::Module {
 public:
  AttentionImpl(int d_model, int heads) : heads_(heads) {
    query_ = register_module("query", nn::Linear(d_model, d_model));
    key_ = register_module("key", nn::Linear(d_model, d_model));
    value_ = register_module("value", nn::Linear(d_model, d_model));
    out_ = register_module("out", nn::Linear(d_model, d_model));
  }

  torch::Tensor forward(const torch::Tensor& queries, const torch::Tensor& keys) {
    const int64_t batch = queries.size(0), nq = queries.size(1), nk = keys.size(1);
    const int64_t d = queries.size(2), dh = d / heads_;
    auto split = [&](const torch::Tensor& t, int64_t len) {
      return t.view({batch, len, heads_, dh}).transpose(1, 2);  // [B, h, len, dh]
    };
    const auto q = split(query_->forward(queries), nq);
    const auto k = split(key_->forward(keys), nk);
    const auto v = split(value_->forward(keys), nk);
    const auto weights =
        torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(dh)), -1);
    const auto mixed = torch::matmul(weights, v).transpose(1, 2).reshape({batch, nq, d});
    return out_->forward(mixed);
  }

 private:
  int64_t heads_;
  nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, out_{nullptr};
};
TORCH_MODULE(Attention);

// Pre-LayerNorm block: x + Attention(LN(x), LN(context)), then + MLP(LN(.)). With context = x it
// is the usual self-attention block; with other context it is the MAB of an ISAB.
class AttentionBlockImpl : public nn::Module {
 public:
  AttentionBlockImpl(const PointNetConfig& c, bool cross) {
    const auto d = c.d_model;
    norm_q_ = register_module("norm_q", nn::LayerNorm(nn::LayerNormOptions({d})));
    if (cross) norm_kv_ = register_module("norm_kv", nn::LayerNorm(nn::LayerNormOptions({d})));
    attention_ = register_module("attention", Attention(d, c.heads));
    norm_mlp_ = register_module("norm_mlp", nn::LayerNorm(nn::LayerNormOptions({d})));
    mlp_ = register_module("mlp", make_mlp(d, {c.mlp_width, d}));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context) {
    const auto q = norm_q_->forward(x);
    const auto kv = norm_kv_.is_empty() ? q : norm_kv_->forward(context);
    const auto y = x + attention_->forward(q, kv);
    return y + mlp_->forward(norm_mlp_->forward(y));
  }

 private:
  nn::LayerNorm norm_q_{nullptr}, norm_kv_{nullptr}, norm_mlp_{nullptr};
  Attention attention_{nullptr};
  nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(AttentionBlock);

// One layer: self-attention over the points, or with inducing points I [m, d] the ISAB
// H = MAB(I, X), out = MAB(X, H): cost O(N m) instead of O(N^2), still permutation equivariant.
class TransformerLayerImpl : public nn::Module {
 public:
  TransformerLayerImpl(const PointNetConfig& c, int g_dim) {
    cond_ = register_module("cond", nn::Linear(g_dim, c.d_model));
    if (c.inducing_points > 0) {
      inducing_ = register_parameter(
          "inducing", torch::randn({c.inducing_points, c.d_model}) / std::sqrt(double(c.d_model)));
      induce_ = register_module("induce", AttentionBlock(c, true));
      attend_ = register_module("attend", AttentionBlock(c, true));
    } else {
      attend_ = register_module("attend", AttentionBlock(c, false));
    }
  }

  torch::Tensor forward(const torch::Tensor& x_in, const torch::Tensor& g) {
    const auto x = x_in + cond_->forward(g).unsqueeze(1);
    if (induce_.is_empty()) return attend_->forward(x, x);
    const auto inducing = inducing_.unsqueeze(0).expand({x.size(0), -1, -1});
    return attend_->forward(x, induce_->forward(inducing, x));
  }

 private:
  nn::Linear cond_{nullptr};
  torch::Tensor inducing_;
  AttentionBlock induce_{nullptr}, attend_{nullptr};
};
TORCH_MODULE(TransformerLayer);

class PointTransformer : public PointNetwork {
 public:
  explicit PointTransformer(const PointNetConfig& c) : config_(c) {
    const int g_dim = c.cond_mlp.back();
    cond_ = register_module("cond", Conditioning(c));
    input_ = register_module("input", nn::Linear(c.n_features, c.d_model));
    layers_ = register_module("layers", nn::ModuleList());
    for (int l = 0; l < c.layers; ++l) layers_->push_back(TransformerLayer(c, g_dim));
    norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({c.d_model})));
    output_ = register_module("output", nn::Linear(c.d_model, c.n_features));
    // Published: the network starts as eps_hat = z, the identity of the VDM parametrisation.
    torch::NoGradGuard no_grad;
    output_->weight.zero_();
    output_->bias.zero_();
  }

  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& gamma_in,
                        const torch::Tensor& theta_in) override {
    check_inputs(config_, z, gamma_in, theta_in);
    const auto g = cond_->forward(gamma_in.to(z.options()), theta_in.to(z.options()));
    auto x = input_->forward(z);
    for (const auto& layer : *layers_) x = layer->as<TransformerLayer>()->forward(x, g);
    return z + output_->forward(norm_->forward(x));
  }

  const PointNetConfig& config() const override { return config_; }

 private:
  PointNetConfig config_;
  Conditioning cond_{nullptr};
  nn::Linear input_{nullptr}, output_{nullptr};
  nn::ModuleList layers_{nullptr};
  nn::LayerNorm norm_{nullptr};
};

}  // namespace

std::shared_ptr<PointNetwork> make_point_network(const PointNetConfig& config) {
  config.validate();
  if (config.kind == PointNetKind::Gnn) return std::make_shared<PointGnn>(config);
  return std::make_shared<PointTransformer>(config);
}

}  // namespace ds::nets
