#include "diffuscope/train/train_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "diffuscope/error.h"

namespace ds {

namespace {

using json = nlohmann::json;

template <class Enum, std::size_t N>
struct Names {
  std::array<std::pair<Enum, const char*>, N> entries;
  const char* name(Enum e) const {
    for (const auto& [value, text] : entries)
      if (value == e) return text;
    return "?";
  }
  Enum parse(const std::string& key, const std::string& text, const std::string& origin) const {
    std::string choices;
    for (const auto& [value, name] : entries) {
      if (text == name) return value;
      choices += (choices.empty() ? "" : ", ") + std::string(name);
    }
    throw InvalidArgument(origin + ": \"" + key + "\" is '" + text +
                          "' (choose one of: " + choices + ")");
  }
};

constexpr Names<TrainLoss, 2> kLosses{{{{TrainLoss::Huber, "huber"}, {TrainLoss::Mse, "mse"}}}};
constexpr Names<TrainOptimizer, 2> kOptimizers{
    {{{TrainOptimizer::Adam, "adam"}, {TrainOptimizer::AdamW, "adamw"}}}};
constexpr Names<LrSchedule, 3> kLrSchedules{{{{LrSchedule::Constant, "constant"},
                                              {LrSchedule::Milestones, "milestones"},
                                              {LrSchedule::Cosine, "cosine"}}}};
constexpr Names<TrainModality, 2> kModalities{
    {{{TrainModality::Fields, "fields"}, {TrainModality::Points, "points"}}}};
constexpr Names<TransformChoice, 4> kTransforms{{{{TransformChoice::Auto, "auto"},
                                                  {TransformChoice::Log10MinMax, "log10-minmax"},
                                                  {TransformChoice::Affine, "affine"},
                                                  {TransformChoice::Identity, "identity"}}}};

}  // namespace

UnetConfig TrainConfig::default_model() {
  UnetConfig c;
  c.dim = 16;
  c.dim_mults = {1, 2, 4};
  c.periodic_upsampling = true;
  return c;
}

TrainConfig TrainConfig::points_default() {
  TrainConfig c;
  c.modality = TrainModality::Points;
  c.optimizer = TrainOptimizer::AdamW;
  c.lr = 3e-4;
  c.weight_decay = 1e-4;
  c.lr_schedule = LrSchedule::Cosine;
  c.warmup = 5000;
  c.grad_clip = 0.0;
  c.grad_clip_value = 0.5;
  return c;
}

double TrainConfig::learning_rate(std::int64_t step) const {
  if (warmup > 0 && step < warmup) return lr * double(step + 1) / double(warmup);
  switch (lr_schedule) {
    case LrSchedule::Constant:
      return lr;
    case LrSchedule::Milestones: {
      double rate = lr;
      for (auto m : milestones)
        if (step >= m) rate *= gamma;
      return rate;
    }
    case LrSchedule::Cosine: {
      const double span = double(std::max<std::int64_t>(1, steps - warmup));
      const double progress = std::clamp(double(step - warmup) / span, 0.0, 1.0);
      return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
    }
  }
  return lr;
}

void TrainConfig::validate() const {
  auto fail = [](const std::string& what) { throw InvalidArgument("train config: " + what); };
  if (modality == TrainModality::Points) {
    try {
      network.validate();
    } catch (const InvalidArgument& e) {
      fail(std::string("\"network\": ") + e.what());
    }
  } else {
    model.validate();
  }
  if (timesteps < 2) fail("\"timesteps\" must be at least 2");
  if (schedule == ScheduleKind::CustomLinear && timesteps % 2 != 0)
    fail("\"timesteps\" must be even for the custom-linear schedule");
  if (!(lr > 0.0) || !std::isfinite(lr)) fail("\"lr\" must be positive");
  if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0))
    fail("\"betas\" must lie in [0, 1)");
  if (!(eps > 0.0)) fail("\"eps\" must be positive");
  if (!(weight_decay >= 0.0)) fail("\"weight_decay\" must be >= 0");
  if (!(gamma > 0.0)) fail("\"gamma\" must be positive");
  for (auto m : milestones)
    if (m <= 0) fail("\"milestones\" must be positive steps");
  if (warmup < 0) fail("\"warmup\" must be >= 0");
  if (!(min_lr >= 0.0) || min_lr > lr) fail("\"min_lr\" must lie in [0, lr]");
  if (!(grad_clip >= 0.0)) fail("\"grad_clip\" must be >= 0 (0 disables clipping)");
  if (!(grad_clip_value >= 0.0))
    fail("\"grad_clip_value\" must be >= 0 (0 disables element-wise clipping)");
  if (!(ema_decay >= 0.0 && ema_decay < 1.0)) fail("\"ema_decay\" must lie in [0, 1)");
  if (ema_start < 0) fail("\"ema_start\" must be >= 0");
  if (batch_size < 1) fail("\"batch_size\" must be at least 1");
  if (steps < 1) fail("\"steps\" must be at least 1");
  if (checkpoint_every < 1) fail("\"checkpoint_every\" must be at least 1");
  if (log_every < 1) fail("\"log_every\" must be at least 1");
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0))
    fail("\"validation_fraction\" must lie in [0, 1)");
  if (validate_every < 0) fail("\"validate_every\" must be >= 0 (0 disables validation)");
  if (validation_fields < 1 || validation_samples < 2)
    fail("\"validation_fields\" must be >= 1 and \"validation_samples\" >= 2");
  if (validation_sampler_steps < 1 || validation_sampler_steps > timesteps)
    fail("\"validation_sampler_steps\" must lie in [1, timesteps]");
}

std::string TrainConfig::to_json() const {
  json j;
  j["modality"] = kModalities.name(modality);
  if (modality == TrainModality::Points) {
    j["network"] = json::parse(network.to_json());
  } else {
    j["model"] = json::parse(model.to_json());
    j["schedule"] = kSchedules.name(schedule);
    j["timesteps"] = timesteps;
    j["transform"] = kTransforms.name(transform);
    j["loss"] = kLosses.name(loss);
  }
  j["optimizer"] = kOptimizers.name(optimizer);
  j["lr"] = lr;
  j["betas"] = {beta1, beta2};
  j["eps"] = eps;
  j["weight_decay"] = weight_decay;
  j["lr_schedule"] = kLrSchedules.name(lr_schedule);
  j["milestones"] = milestones;
  j["gamma"] = gamma;
  j["warmup"] = warmup;
  j["min_lr"] = min_lr;
  j["grad_clip"] = grad_clip;
  j["grad_clip_value"] = grad_clip_value;
  j["ema_decay"] = ema_decay;
  j["ema_start"] = ema_start;
  j["batch_size"] = batch_size;
  j["steps"] = steps;
  j["augment"] = augment;
  j["seed"] = seed;
  j["checkpoint_every"] = checkpoint_every;
  j["log_every"] = log_every;
  j["validation_fraction"] = validation_fraction;
  j["validate_every"] = validate_every;
  j["validation_fields"] = validation_fields;
  j["validation_samples"] = validation_samples;
  j["validation_sampler_steps"] = validation_sampler_steps;
  j["mixed_precision"] = mixed_precision;
  j["init_from"] = init_from;
  return j.dump(2);
}

namespace {
// An integer setting: a JSON integer, or a number with an integral value (1e5 for steps), within
// the type's range. nlohmann converts a float by a plain cast, undefined behaviour outside the
// range (7.8e32 steps; found by fuzz_json_config).
template <class T>
T integer_setting(const json& v, const std::string& origin, const std::string& name) {
  const auto wrong = [&] {
    return InvalidArgument(origin + ": \"" + name + "\" must be an integer from " +
                           std::to_string(std::numeric_limits<T>::min()) + " to " +
                           std::to_string(std::numeric_limits<T>::max()) + ", got " + v.dump());
  };
  if (v.is_number_unsigned()) {
    if (v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<T>::max())) throw wrong();
    return T(v.get<std::uint64_t>());
  }
  if (v.is_number_integer()) {
    const std::int64_t i = v.get<std::int64_t>();
    if (i < std::int64_t(std::numeric_limits<T>::min()) ||
        (i > 0 && std::uint64_t(i) > std::uint64_t(std::numeric_limits<T>::max())))
      throw wrong();
    return T(i);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // Within range (2^63 is the first double above int64's maximum) and integral.
    if (!(d >= double(std::numeric_limits<T>::min()) &&
          d < double(std::numeric_limits<T>::max()) + 1.0) ||
        d != std::floor(d))
      throw wrong();
    return T(d);
  }
  throw wrong();
}
}  // namespace

TrainConfig TrainConfig::from_json(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw InvalidArgument(origin + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw InvalidArgument(origin + ": the training config must be an object");
  static const std::set<std::string> known{"modality",
                                           "network",
                                           "model",
                                           "schedule",
                                           "timesteps",
                                           "transform",
                                           "loss",
                                           "optimizer",
                                           "lr",
                                           "betas",
                                           "eps",
                                           "weight_decay",
                                           "lr_schedule",
                                           "milestones",
                                           "gamma",
                                           "warmup",
                                           "min_lr",
                                           "grad_clip",
                                           "grad_clip_value",
                                           "ema_decay",
                                           "ema_start",
                                           "batch_size",
                                           "steps",
                                           "augment",
                                           "seed",
                                           "checkpoint_every",
                                           "log_every",
                                           "validation_fraction",
                                           "validate_every",
                                           "validation_fields",
                                           "validation_samples",
                                           "validation_sampler_steps",
                                           "mixed_precision",
                                           "init_from"};
  for (const auto& item : j.items())
    if (!known.count(item.key()))
      throw InvalidArgument(origin + ": unknown key \"" + item.key() + "\"");

  TrainConfig c;
  if (j.contains("modality")) {
    if (!j["modality"].is_string())
      throw InvalidArgument(origin + ": \"modality\" must be \"fields\" or \"points\"");
    if (kModalities.parse("modality", j["modality"].get<std::string>(), origin) ==
        TrainModality::Points)
      c = points_default();
  }
  const bool points = c.modality == TrainModality::Points;
  // Settings of the other modality would be ignored silently: refuse them.
  for (const char* field_key : {"model", "schedule", "timesteps", "transform", "loss"})
    if (points && j.contains(field_key))
      throw InvalidArgument(origin + ": \"" + field_key +
                            "\" is a 2D field setting; a \"points\" config takes \"network\"");
  if (!points && j.contains("network"))
    throw InvalidArgument(origin +
                          ": \"network\" is a point-cloud setting; add \"modality\": \"points\"");
  // The key being read, for the error message: a copy, as `name` is a temporary made from the
  // literal at each call (a pointer to it dangled in the handler below; found by fuzz_json_config).
  std::string key;
  auto get = [&](const std::string& name, auto& target) {
    if (!j.contains(name)) return;
    key = name;
    using T = std::decay_t<decltype(target)>;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      target = integer_setting<T>(j.at(name), origin, name);
    } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
      if (!j.at(name).is_array())
        throw InvalidArgument(origin + ": \"" + name + "\" must be a list of integers");
      target.clear();
      for (const auto& item : j.at(name))
        target.push_back(integer_setting<std::int64_t>(item, origin, name));
    } else {
      target = j.at(name).get<T>();
    }
  };
  try {
    if (j.contains("model")) {
      if (!j["model"].is_object())
        throw InvalidArgument(origin + ": \"model\" must be an object of U-Net settings");
      // Keys not given keep the CPU default, not the authors' (larger) defaults.
      json merged = json::parse(default_model().to_json());
      for (const auto& item : j["model"].items()) merged[item.key()] = item.value();
      try {
        c.model = UnetConfig::from_json(merged.dump());
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(origin + ": \"model\": " + e.what());
      }
    }
    if (j.contains("network")) {
      if (!j["network"].is_object())
        throw InvalidArgument(origin + ": \"network\" must be an object of point-network settings");
      json merged = json::parse(c.network.to_json());
      for (const auto& item : j["network"].items()) merged[item.key()] = item.value();
      try {
        c.network = PointNetConfig::from_json(merged.dump());
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(origin + ": \"network\": " + e.what());
      }
    }
    std::string text_value;
    if (j.contains("schedule")) {
      get("schedule", text_value);
      try {
        c.schedule = kSchedules.from_string(text_value);
      } catch (const std::exception& e) {
        throw InvalidArgument(origin + ": \"schedule\": " + e.what());
      }
    }
    if (j.contains("transform")) {
      get("transform", text_value);
      c.transform = kTransforms.parse("transform", text_value, origin);
    }
    if (j.contains("loss")) {
      get("loss", text_value);
      c.loss = kLosses.parse("loss", text_value, origin);
    }
    if (j.contains("optimizer")) {
      get("optimizer", text_value);
      c.optimizer = kOptimizers.parse("optimizer", text_value, origin);
    }
    if (j.contains("lr_schedule")) {
      get("lr_schedule", text_value);
      c.lr_schedule = kLrSchedules.parse("lr_schedule", text_value, origin);
    }
    if (j.contains("betas")) {
      std::vector<double> betas;
      get("betas", betas);
      if (betas.size() != 2) throw InvalidArgument(origin + ": \"betas\" must hold two numbers");
      c.beta1 = betas[0];
      c.beta2 = betas[1];
    }
    get("timesteps", c.timesteps);
    get("lr", c.lr);
    get("eps", c.eps);
    get("weight_decay", c.weight_decay);
    get("milestones", c.milestones);
    get("gamma", c.gamma);
    get("warmup", c.warmup);
    get("min_lr", c.min_lr);
    get("grad_clip", c.grad_clip);
    get("grad_clip_value", c.grad_clip_value);
    get("ema_decay", c.ema_decay);
    get("ema_start", c.ema_start);
    get("batch_size", c.batch_size);
    get("steps", c.steps);
    get("augment", c.augment);
    get("seed", c.seed);
    get("checkpoint_every", c.checkpoint_every);
    get("log_every", c.log_every);
    get("validation_fraction", c.validation_fraction);
    get("validate_every", c.validate_every);
    get("validation_fields", c.validation_fields);
    get("validation_samples", c.validation_samples);
    get("validation_sampler_steps", c.validation_sampler_steps);
    get("mixed_precision", c.mixed_precision);
    get("init_from", c.init_from);
  } catch (const json::exception& e) {
    throw InvalidArgument(origin + ": \"" + (key.empty() ? std::string("?") : key) +
                          "\" has the wrong type (" + e.what() + ")");
  }
  try {
    c.validate();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(origin + ": " + e.what());
  }
  return c;
}

}  // namespace ds
