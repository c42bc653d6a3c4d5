// Training settings of a 2D field model or a point-cloud model (`diffuscope-cli train --config
// C.json`). Every key has a default, so "{}" trains the CPU default architecture; unknown keys are
// errors (a typo must not silently train something else). The whole config travels inside every
// checkpoint.
//
// {
//   "modality":   "fields" (default: 2D fields, U-Net, DDPM) | "points" (halo catalogues,
//                 variational diffusion model, train/point_trainer.h),
//   "network":    PointNetConfig JSON (points only; keys not given keep the published GNN;
//                 n_features and the geometry are set from the data),
//   "model":      UnetConfig as the authors' model_kwargs (dim, dim_mults, ...),
//   "schedule":   "custom-linear" | "linear" | "cosine",   "timesteps": 1000,
//   "transform":  "log10-minmax" | "affine" | "identity" | "auto" (log10-minmax for positive
//                 data, affine otherwise); constants fitted to the training split; maps
//                 with empty pixels get log10(x + floor), floor = 1 % of the mean,
//   "loss":       "huber" | "mse"  (on the noise; Huber with delta 1 = smooth L1, as published),
//   "optimizer":  "adam" | "adamw", "lr": 2e-4, "betas": [0.9, 0.999], "eps": 1e-8,
//   "weight_decay": 0,
//   "lr_schedule": "constant" | "milestones" | "cosine", "milestones": [steps...], "gamma": 0.5,
//   "warmup": 0 (linear warm-up steps), "min_lr": 0 (cosine floor),
//   "grad_clip": 1.0 (global L2 norm; 0 = off),
//   "grad_clip_value": 0 (element-wise clipping of every gradient value to [-c, c]; 0 = off;
//                 applied before "grad_clip"),
//   "ema_decay": 0.999, "ema_start": 0 (EMA = weights before this step),
//   "batch_size": 16, "steps": 10000, "augment": true (random D4 flips and rotations),
//   "seed": 0, "checkpoint_every": 500, "log_every": 50,
//   "validation_fraction": 0.1, "validate_every": 2000, "validation_fields": 4,
//   "validation_samples": 6, "validation_sampler_steps": 25,
//   "mixed_precision": false (CUDA only: bfloat16 autocast),
//   "init_from": "" (checkpoint whose matching weights initialise this model, e.g. 64 -> 256)
// }
// With "modality": "points", keys not given take the published point-cloud values
// (reference/point-cloud.md, "Training") instead: optimizer adamw, lr 3e-4, weight_decay 1e-4,
// lr_schedule cosine, warmup 5000, grad_clip 0, grad_clip_value 0.5; "model", "schedule",
// "timesteps", "transform" and "loss" are 2D settings and refused there, "network" is refused
// for fields. validation_fields is the number of held-out clouds whose loss is the validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/nets/point_net_config.h"
#include "diffuscope/nets/unet_config.h"
#include "diffuscope/registries.h"

namespace ds {

enum class TrainLoss { Huber, Mse };
enum class TrainOptimizer { Adam, AdamW };
enum class LrSchedule { Constant, Milestones, Cosine };
enum class TransformChoice { Auto, Log10MinMax, Affine, Identity };
enum class TrainModality { Fields, Points };

struct TrainConfig {
  TrainModality modality = TrainModality::Fields;
  PointNetConfig network;  // points only
  UnetConfig model = default_model();
  ScheduleKind schedule = ScheduleKind::CustomLinear;
  int timesteps = 1000;
  TransformChoice transform = TransformChoice::Auto;
  TrainLoss loss = TrainLoss::Huber;
  TrainOptimizer optimizer = TrainOptimizer::Adam;
  double lr = 2e-4;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  LrSchedule lr_schedule = LrSchedule::Constant;
  std::vector<std::int64_t> milestones;
  double gamma = 0.5;
  std::int64_t warmup = 0;
  double min_lr = 0.0;
  double grad_clip = 1.0;
  double grad_clip_value = 0.0;
  double ema_decay = 0.999;
  std::int64_t ema_start = 0;
  int batch_size = 16;
  std::int64_t steps = 10000;
  bool augment = true;
  std::uint64_t seed = 0;
  std::int64_t checkpoint_every = 500;
  std::int64_t log_every = 50;
  double validation_fraction = 0.1;
  std::int64_t validate_every = 2000;
  int validation_fields = 4;
  int validation_samples = 6;
  int validation_sampler_steps = 25;
  bool mixed_precision = false;
  std::string init_from;

  // The CPU default: dim 16, dim_mults (1, 2, 4), periodic upsampling (exact shift
  // equivariance).
  static UnetConfig default_model();
  // The published point-cloud settings (see above), network the published GNN.
  static TrainConfig points_default();

  // Learning rate at a step (0-based): warm-up ramp, then the schedule.
  double learning_rate(std::int64_t step) const;

  // Throws InvalidArgument naming the key and the problem.
  void validate() const;
  std::string to_json() const;
  // `origin` names the file in errors.
  static TrainConfig from_json(const std::string& json, const std::string& origin = "config");
};

}  // namespace ds
