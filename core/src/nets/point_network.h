// The torch-level interface of a point-cloud score network (DESIGN.md, ScoreNet; continuous-time
// models take the log-SNR gamma as their time). Implementations: PointGnn and PointTransformer
// (nets/point_nets.cpp), built from a PointNetConfig.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "diffuscope/nets/point_net_config.h"

namespace ds::nets {

class PointNetwork : public torch::nn::Module {
 public:
  // z [B, N, F] float32 standardised noisy features (positions first); gamma [B] float32 log-SNR;
  // theta [B, P] float32 raw parameters. Returns eps_hat [B, N, F] on z's device. Equivariant
  // under permutations of the N points; the GNN also under periodic translations of the
  // positions. Differentiable in theta unless called under InferenceMode. Throws
  // InvalidArgument for shapes other than these, and (GNN) for clouds of fewer than k points.
  // The GNN's neighbour search runs on the CPU (one device-to-host copy of the positions).
  virtual torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& gamma,
                                const torch::Tensor& theta) = 0;
  virtual const PointNetConfig& config() const = 0;
};

// A network of config.kind with LibTorch's default initialisation (then the published zero
// initialisation of the transformer's output layer). Throws InvalidArgument for a bad config.
std::shared_ptr<PointNetwork> make_point_network(const PointNetConfig& config);

}  // namespace ds::nets
