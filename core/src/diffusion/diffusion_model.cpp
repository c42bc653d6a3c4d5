#include "diffuscope/diffusion/diffusion_model.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "diffuscope/error.h"

namespace ds {

std::vector<float> ParameterNormalisation::normalise(const std::vector<double>& raw) const {
  const std::size_t p = size();
  if (p == 0 || width.size() != p)
    throw InvalidArgument("parameter normalisation: lo and width differ in length");
  if (raw.size() % p != 0)
    throw InvalidArgument("parameters: " + std::to_string(raw.size()) + " values are not rows of " +
                          std::to_string(p));
  std::vector<float> out(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!std::isfinite(raw[i]))
      throw InvalidArgument("parameters: value " + std::to_string(i % p) + " of row " +
                            std::to_string(i / p) + " is not finite");
    out[i] = static_cast<float>((raw[i] - lo[i % p]) / width[i % p]);
  }
  return out;
}

DiffusionModel2d DiffusionModel2d::load(const std::string& path, Device device, bool ema) {
  ScoreNet2d net = ScoreNet2d::load(path, device, ema);
  const ScoreNetInfo& info = net.info();
  NoiseSchedule schedule;
  if (!info.betas.empty()) {
    const auto arithmetic = info.format == ScoreNetFormat::PytorchCheckpoint
                                ? ScheduleArithmetic::Float32Torch
                                : ScheduleArithmetic::Double;
    try {
      schedule = NoiseSchedule::from_betas(info.betas, arithmetic,
                                           info.schedule.empty() ? "checkpoint" : info.schedule);
    } catch (const InvalidArgument& e) {
      throw FileError(path, e.what());
    }
  } else {
    ScheduleKind kind = ScheduleKind::CustomLinear;
    if (!info.schedule.empty()) {
      try {
        kind = schedule_kind_from_checkpoint_name(info.schedule);
      } catch (const InvalidArgument& e) {
        throw FileError(path, e.what());
      }
    }
    schedule = make_schedule(kind);
  }

  FieldTransform transform = FieldTransform::diffusion_hmc();
  ParameterNormalisation parameters;
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(info.config_json.empty() ? "{}" : info.config_json);
  } catch (const nlohmann::json::exception&) {
    config = nlohmann::json::object();
  }
  if (config.is_object()) {
    try {
      if (config.contains("transform"))
        transform = FieldTransform::from_json(config["transform"].dump());
      if (config.contains("param_lo") && config.contains("param_width")) {
        parameters.lo = config["param_lo"].get<std::vector<double>>();
        parameters.width = config["param_width"].get<std::vector<double>>();
      }
    } catch (const std::exception& e) {
      throw FileError(path, std::string("bad model metadata: ") + e.what());
    }
  }
  if (parameters.lo.size() != parameters.width.size())
    throw FileError(path, "param_lo and param_width differ in length");
  for (double w : parameters.width)
    if (!(w > 0.0)) throw FileError(path, "param_width holds a non-positive width");
  if (info.conditional_dim > 0 && std::size_t(info.conditional_dim) != parameters.size())
    throw FileError(path, "the network takes " + std::to_string(info.conditional_dim) +
                              " parameters but the normalisation has " +
                              std::to_string(parameters.size()));
  return DiffusionModel2d{std::move(net), std::move(schedule), transform, std::move(parameters)};
}

void require_field_size(const DiffusionModel2d& model, int n) {
  const int factor = model.net.info().downsampling_factor;
  if (n <= 0 || n % factor != 0)
    throw InvalidArgument("field size " + std::to_string(n) + " is not a positive multiple of " +
                          std::to_string(factor) + " (the network's total downsampling)");
}

}  // namespace ds
