// A 2D diffusion model as samplers and likelihoods use it (DESIGN.md, Diffusion): score network +
// noise schedule + field transform + parameter normalisation. Torch-free.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "diffuscope/diffusion/schedule.h"
#include "diffuscope/diffusion/transform.h"
#include "diffuscope/nets/score_net.h"

namespace ds {

// The network sees theta_n = (theta - lo) / width per parameter. Diffusion-HMC: Omega_m in
// [0.1, 0.5], sigma_8 in [0.6, 1.0] -> [0, 1].
struct ParameterNormalisation {
  std::vector<double> lo{0.1, 0.6};
  std::vector<double> width{0.4, 0.4};

  std::size_t size() const { return lo.size(); }
  // raw [rows, P] -> normalised [rows, P], float32 as the network takes it. Throws
  // InvalidArgument when raw.size() is not a multiple of P or a value is not finite.
  std::vector<float> normalise(const std::vector<double>& raw) const;
};

struct DiffusionModel2d {
  ScoreNet2d net;
  NoiseSchedule schedule;
  FieldTransform transform;
  ParameterNormalisation parameters;

  int channels() const { return net.info().channels; }
  std::size_t parameter_count() const { return parameters.size(); }

  // Loads a network with ScoreNet2d::load and completes it:
  //   schedule: the checkpoint's betas; for a Diffusion-HMC PyTorch checkpoint derived with
  //     ScheduleArithmetic::Float32Torch (the arithmetic the model was trained and evaluated
  //     with), otherwise in double. Without betas: the named schedule, else custom-linear.
  //   transform: the TorchScript metadata key "transform" (FieldTransform JSON) when present,
  //     else Diffusion-HMC's log10-minmax (9.421, 15.445).
  //   parameters: metadata keys "param_lo" / "param_width" when present, else Diffusion-HMC's.
  static DiffusionModel2d load(const std::string& path, Device device = Device::Cpu,
                               bool ema = false);
};

// Checks that a field of side n fits the model (positive, multiple of the network's total
// downsampling); throws InvalidArgument naming n and the factor.
void require_field_size(const DiffusionModel2d& model, int n);

}  // namespace ds
