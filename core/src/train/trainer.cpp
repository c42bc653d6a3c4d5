#include "diffuscope/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/runtime.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "diffuscope/train/model_file.h"
#include "nets/unet.h"
#include "train/named_tensors.h"

namespace ds {

namespace {

// bf16 autocast on CUDA. LibTorch 2.4 replaced the CUDA-only switches of 1.x by per-device ones.
void set_cuda_autocast(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, on);
  if (on) at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
  at::autocast::set_enabled(on);
  if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
  if (!on) at::autocast::clear_cache();
}

using json = nlohmann::json;

// Stream of the train/validation split; steps use streams 0, 1, 2, ... (their index).
constexpr std::uint64_t kSplitStream = 0xD1FF'5C09'E000'0001ULL;
constexpr std::uint64_t kValidationStream = 0xD1FF'5C09'E000'0002ULL;

// Maps with empty pixels get log10(x + floor) with floor = 1 % of the mean (train_config.h).
constexpr double kEmptyPixelFloor = 0.01;

torch::Device torch_device(Device device) {
  return device == Device::Cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = long(seconds + 0.5);
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", s / 60, s % 60);
  return buffer;
}

// Everything about the data the model needs beyond the network: split, transform, parameters.
struct PreparedData {
  int n = 0;
  std::size_t parameters = 0;
  double box_size = 1.0;
  FieldKind kind = FieldKind::Density;
  FieldTransform transform;
  ParameterNormalisation normalisation;
  std::vector<std::size_t> train, validation;  // dataset rows
  torch::Tensor x0;                            // [train, 1, n, n] model space, CPU
  torch::Tensor theta;                         // [train, P] normalised, CPU
  std::string fingerprint;
};

std::vector<std::size_t> split_rows(std::size_t count, double fraction, std::uint64_t seed,
                                    std::vector<std::size_t>& validation) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  Rng rng(seed, kSplitStream);
  for (std::size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  std::size_t held = 0;
  if (fraction > 0.0 && count >= 2)
    held = std::max<std::size_t>(1, std::size_t(std::lround(fraction * double(count))));
  if (held >= count) held = count - 1;
  validation.assign(order.begin(), order.begin() + long(held));
  std::sort(validation.begin(), validation.end());
  std::vector<std::size_t> train(order.begin() + long(held), order.end());
  std::sort(train.begin(), train.end());
  return train;
}

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

struct Moments {
  std::vector<torch::Tensor> m, v;
};

void set_state(const std::vector<std::string>& names, std::vector<torch::Tensor>& targets,
               const std::vector<NamedArray>& arrays, const std::string& what,
               const std::string& path) {
  const auto state = train::to_state_map(arrays);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto it = state.find(names[i]);
    if (it == state.end() || it->second.sizes() != targets[i].sizes())
      throw FileError(path, what + " for '" + names[i] + "' is missing or has the wrong shape");
    targets[i].copy_(it->second);
  }
}

class Trainer {
 public:
  Trainer(const TrainRequest& request, const JobContext& job, const TrainLog& log)
      : request_(request), config_(request.config), job_(job), log_(log) {}

  TrainSummary run();

 private:
  void prepare_data();
  void build_network();
  void resume_from(const ModelCheckpoint& checkpoint);
  void initialise_from(const std::string& path);
  double train_step(std::int64_t step);
  ValidationPoint validate(std::int64_t step);
  void save(std::int64_t step);
  std::string model_config_json() const;
  void say(const std::string& line) const {
    if (log_) log_(line);
  }

  const TrainRequest& request_;
  TrainConfig config_;
  const JobContext& job_;
  const TrainLog& log_;
  std::shared_ptr<const Dataset> data_;
  PreparedData prepared_;
  NoiseSchedule schedule_;
  torch::Device device_{torch::kCPU};
  std::shared_ptr<nets::UnetScoreNetwork> net_, ema_net_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_, ema_;
  Moments moments_;
  std::int64_t optimizer_step_ = 0;
  torch::Tensor sqrt_alphabar_, sqrt_one_minus_alphabar_;
  std::vector<double> loss_;
  std::vector<ValidationPoint> validations_;
};

void Trainer::prepare_data() {
  if (request_.data) {
    data_ = request_.data;
    data_->validate(request_.data_path.empty() ? "dataset" : request_.data_path);
  } else {
    data_ = std::make_shared<Dataset>(read_dataset_hdf5(request_.data_path));
  }
  const Dataset& d = *data_;
  const std::string& origin = request_.data_path.empty() ? "dataset" : request_.data_path;
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
  prepared_.train =
      split_rows(d.count(), config_.validation_fraction, config_.seed, prepared_.validation);
  prepared_.fingerprint = data_fingerprint(d.samples, d.params);
}

void Trainer::build_network() {
  torch::manual_seed(config_.seed);
  net_ = std::make_shared<nets::UnetScoreNetwork>(config_.model);
  for (const auto& item : net_->module()->named_parameters(true)) {
    names_.push_back(item.key());
    params_.push_back(item.value());
  }
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
  prepared_.validation = stored.at("validation_rows").get<std::vector<std::size_t>>();
  prepared_.train = stored.at("train_rows").get<std::vector<std::size_t>>();
  try {
    nets::load_state_dict(*net_->module(), train::to_state_map(c.weights));
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  if (c.ema.empty() || c.exp_avg.empty())
    throw FileError(path, "has no EMA or optimiser state (an exported model cannot be resumed)");
  set_state(names_, ema_, c.ema, "EMA weight", path);
  set_state(names_, moments_.m, c.exp_avg, "Adam first moment", path);
  set_state(names_, moments_.v, c.exp_avg_sq, "Adam second moment", path);
  optimizer_step_ = c.optimizer_step;
  loss_ = c.loss;
  if (std::int64_t(loss_.size()) != c.step)
    throw FileError(path, "loss history does not match /train/step");
  for (std::size_t i = 0; i + 2 < c.validation.size(); i += 3)
    validations_.push_back(
        {std::int64_t(c.validation[i]), c.validation[i + 1], c.validation[i + 2]});
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
  j["train_rows"] = prepared_.train;
  j["validation_rows"] = prepared_.validation;
  j["diffuscope_version"] = library_versions().diffuscope;
  return j.dump(2);
}

void Trainer::save(std::int64_t step) {
  ModelCheckpoint c;
  c.config_json = model_config_json();
  c.betas = schedule_.betas;
  c.weights = train::module_state(*net_->module());
  for (std::size_t i = 0; i < names_.size(); ++i) {
    c.ema.push_back(train::to_named_array(names_[i], ema_[i]));
    c.exp_avg.push_back(train::to_named_array(names_[i], moments_.m[i]));
    c.exp_avg_sq.push_back(train::to_named_array(names_[i], moments_.v[i]));
  }
  c.optimizer_step = optimizer_step_;
  c.step = step;
  c.loss.assign(loss_.begin(), loss_.begin() + long(step));
  for (const auto& v : validations_)
    if (v.step <= step)
      c.validation.insert(c.validation.end(), {double(v.step), v.reduced_chi2, v.spread});
  write_model_checkpoint(request_.out_path, c);
}

double Trainer::train_step(std::int64_t step) {
  const int b = config_.batch_size, n = prepared_.n;
  const std::int64_t count = prepared_.x0.size(0);
  Rng rng(config_.seed, std::uint64_t(step));
  std::vector<std::int64_t> rows(b), steps(b);
  std::vector<int> symmetry(b);
  for (int i = 0; i < b; ++i) {
    rows[i] = std::int64_t(rng.below(std::uint64_t(count)));
    symmetry[i] = config_.augment ? int(rng.below(8)) : 0;
    steps[i] = std::int64_t(rng.below(std::uint64_t(schedule_.steps())));
  }
  std::vector<float> noise(std::size_t(b) * n * n);
  for (auto& z : noise) z = float(rng.normal());

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
    set_cuda_autocast(true);
    eps_hat = net_->forward(x_t, t, theta).to(torch::kFloat32);
    set_cuda_autocast(false);
  } else {
    eps_hat = net_->forward(x_t, t, theta);
  }
  const auto loss = config_.loss == TrainLoss::Huber ? torch::smooth_l1_loss(eps_hat, eps)
                                                     : torch::mse_loss(eps_hat, eps);
  net_->module()->zero_grad();
  loss.backward();
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw InvalidArgument("training diverged at step " + std::to_string(step) +
                          " (the loss is not finite); " + request_.out_path +
                          " keeps the last checkpoint; lower \"lr\" or raise \"grad_clip\"");
  if (config_.grad_clip > 0.0) torch::nn::utils::clip_grad_norm_(params_, config_.grad_clip);

  // Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's arithmetic.
  torch::NoGradGuard no_grad;
  ++optimizer_step_;
  const double lr = config_.learning_rate(step);
  const double correction1 = 1.0 - std::pow(config_.beta1, double(optimizer_step_));
  const double correction2 = 1.0 - std::pow(config_.beta2, double(optimizer_step_));
  const bool decoupled = config_.optimizer == TrainOptimizer::AdamW;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.grad();
    if (config_.weight_decay > 0.0) {
      if (decoupled)
        p.mul_(1.0 - lr * config_.weight_decay);
      else
        g = g.add(p, config_.weight_decay);
    }
    moments_.m[i].mul_(config_.beta1).add_(g, 1.0 - config_.beta1);
    moments_.v[i].mul_(config_.beta2).addcmul_(g, g, 1.0 - config_.beta2);
    const auto denominator = (moments_.v[i].sqrt() / std::sqrt(correction2)).add_(config_.eps);
    p.addcdiv_(moments_.m[i], denominator, -lr / correction1);
  }
  // EMA of the weights; before ema_start it simply follows them.
  const double decay = step < config_.ema_start ? 0.0 : config_.ema_decay;
  for (std::size_t i = 0; i < params_.size(); ++i)
    ema_[i].mul_(decay).add_(params_[i].detach(), 1.0 - decay);
  return value;
}

ValidationPoint Trainer::validate(std::int64_t step) {
  ValidationPoint point;
  point.step = step;
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
      std::min<std::size_t>(std::size_t(config_.validation_fields), prepared_.validation.size());
  const int samples = config_.validation_samples;
  std::vector<double> reduced;
  for (std::size_t v = 0; v < fields; ++v) {
    job_.check_cancelled();
    const std::size_t row = prepared_.validation[v];
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
  if (reduced.empty()) return point;
  double mean = 0.0, square = 0.0;
  for (double r : reduced) mean += r;
  mean /= double(reduced.size());
  for (double r : reduced) square += (r - mean) * (r - mean);
  point.reduced_chi2 = mean;
  point.spread = reduced.size() > 1 ? std::sqrt(square / double(reduced.size() - 1)) : 0.0;
  return point;
}

TrainSummary Trainer::run() {
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
  device_ = torch_device(request_.device);
  prepare_data();
  schedule_ = make_schedule(config_.schedule, config_.timesteps);
  build_network();
  for (const auto& p : params_) {
    moments_.m.push_back(torch::zeros_like(p));
    moments_.v.push_back(torch::zeros_like(p));
    ema_.push_back(p.detach().clone());
  }
  const Dataset& d = *data_;
  prepared_.normalisation = normalisation_for(d, prepared_.parameters);

  std::int64_t start = 0;
  if (request_.resume) {
    const auto checkpoint = read_model_checkpoint(request_.out_path, CheckpointParts::Everything);
    resume_from(checkpoint);
    start = checkpoint.step;
    say("resuming " + request_.out_path + " at step " + std::to_string(start));
  } else {
    std::vector<float> train_values;
    train_values.reserve(prepared_.train.size() * d.sample_size());
    for (auto row : prepared_.train)
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
  fill_tensors(d, prepared_.train, prepared_);
  net_->to(device_);
  for (auto* list : {&ema_, &moments_.m, &moments_.v})
    for (auto& t : *list) t = t.to(device_);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  std::vector<float> a(schedule_.sqrt_alphabar.begin(), schedule_.sqrt_alphabar.end());
  std::vector<float> s(schedule_.sqrt_one_minus_alphabar.begin(),
                       schedule_.sqrt_one_minus_alphabar.end());
  sqrt_alphabar_ = torch::from_blob(a.data(), {long(a.size())}, f32).clone().to(device_);
  sqrt_one_minus_alphabar_ = torch::from_blob(s.data(), {long(s.size())}, f32).clone().to(device_);

  TrainSummary summary;
  summary.start_step = start;
  summary.parameter_count = nets::parameter_count(*net_->module());
  say("training " + config_.model.describe() + ", " + std::to_string(summary.parameter_count) +
      " parameters, on " + std::to_string(prepared_.train.size()) + " fields (" +
      std::to_string(prepared_.validation.size()) + " held out), " +
      prepared_.transform.describe());
  const auto began = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  loss_.resize(std::size_t(std::max(start, config_.steps)));
  std::int64_t completed = start;  // steps whose update has been applied
  std::int64_t last_validation = validations_.empty() ? -1 : validations_.back().step;
  auto run_validation = [&] {
    const auto point = validate(completed);
    validations_.push_back(point);
    last_validation = completed;
    char line[200];
    std::snprintf(line, sizeof line,
                  "validation at step %lld: P(k) reduced chi^2 %.3g +- %.2g (held-out fields "
                  "against %d generated each; ~%.2f for a perfect model)",
                  static_cast<long long>(completed), point.reduced_chi2, point.spread,
                  config_.validation_samples, 1.0 + 1.0 / config_.validation_samples);
    say(line);
  };
  try {
    while (completed < config_.steps) {
      job_.check_cancelled();
      const std::int64_t step = completed;
      loss_[std::size_t(step)] = train_step(step);
      completed = step + 1;
      const double rate = double(completed - start) / std::max(elapsed(), 1e-9);
      char message[200];
      std::snprintf(message, sizeof message, "step %lld/%lld loss %.4f lr %.2e %.2f it/s ETA %s",
                    static_cast<long long>(completed), static_cast<long long>(config_.steps),
                    loss_[std::size_t(step)], config_.learning_rate(step), rate,
                    format_duration(double(config_.steps - completed) / rate).c_str());
      job_.report(completed, config_.steps, message);
      if (completed % config_.log_every == 0) {
        double mean = 0.0;
        for (std::int64_t i = completed - config_.log_every; i < completed; ++i)
          mean += loss_[std::size_t(i)];
        std::snprintf(message, sizeof message, "step %lld: mean loss %.5f, lr %.3e, %.2f it/s",
                      static_cast<long long>(completed), mean / double(config_.log_every),
                      config_.learning_rate(step), rate);
        say(message);
      }
      if (completed % config_.checkpoint_every == 0 && completed < config_.steps) save(completed);
      if (config_.validate_every > 0 && completed % config_.validate_every == 0 &&
          !prepared_.validation.empty()) {
        run_validation();
        if (completed % config_.checkpoint_every == 0 && completed < config_.steps)
          save(completed);  // again, with the validation point
      }
    }
    if (config_.validate_every > 0 && last_validation != completed &&
        !prepared_.validation.empty() && completed > start)
      run_validation();
    save(completed);
    say("wrote " + request_.out_path + " at step " + std::to_string(completed));
  } catch (const Cancelled&) {
    if (completed > start) {
      save(completed);
      say("interrupted: " + request_.out_path + " holds step " + std::to_string(completed) +
          "; continue with --resume");
    }
    throw;
  }
  summary.end_step = completed;
  summary.seconds = elapsed();
  loss_.resize(std::size_t(completed));
  summary.loss = loss_;
  const std::size_t window = std::min<std::size_t>(std::size_t(config_.log_every), loss_.size());
  for (std::size_t i = 0; i < window; ++i) {
    summary.first_loss += loss_[i] / double(window);
    summary.last_loss += loss_[loss_.size() - 1 - i] / double(window);
  }
  summary.validations = validations_;
  return summary;
}

}  // namespace

TrainSummary train_field_model(const TrainRequest& request, const JobContext& job,
                               const TrainLog& log) {
  Trainer trainer(request, job, log);
  return trainer.run();
}

}  // namespace ds
