#include "diffuscope/train/trainer.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/runtime.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "nets/named_tensors.h"
#include "nets/unet.h"
#include "train/training_loop.h"

namespace ds {

namespace {

using json = nlohmann::json;

// Stream of the train/validation split; examples use train::example_stream(position).
constexpr std::uint64_t kSplitStream = 0xD1FF'5C09'E000'0001ULL;
constexpr std::uint64_t kValidationStream = 0xD1FF'5C09'E000'0002ULL;

// Maps with empty pixels get log10(x + floor) with floor = 1 % of the mean (train_config.h).
constexpr double kEmptyPixelFloor = 0.01;

// Everything about the data the model needs beyond the network: split, transform, parameters.
struct PreparedData {
  int n = 0;
  std::size_t parameters = 0;
  double box_size = 1.0;
  FieldKind kind = FieldKind::Density;
  FieldTransform transform;
  ParameterNormalisation normalisation;
  torch::Tensor x0;     // [train, 1, n, n] model space, CPU
  torch::Tensor theta;  // [train, P] normalised, CPU
  std::string fingerprint;
};

ParameterNormalisation normalisation_for(const Dataset& d, std::size_t p) {
  ParameterNormalisation norm;
  norm.lo.assign(p, 0.0);
  norm.width.assign(p, 1.0);
  for (std::size_t k = 0; k < p; ++k) {
    const std::string& name = d.param_names[k];
    if (name == "Omega_m") {
      norm.lo[k] = kDefaultPrior.omega_m.lo;
      norm.width[k] = kDefaultPrior.omega_m.hi - kDefaultPrior.omega_m.lo;
    } else if (name == "sigma_8") {
      norm.lo[k] = kDefaultPrior.sigma_8.lo;
      norm.width[k] = kDefaultPrior.sigma_8.hi - kDefaultPrior.sigma_8.lo;
    } else {
      double lo = d.param(0, k), hi = lo;
      for (std::size_t i = 1; i < d.count(); ++i) {
        lo = std::min(lo, d.param(i, k));
        hi = std::max(hi, d.param(i, k));
      }
      norm.lo[k] = lo;
      norm.width[k] = hi > lo ? hi - lo : 1.0;
    }
  }
  return norm;
}

FieldTransform choose_transform(TransformChoice choice, const std::vector<float>& train_values) {
  switch (choice) {
    case TransformChoice::Log10MinMax:
      return FieldTransform::fit_log10_min_max(train_values, kEmptyPixelFloor);
    case TransformChoice::Affine:
      return FieldTransform::fit_affine(train_values);
    case TransformChoice::Identity:
      return FieldTransform::identity();
    case TransformChoice::Auto:
      break;
  }
  for (float v : train_values)
    if (!(v >= 0.0f)) return FieldTransform::fit_affine(train_values);
  return FieldTransform::fit_log10_min_max(train_values, kEmptyPixelFloor);
}

// Model-space tensors of some rows.
void fill_tensors(const Dataset& d, const std::vector<std::size_t>& rows, PreparedData& p) {
  const std::size_t size = d.sample_size();
  std::vector<float> x(rows.size() * size);
  std::vector<double> raw;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::copy(d.sample(rows[r]), d.sample(rows[r]) + size, x.begin() + long(r * size));
    for (std::size_t k = 0; k < p.parameters; ++k) raw.push_back(d.param(rows[r], k));
  }
  p.transform.to_model(x);
  const auto theta = p.normalisation.normalise(raw);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  p.x0 = torch::from_blob(x.data(), {long(rows.size()), 1, p.n, p.n}, f32).clone();
  p.theta = torch::from_blob(const_cast<float*>(theta.data()),
                             {long(rows.size()), long(p.parameters)}, f32)
                .clone();
}

// Applies one of the 8 symmetries of the square: k quarter turns, then a mirror for g >= 4.
torch::Tensor dihedral(const torch::Tensor& x, int g) {
  torch::Tensor y = (g % 4) ? torch::rot90(x, g % 4, {-2, -1}) : x;
  return g >= 4 ? y.flip({-1}) : y;
}

class Trainer : public train::TrainingLoop {
 public:
  using TrainingLoop::TrainingLoop;

 private:
  void prepare(TrainSummary& summary) override;
  double train_step(std::int64_t step) override;
  ValidationPoint validate(std::int64_t step) override;
  std::string validation_line(const ValidationPoint& point) const override;
  const char* loss_name() const override { return "loss"; }
  ModelCheckpoint model_checkpoint() override;
  void prepare_data();
  void build_network();
  void resume_from(const ModelCheckpoint& checkpoint);
  void initialise_from(const std::string& path);
  std::string model_config_json() const;

  std::shared_ptr<const Dataset> data_;
  PreparedData prepared_;
  NoiseSchedule schedule_;
  std::shared_ptr<nets::UnetScoreNetwork> net_, ema_net_;
  torch::Tensor sqrt_alphabar_, sqrt_one_minus_alphabar_;
};

void Trainer::prepare_data() {
  data_ = training_data();
  const Dataset& d = *data_;
  const std::string origin = data_origin();
  if (d.kind != SampleKind::Fields || d.shape.size() != 3 || d.shape[1] != d.shape[2])
    throw InvalidArgument(origin + ": training needs square 2D fields [M, N, N]");
  prepared_.n = int(d.shape[1]);
  const int factor = config_.model.downsampling_factor();
  if (prepared_.n % factor != 0)
    throw InvalidArgument(origin + ": fields of " + std::to_string(prepared_.n) +
                          " pixels are not a multiple of " + std::to_string(factor) +
                          " (the network's total downsampling)");
  prepared_.parameters = std::size_t(config_.model.conditional_dim);
  if (d.param_count() < prepared_.parameters)
    throw InvalidArgument(origin + ": the network is conditioned on " +
                          std::to_string(prepared_.parameters) + " parameters but the data have " +
                          std::to_string(d.param_count()));
  if (d.count() < 2) throw InvalidArgument(origin + ": need at least 2 fields to train");
  prepared_.box_size = d.box_size > 0 ? d.box_size : 1.0;
  train_rows_ = train::split_rows(d.count(), config_.validation_fraction, config_.seed,
                                  kSplitStream, validation_rows_);
  prepared_.fingerprint = data_fingerprint(d.samples, d.params);
}

void Trainer::build_network() {
  torch::manual_seed(config_.seed);
  net_ = std::make_shared<nets::UnetScoreNetwork>(config_.model);
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  for (const auto& item : net_->module()->named_parameters(true)) {
    names.push_back(item.key());
    params.push_back(item.value());
  }
  track_parameters(names, params);
}

void Trainer::resume_from(const ModelCheckpoint& c) {
  const std::string& path = request_.out_path;
  json stored;
  try {
    stored = json::parse(c.config_json);
  } catch (const json::exception&) {
    throw FileError(path, "/config is not valid JSON");
  }
  if (stored.value("modality", "") != "field2d")
    throw FileError(path, "is not a 2D field model; cannot resume field training from it");
  if (stored.at("architecture") != json::parse(config_.model.to_json()))
    throw FileError(path, "was trained with another architecture than --config describes");
  if (stored.at("dataset").value("fingerprint", "") != prepared_.fingerprint)
    throw FileError(path, "was trained on other data (dataset fingerprint differs)");
  if (stored.value("timesteps", 0) != config_.timesteps ||
      stored.value("schedule", "") != std::string(kSchedules.name(config_.schedule)))
    throw FileError(path, "was trained with another noise schedule");
  prepared_.transform = FieldTransform::from_json(stored.at("transform").dump());
  validation_rows_ = stored.at("validation_rows").get<std::vector<std::size_t>>();
  train_rows_ = stored.at("train_rows").get<std::vector<std::size_t>>();
  try {
    nets::load_state_dict(*net_->module(), train::to_state_map(c.weights));
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  restore_state(c, path);
}

void Trainer::initialise_from(const std::string& path) {
  const auto c = read_model_checkpoint(path);
  const auto state = train::to_state_map(c.ema.empty() ? c.weights : c.ema);
  torch::NoGradGuard no_grad;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const auto it = state.find(names_[i]);
    if (it != state.end() && it->second.sizes() == params_[i].sizes()) {
      params_[i].copy_(it->second);
      ++copied;
    }
  }
  if (copied == 0)
    throw FileError(path, "init_from: no weight matches this architecture by name and shape");
  say("initialised " + std::to_string(copied) + " of " + std::to_string(names_.size()) +
      " weight tensors from " + path + (c.ema.empty() ? "" : " (EMA)"));
}

std::string Trainer::model_config_json() const {
  const Dataset& d = *data_;
  json j;
  j["format"] = "diffuscope-model";
  j["modality"] = "field2d";
  j["model_type"] = "explicitconditional";
  j["architecture"] = json::parse(config_.model.to_json());
  j["schedule"] = kSchedules.name(config_.schedule);
  j["timesteps"] = config_.timesteps;
  j["transform"] = json::parse(prepared_.transform.to_json());
  j["param_names"] = std::vector<std::string>(d.param_names.begin(),
                                              d.param_names.begin() + long(prepared_.parameters));
  j["param_lo"] = prepared_.normalisation.lo;
  j["param_width"] = prepared_.normalisation.width;
  j["resolution"] = prepared_.n;
  j["box_size"] = prepared_.box_size;
  j["field_kind"] = prepared_.kind == FieldKind::Density ? "density" : "contrast";
  j["training"] = json::parse(config_.to_json());
  j["dataset"] = {{"path", request_.data_path},
                  {"fingerprint", prepared_.fingerprint},
                  {"count", d.count()},
                  {"source", d.source},
                  {"generator", d.generator},
                  {"set_kind", kSetKinds.name(d.set_kind)},
                  {"seed", d.seed},
                  {"units", d.units}};
  j["train_rows"] = train_rows_;
  j["validation_rows"] = validation_rows_;
  j["diffuscope_version"] = library_versions().diffuscope;
  return j.dump(2);
}

ModelCheckpoint Trainer::model_checkpoint() {
  ModelCheckpoint c;
  c.config_json = model_config_json();
  c.betas = schedule_.betas;
  c.weights = train::module_state(*net_->module());
  return c;
}

double Trainer::train_step(std::int64_t step) {
  const int b = config_.batch_size, n = prepared_.n;
  std::uint64_t first = 0;
  const auto examples = batch_rows(first);
  std::vector<std::int64_t> rows(b), steps(b);
  std::vector<int> symmetry(b);
  std::vector<float> noise(std::size_t(b) * n * n);
  for (int i = 0; i < b; ++i) {
    // Each example's numbers depend only on its position: N ranks draw what one process does.
    Rng rng(config_.seed, train::example_stream(first + std::uint64_t(i)));
    rows[i] = std::int64_t(examples[std::size_t(i)]);
    symmetry[i] = config_.augment ? int(rng.below(8)) : 0;
    steps[i] = std::int64_t(rng.below(std::uint64_t(schedule_.steps())));
    for (std::size_t k = 0; k < std::size_t(n) * n; ++k)
      noise[std::size_t(i) * n * n + k] = float(rng.normal());
  }

  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  const auto index = torch::from_blob(rows.data(), {b}, i64).clone();
  auto x0 = prepared_.x0.index_select(0, index);
  if (config_.augment) {
    std::vector<torch::Tensor> turned;
    for (int i = 0; i < b; ++i) turned.push_back(dihedral(x0[i], symmetry[i]));
    x0 = torch::stack(turned);
  }
  x0 = x0.contiguous().to(device_);
  const auto theta = prepared_.theta.index_select(0, index).to(device_);
  const auto t = torch::from_blob(steps.data(), {b}, i64).clone().to(device_);
  const auto eps =
      torch::from_blob(noise.data(), {b, 1, n, n}, torch::TensorOptions().dtype(torch::kFloat32))
          .clone()
          .to(device_);
  const auto x_t = sqrt_alphabar_.index_select(0, t).view({b, 1, 1, 1}) * x0 +
                   sqrt_one_minus_alphabar_.index_select(0, t).view({b, 1, 1, 1}) * eps;

  net_->set_training(true);
  torch::Tensor eps_hat;
  if (config_.mixed_precision) {
    nets::set_cuda_bf16_autocast(true);
    eps_hat = net_->forward(x_t, t, theta).to(torch::kFloat32);
    nets::set_cuda_bf16_autocast(false);
  } else {
    eps_hat = net_->forward(x_t, t, theta);
  }
  const auto loss = config_.loss == TrainLoss::Huber ? torch::smooth_l1_loss(eps_hat, eps)
                                                     : torch::mse_loss(eps_hat, eps);
  net_->module()->zero_grad();
  loss.backward();
  const double value = average_over_ranks(loss.item<double>());
  check_loss(value, step, "lower \"lr\" or raise \"grad_clip\"");
  // Element-wise clipping is off for fields unless the config asks ("grad_clip_value": 0).
  update(step, config_.grad_clip_value);
  return value;
}

ValidationPoint Trainer::validate(std::int64_t step) {
  const int n = prepared_.n;
  if (!ema_net_) {
    ema_net_ = std::make_shared<nets::UnetScoreNetwork>(config_.model);
    ema_net_->to(device_);
    ema_net_->set_training(false);
  }
  {
    torch::NoGradGuard no_grad;
    auto params = ema_net_->module()->parameters(true);
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(ema_[i]);
  }
  const Dataset& d = *data_;
  const std::size_t fields =
      std::min<std::size_t>(std::size_t(config_.validation_fields), validation_rows_.size());
  const int samples = config_.validation_samples;
  std::vector<double> reduced;
  for (std::size_t v = 0; v < fields; ++v) {
    job_.check_cancelled();
    const std::size_t row = validation_rows_[v];
    std::vector<double> raw;
    for (std::size_t k = 0; k < prepared_.parameters; ++k) raw.push_back(d.param(row, k));
    const auto theta01 = prepared_.normalisation.normalise(raw);
    const auto theta_row =
        torch::from_blob(const_cast<float*>(theta01.data()), {1, long(theta01.size())},
                         torch::TensorOptions().dtype(torch::kFloat32))
            .clone()
            .to(device_);
    NoisePredictor predict = [&](const std::vector<float>& x_t, std::int64_t t, std::size_t,
                                 std::vector<float>& eps) {
      torch::InferenceMode inference;
      const long rows = long(x_t.size()) / (long(n) * n);
      const auto x = torch::from_blob(const_cast<float*>(x_t.data()), {rows, 1, n, n},
                                      torch::TensorOptions().dtype(torch::kFloat32))
                         .to(device_);
      const auto steps =
          torch::full({rows}, t, torch::TensorOptions().dtype(torch::kInt64)).to(device_);
      const auto out =
          ema_net_->forward(x, steps, theta_row.expand({rows, -1})).to(torch::kCPU).contiguous();
      eps.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    };
    DiffusionSamplerSettings settings;
    settings.kind = DiffusionSamplerKind::Ddim;
    settings.steps = config_.validation_sampler_steps;
    settings.max_batch = std::size_t(samples);
    // Min-max data lie in [-1, 1]: clipping x0 keeps an early model's samples finite.
    if (prepared_.transform.kind == FieldTransformKind::Log10MinMax) settings.clip_x0 = 1.0;
    std::vector<std::uint64_t> streams(static_cast<std::size_t>(samples));
    for (int s = 0; s < samples; ++s) streams[std::size_t(s)] = std::uint64_t(v * 1000 + s);
    // Cancellation only: the sampler's per-step progress would overwrite the training's.
    const JobContext quiet({}, job_.token());
    const auto generated =
        sample_diffusion(schedule_, predict, settings, std::size_t(samples), 1, n,
                         mix_seed(config_.seed, kValidationStream), streams, {}, quiet);
    auto spectrum_of = [&](const double* values) {
      Field2D field;
      field.n = n;
      field.box_size = prepared_.box_size;
      field.kind = prepared_.kind;
      field.values.assign(values, values + std::size_t(n) * n);
      return cut_at_nyquist(power_spectrum_2d(field), n, prepared_.box_size).pk;
    };
    // A field the statistics cannot take (non-finite, or a negative mean from values below the
    // transform's floor) scores infinity: validation never stops a training run.
    try {
      SampleSet set;
      bool finite = true;
      for (int s = 0; s < samples; ++s) {
        std::vector<double> physical(generated.begin() + long(s) * n * n,
                                     generated.begin() + long(s + 1) * n * n);
        for (auto& x : physical) {
          x = prepared_.transform.to_physical(x);
          finite = finite && std::isfinite(x);
        }
        if (finite) set.push_back(spectrum_of(physical.data()));
      }
      const std::vector<double> truth(d.sample(row), d.sample(row) + std::size_t(n) * n);
      if (!finite) {
        reduced.push_back(std::numeric_limits<double>::infinity());
        continue;
      }
      // The held-out field's P(k) against the generated ensemble at its parameters (diagonal,
      // Diffusion-HMC eq. 10 with the roles of the sets exchanged): ~1 + 1/S for a perfect model.
      reduced.push_back(chi2_diagonal({spectrum_of(truth.data())}, set)[0].reduced());
    } catch (const InvalidArgument&) {
      reduced.push_back(std::numeric_limits<double>::infinity());
    }
  }
  return train::summarise_validation(step, reduced);
}

void Trainer::prepare(TrainSummary& summary) {
  if (config_.modality != TrainModality::Fields)
    throw InvalidArgument(
        "train config: \"modality\": \"points\" trains point clouds (train_point_model), not 2D "
        "fields");
  config_.validate();
  if (request_.steps > 0) config_.steps = request_.steps;
  require_device(request_.device);
  if (config_.mixed_precision && request_.device != Device::Cuda)
    throw InvalidArgument("train config: \"mixed_precision\" needs --device cuda");
  if (request_.out_path.empty()) throw InvalidArgument("train: no output path");
  device_ = train::torch_device(request_.device, request_.distributed.launcher.local_rank);
  prepare_data();
  schedule_ = make_schedule(config_.schedule, config_.timesteps);
  build_network();
  const Dataset& d = *data_;
  prepared_.normalisation = normalisation_for(d, prepared_.parameters);

  summary.start_step = 0;
  if (request_.resume) {
    const auto checkpoint = read_model_checkpoint(request_.out_path, CheckpointParts::Everything);
    resume_from(checkpoint);
    summary.start_step = checkpoint.step;
    say("resuming " + request_.out_path + " at step " + std::to_string(summary.start_step));
    const std::string changed = train::changed_training_settings(checkpoint.config_json, config_);
    if (!changed.empty())
      say("resume: settings differ from the checkpoint's (the new ones apply from here on, the "
          "learning-rate schedule included): " +
          changed);
  } else {
    std::vector<float> train_values;
    train_values.reserve(train_rows_.size() * d.sample_size());
    for (auto row : train_rows_)
      train_values.insert(train_values.end(), d.sample(row), d.sample(row) + d.sample_size());
    prepared_.transform = choose_transform(config_.transform, train_values);
    if (!config_.init_from.empty()) {
      initialise_from(config_.init_from);
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < params_.size(); ++i) ema_[i].copy_(params_[i]);
    }
  }
  prepared_.kind = prepared_.transform.kind == FieldTransformKind::Log10MinMax
                       ? FieldKind::Density
                       : FieldKind::Contrast;
  fill_tensors(d, train_rows_, prepared_);
  net_->to(device_);
  move_state_to_device();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  std::vector<float> a(schedule_.sqrt_alphabar.begin(), schedule_.sqrt_alphabar.end());
  std::vector<float> s(schedule_.sqrt_one_minus_alphabar.begin(),
                       schedule_.sqrt_one_minus_alphabar.end());
  sqrt_alphabar_ = torch::from_blob(a.data(), {long(a.size())}, f32).clone().to(device_);
  sqrt_one_minus_alphabar_ = torch::from_blob(s.data(), {long(s.size())}, f32).clone().to(device_);

  summary.parameter_count = nets::parameter_count(*net_->module());
  say("training " + config_.model.describe() + ", " + std::to_string(summary.parameter_count) +
      " parameters, on " + std::to_string(train_rows_.size()) + " fields (" +
      std::to_string(validation_rows_.size()) + " held out), " + prepared_.transform.describe());
}

std::string Trainer::validation_line(const ValidationPoint& point) const {
  char line[200];
  std::snprintf(line, sizeof line,
                "validation at step %lld: P(k) reduced chi^2 %.3g +- %.2g (held-out fields "
                "against %d generated each; ~%.2f for a perfect model)",
                static_cast<long long>(point.step), point.reduced_chi2, point.spread,
                config_.validation_samples, 1.0 + 1.0 / config_.validation_samples);
  return line;
}

}  // namespace

TrainSummary train_field_model(const TrainRequest& request, const JobContext& job,
                               const TrainLog& log) {
  Trainer trainer(request, job, log);
  return trainer.run();
}

}  // namespace ds
