// Architecture of a point-cloud score network eps_hat = f(z_t, gamma_t, theta) for halo
// catalogues (reference/point-cloud.md, "Score networks"): a GNN on a periodic k-nearest-neighbour
// graph or a permutation-equivariant transformer (optionally with induced-point attention).
// Torch-free: it travels as JSON in the model file's /config ("network").
#pragma once

#include <array>
#include <string>
#include <vector>

namespace ds {

enum class PointNetKind { Gnn, Transformer };

struct PointNetConfig {
  PointNetKind kind = PointNetKind::Gnn;
  int n_features = 3;  // F: 3 (x y z) or 7 (x y z vx vy vz log10_mass); positions come first
  int n_params = 2;    // P: (Omega_m, sigma_8), raw values (not normalised, as published)

  // Conditioning: sinusoidal embedding (time_embedding) of 1000 * gamma_t, concatenated with a
  // Dense(P -> theta_embedding), then an MLP of widths cond_mlp with GELU (last width = the
  // conditioning vector g).
  int time_embedding = 16;
  int theta_embedding = 16;
  std::vector<int> cond_mlp{128, 128, 32};

  // GNN: k neighbours including the point itself, found on the noisy positions with the periodic
  // minimum image; node/edge encoders MLP [hidden] x mlp_layers + [latent]; message_passing
  // rounds (weights not shared); decoder MLP [hidden] x mlp_layers + [F]; eps_hat = z - h.
  int k = 20;
  int hidden = 128;
  int mlp_layers = 4;
  int latent = 16;
  int message_passing = 4;
  // The node encoder also sees the absolute (standardised, noisy) positions, as the published
  // code does. The noise process is not translation invariant (z_1 ~ N(0, I) is centred on the
  // box centre in standardised units, and z_t = alpha_t x + sigma_t eps shrinks positions towards
  // it), so a denoiser needs them: without them h depends on positions only through the
  // minimum-image edge vectors, eps_hat = z - h is exactly equivariant under periodic
  // translations, and such a network cannot fit the noise at low noise levels (its loss stays
  // above that of eps_hat = 0). The graph and the edge features are periodic-translation
  // invariant either way.
  bool absolute_positions = true;

  // Transformer: Dense(F -> d_model), conditioning Dense(g -> d_model) added before each layer,
  // pre-LayerNorm blocks (heads, GELU MLP of mlp_width), final LayerNorm, zero-initialised
  // Dense(d_model -> F); eps_hat = z + h. inducing_points > 0 replaces self-attention by ISAB
  // with that many induced points (cost linear in N).
  int d_model = 256;
  int heads = 4;
  int layers = 4;
  int mlp_width = 1024;
  int inducing_points = 0;

  // Geometry for the periodic neighbour search: the network sees standardised features; the
  // physical position of feature d < 3 is z * position_std[d] + position_mean[d], wrapped into
  // [0, box_size). Set from the data's PointTransform when a model is built.
  double box_size = 1000.0;
  std::array<double, 3> position_mean{500.0, 500.0, 500.0};
  std::array<double, 3> position_std{288.675, 288.675, 288.675};

  // JSON object; from_json rejects unknown keys and bad values (InvalidArgument naming them).
  std::string to_json() const;
  static PointNetConfig from_json(const std::string& json);
  // One line, e.g. "PointGnn(F=7, k=20, hidden=128, rounds=4, ...)".
  std::string describe() const;
  // Throws InvalidArgument naming the field for non-positive sizes, k < 2, F < 3, ...
  void validate() const;
};

const char* point_net_kind_name(PointNetKind kind);  // "gnn" | "transformer"

}  // namespace ds
