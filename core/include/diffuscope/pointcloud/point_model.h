// A trained point-cloud diffusion model (variational diffusion model + GNN/transformer score
// network + PointTransform) behind a torch-free facade for the CLI, the GUI and the inference
// engine: sampling halo catalogues and ELBO likelihoods (reference/point-cloud.md).
//
// Model file: Diffuscope's HDF5 checkpoint (data/model_file.h) with /config
//   {"format": "diffuscope-model", "modality": "points",
//    "network": PointNetConfig JSON, "transform": PointTransform JSON,
//    "gamma": {"gamma0": 14, "gamma1": -8} (initial values; the learned ones are weights),
//    "parameters": ["Omega_m", "sigma_8"], "training": TrainConfig JSON, "data": {...},
//    "version": "..."}
// and /weights named as VdmImpl::named_parameters(): "net.<...>", "gamma.b", "gamma.w".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/density/log_density.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/nets/point_net_config.h"
#include "diffuscope/pointcloud/point_transform.h"
#include "diffuscope/registries.h"

namespace ds {

struct PointModelInfo {
  std::string path;
  std::string architecture;  // PointNetConfig::describe()
  PointNetConfig network;
  PointTransform transform;
  std::vector<std::string> parameter_names{"Omega_m", "sigma_8"};
  std::int64_t parameter_count = 0;     // trainable numbers, schedule included
  double gamma0 = 14.0, gamma1 = -8.0;  // the learned schedule's end points
  std::int64_t step = 0;                // training steps (0 when unknown)
  bool has_ema = false;
  std::string weights;  // "weights" or "ema"
  std::string config_json;
};

// The info as a JSON object (file, modality "points", architecture, parameters, features,
// box_size, gamma0, gamma1, step, transform, network).
std::string point_model_info_json(const PointModelInfo& info);

enum class PointSamplerKind { Ancestral, Ode };

struct PointSampleSettings {
  PointSamplerKind sampler = PointSamplerKind::Ancestral;
  int steps = 100;
  std::uint64_t seed = 1;
  std::vector<std::int64_t> trace;  // particle indices reported at every step (GUI animation)
};

// One sampler step for the traced particles: [clouds, trace.size(), F] in physical units
// (positions wrapped into the box).
struct PointTrajectoryStep {
  int step = 0, steps = 0;
  std::vector<float> traced;
};

struct PointElboSettings {
  int steps = 50;          // S: Riemann sum over t = i / S
  int draws = 8;           // K: noise draws (common random numbers)
  std::uint64_t seed = 0;  // of the draws
  std::int64_t chunk = 0;  // largest network batch (0: automatic)
};

struct PointElboResult {
  std::size_t count = 0;               // G parameter points
  int draws = 0;                       // K
  std::vector<double> per_draw;        // [G, K] nats
  std::vector<double> mean;            // [G] mean over the draws: the log-likelihood estimate
  std::vector<double> standard_error;  // [G] std over draws / sqrt(K) (NaN for K = 1)
  std::vector<double> gradient;        // [G, P] d mean / d theta when asked for, else empty
};

class PointCloudModel {
 public:
  // A Diffuscope HDF5 model whose /config has modality "points". ema selects the /ema weights
  // of a training checkpoint (FileError when absent). Throws FileError naming the path and the
  // problem (not HDF5, not a point model, missing or mis-shaped weights).
  static PointCloudModel load(const std::string& path, Device device = Device::Cpu,
                              bool ema = false);
  // True for an HDF5 Diffuscope model with modality "points" (false for anything else, never
  // throws for a readable file).
  static bool is_point_model(const std::string& path);
  // An untrained model (tests, benchmarks): network of `network` with default initialisation
  // after torch::manual_seed(seed), the published schedule (14, -8).
  static PointCloudModel with_random_weights(const PointNetConfig& network,
                                             const PointTransform& transform,
                                             std::uint64_t seed = 0, Device device = Device::Cpu);

  PointCloudModel(PointCloudModel&&) noexcept;
  PointCloudModel& operator=(PointCloudModel&&) noexcept;
  ~PointCloudModel();

  const PointModelInfo& info() const;
  int features() const { return info().network.n_features; }
  // Points per cloud the model was trained on, from its /config ("data": {"points": N} or
  // {"shape": [M, N, F]}); 0 when the file does not say. What `sample` and the GUI draw by
  // default.
  int training_points() const;
  Device device() const;

  // n clouds of n_points at raw theta (P values, inside the prior box, else InvalidArgument),
  // [n, n_points, F] in physical units, positions wrapped into [0, box). on_step gets the traced
  // particles after every step; job reports progress and cancels between steps.
  std::vector<float> sample(const std::vector<double>& theta, int n, int n_points,
                            const PointSampleSettings& settings,
                            const PartialResultCallback<PointTrajectoryStep>& on_step = {},
                            const JobContext& job = {}) const;

  // ELBO of one cloud (physical units, [n_points, F], F = features()) at `count` raw parameter
  // points thetas [count, P], with the same random numbers at every point. Throws
  // InvalidArgument for wrong sizes, non-finite values or F mismatch.
  PointElboResult elbo(const std::vector<float>& cloud, std::int64_t n_points,
                       const std::vector<double>& thetas, std::size_t count,
                       const PointElboSettings& settings, bool gradient = false,
                       const JobContext& job = {}) const;

  // For the trainer and samplers inside core: the torch module (pointcloud::VdmImpl).
  struct Impl;
  Impl& impl() const;

 private:
  explicit PointCloudModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// log L(theta) = mean over the K common draws of the ELBO of one cloud: a smooth deterministic
// function of theta, with its autograd gradient; points are evaluated in one batch. Combine with
// BoxPrior for a posterior. names(): Omega_m, sigma_8.
class PointElboLogDensity : public LogDensity {
 public:
  PointElboLogDensity(std::shared_ptr<const PointCloudModel> model, std::vector<float> cloud,
                      std::int64_t n_points, PointElboSettings settings);
  std::size_t dimension() const override;
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override;
  std::vector<std::string> names() const override;
  std::vector<std::string> labels() const override;

 private:
  std::shared_ptr<const PointCloudModel> model_;
  std::vector<float> cloud_;
  std::int64_t n_points_;
  PointElboSettings settings_;
  struct Prepared;  // the standardised cloud and the noise draws, made once
  std::shared_ptr<const Prepared> prepared_;
};

}  // namespace ds
