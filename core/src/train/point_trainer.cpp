#include "diffuscope/train/point_trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_transform.h"
#include "diffuscope/runtime.h"
#include "diffuscope/train/model_file.h"
#include "pointcloud/vdm.h"
#include "train/named_tensors.h"

namespace ds {

SignedAxisPermutation SignedAxisPermutation::from_index(int index) {
  if (index < 0 || index >= 48)
    throw InvalidArgument("signed axis permutation " + std::to_string(index) +
                          " is outside [0, 48)");
  static constexpr int kPermutations[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                              {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  SignedAxisPermutation s;
  for (int d = 0; d < 3; ++d) {
    s.axes[std::size_t(d)] = kPermutations[index / 8][d];
    s.flip[std::size_t(d)] = ((index % 8) >> d) & 1;
  }
  return s;
}

PointAugmentation PointAugmentation::draw(Rng& rng, std::size_t clouds, double box) {
  PointAugmentation a;
  a.symmetry = SignedAxisPermutation::from_index(int(rng.below(48)));
  a.shifts.resize(clouds);
  for (auto& shift : a.shifts)
    for (auto& component : shift) component = rng.uniform(0.0, box);
  return a;
}

namespace {

// Into [0, box) in float: a value that rounds up to box itself is its periodic image 0.
float wrap_position(double x, double box) {
  const double wrapped = x - box * std::floor(x / box);
  const float f = float(wrapped);
  return (f >= float(box) || f < 0.0f) ? 0.0f : f;
}

}  // namespace

void augment_point_clouds(std::vector<float>& clouds, std::int64_t n, int features, double box,
                          const PointAugmentation& a) {
  if (features < 3 || n < 1 || !(box > 0.0))
    throw InvalidArgument("point augmentation: need n >= 1, features >= 3 and a positive box");
  const std::size_t per_cloud = std::size_t(n) * std::size_t(features);
  if (clouds.size() != a.shifts.size() * per_cloud)
    throw InvalidArgument("point augmentation: " + std::to_string(clouds.size()) +
                          " values are not " + std::to_string(a.shifts.size()) + " clouds of " +
                          std::to_string(n) + " x " + std::to_string(features));
  const auto& s = a.symmetry;
  const bool velocities = features >= 6;
  for (std::size_t c = 0; c < a.shifts.size(); ++c) {
    for (std::int64_t i = 0; i < n; ++i) {
      float* p = clouds.data() + c * per_cloud + std::size_t(i) * std::size_t(features);
      float position[3], velocity[3];
      for (int d = 0; d < 3; ++d) {
        const double x = p[s.axes[std::size_t(d)]];
        const double mirrored = s.flip[std::size_t(d)] ? box - x : x;
        position[d] = wrap_position(mirrored + a.shifts[c][std::size_t(d)], box);
        if (velocities) {
          const float v = p[3 + s.axes[std::size_t(d)]];
          velocity[d] = s.flip[std::size_t(d)] ? -v : v;
        }
      }
      for (int d = 0; d < 3; ++d) {
        p[d] = position[d];
        if (velocities) p[3 + d] = velocity[d];
      }
    }
  }
}

namespace {

using json = nlohmann::json;

// Streams of the split and of the validation noise; steps use streams 0, 1, 2, ... (their index).
constexpr std::uint64_t kSplitStream = 0xD1FF'5C09'E000'0101ULL;
constexpr std::uint64_t kValidationStream = 0xD1FF'5C09'E000'0102ULL;
constexpr double kGamma0 = 14.0, kGamma1 = -8.0;  // published initial schedule

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

std::vector<std::string> default_feature_names(int features) {
  static const char* kHalo[] = {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
  std::vector<std::string> names;
  for (int i = 0; i < features; ++i)
    names.push_back(features == 3 || features == 7 ? kHalo[i] : "f" + std::to_string(i));
  return names;
}

void set_state(const std::vector<std::string>& names, std::vector<torch::Tensor>& targets,
               const std::vector<NamedArray>& arrays, const std::string& what,
               const std::string& path) {
  const auto state = train::to_state_map(arrays);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto it = state.find(names[i]);
    // Scalars (the schedule's b and w) are stored as [1].
    if (it == state.end() || it->second.numel() != targets[i].numel() ||
        (it->second.sizes() != targets[i].sizes() && targets[i].dim() != 0))
      throw FileError(path, what + " for '" + names[i] + "' is missing or has the wrong shape");
    targets[i].copy_(it->second.reshape(targets[i].sizes()).to(targets[i].device()));
  }
}

class PointTrainer {
 public:
  PointTrainer(const TrainRequest& request, const JobContext& job, const TrainLog& log)
      : request_(request), config_(request.config), job_(job), log_(log) {}

  TrainSummary run();

 private:
  void prepare_data();
  void build_model();
  void resume_from(const ModelCheckpoint& checkpoint, const json& stored);
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
  std::string origin_;
  std::shared_ptr<const Dataset> data_;
  std::int64_t n_ = 0;  // points per cloud
  int f_ = 0;           // features
  int p_ = 2;           // parameters
  std::vector<std::size_t> train_rows_, validation_rows_;
  std::string fingerprint_;
  PointTransform transform_;
  PointNetConfig network_;
  std::vector<float> clouds_;  // training clouds, physical [train, n, f]
  std::vector<float> theta_;   // raw parameters [train, p]
  torch::Device device_{torch::kCPU};
  pointcloud::Vdm vdm_{nullptr};
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_, ema_, exp_avg_, exp_avg_sq_;
  std::int64_t optimizer_step_ = 0;
  std::vector<double> loss_;
  std::vector<ValidationPoint> validations_;
};

void PointTrainer::prepare_data() {
  origin_ = request_.data_path.empty() ? "dataset" : request_.data_path;
  if (request_.data) {
    data_ = request_.data;
    data_->validate(origin_);
  } else {
    data_ = std::make_shared<Dataset>(read_dataset_hdf5(request_.data_path));
  }
  const Dataset& d = *data_;
  if (d.kind != SampleKind::Points || d.shape.size() != 3)
    throw InvalidArgument(origin_ +
                          ": holds 2D fields, not point clouds [M, N, F]; a \"points\" config "
                          "trains on point clouds (mock halos, Quijote catalogues)");
  n_ = std::int64_t(d.shape[1]);
  f_ = int(d.shape[2]);
  if (f_ < 3)
    throw InvalidArgument(origin_ + ": clouds have " + std::to_string(f_) +
                          " features; positions (x, y, z) must come first");
  p_ = config_.network.n_params;
  if (d.param_count() < std::size_t(p_))
    throw InvalidArgument(origin_ + ": the network is conditioned on " + std::to_string(p_) +
                          " parameters but the data have " + std::to_string(d.param_count()));
  if (p_ >= 2 && (d.param_names[0] != "Omega_m" || d.param_names[1] != "sigma_8"))
    throw InvalidArgument(origin_ + ": parameters must start with Omega_m, sigma_8 (found " +
                          d.param_names[0] + ", " + d.param_names[1] + ")");
  if (d.count() < 2) throw InvalidArgument(origin_ + ": need at least 2 clouds to train");
  if (!(d.box_size > 0.0))
    throw InvalidArgument(origin_ + ": no box size (needed for periodic positions)");
  if (config_.network.kind == PointNetKind::Gnn && config_.network.k > n_)
    throw InvalidArgument(origin_ + ": clouds of " + std::to_string(n_) +
                          " points are fewer than the GNN's k = " +
                          std::to_string(config_.network.k) + " neighbours");
  train_rows_ = split_rows(d.count(), config_.validation_fraction, config_.seed, validation_rows_);
  fingerprint_ = data_fingerprint(d.samples, d.params);
}

void PointTrainer::build_model() {
  network_ = config_.network;
  network_.n_features = f_;
  network_.box_size = transform_.box_size;
  for (std::size_t a = 0; a < 3; ++a) {
    network_.position_mean[a] = transform_.mean[a];
    network_.position_std[a] = transform_.std[a];
  }
  network_.validate();
  torch::manual_seed(config_.seed);
  vdm_ = pointcloud::Vdm(nets::make_point_network(network_), kGamma0, kGamma1);
  for (const auto& item : vdm_->named_parameters(true)) {
    names_.push_back(item.key());
    params_.push_back(item.value());
  }
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p));
    exp_avg_sq_.push_back(torch::zeros_like(p));
    ema_.push_back(p.detach().clone());
  }
}

void PointTrainer::resume_from(const ModelCheckpoint& c, const json& stored) {
  const std::string& path = request_.out_path;
  if (stored.at("network") != json::parse(network_.to_json()))
    throw FileError(path, "was trained with another network than the config describes");
  set_state(names_, params_, c.weights, "weight", path);
  if (c.ema.empty() || c.exp_avg.empty())
    throw FileError(path, "has no EMA or optimiser state (an exported model cannot be resumed)");
  set_state(names_, ema_, c.ema, "EMA weight", path);
  set_state(names_, exp_avg_, c.exp_avg, "Adam first moment", path);
  set_state(names_, exp_avg_sq_, c.exp_avg_sq, "Adam second moment", path);
  optimizer_step_ = c.optimizer_step;
  loss_ = c.loss;
  if (std::int64_t(loss_.size()) != c.step)
    throw FileError(path, "loss history does not match /train/step");
  for (std::size_t i = 0; i + 2 < c.validation.size(); i += 3)
    validations_.push_back(
        {std::int64_t(c.validation[i]), c.validation[i + 1], c.validation[i + 2]});
}

std::string PointTrainer::model_config_json() const {
  const Dataset& d = *data_;
  json j;
  j["format"] = "diffuscope-model";
  j["modality"] = "points";
  j["network"] = json::parse(network_.to_json());
  j["transform"] = json::parse(transform_.to_json());
  j["gamma"] = {{"gamma0", kGamma0}, {"gamma1", kGamma1}};
  j["parameters"] =
      std::vector<std::string>(d.param_names.begin(), d.param_names.begin() + long(p_));
  j["training"] = json::parse(config_.to_json());
  j["data"] = {{"path", request_.data_path},
               {"fingerprint", fingerprint_},
               {"count", d.count()},
               {"points", n_},
               {"features", f_},
               {"box_size", d.box_size},
               {"source", d.source},
               {"generator", d.generator},
               {"set_kind", kSetKinds.name(d.set_kind)},
               {"seed", d.seed},
               {"units", d.units},
               {"train_rows", train_rows_},
               {"validation_rows", validation_rows_}};
  j["version"] = library_versions().diffuscope;
  return j.dump(2);
}

void PointTrainer::save(std::int64_t step) {
  ModelCheckpoint c;
  c.config_json = model_config_json();
  c.weights = train::module_state(*vdm_);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    c.ema.push_back(train::to_named_array(names_[i], ema_[i]));
    c.exp_avg.push_back(train::to_named_array(names_[i], exp_avg_[i]));
    c.exp_avg_sq.push_back(train::to_named_array(names_[i], exp_avg_sq_[i]));
  }
  c.optimizer_step = optimizer_step_;
  c.step = step;
  c.loss.assign(loss_.begin(), loss_.begin() + long(step));
  for (const auto& v : validations_)
    if (v.step <= step)
      c.validation.insert(c.validation.end(), {double(v.step), v.reduced_chi2, v.spread});
  write_model_checkpoint(request_.out_path, c);
}

double PointTrainer::train_step(std::int64_t step) {
  const int b = config_.batch_size;
  const std::size_t per_cloud = std::size_t(n_) * std::size_t(f_);
  const std::size_t count = train_rows_.size();
  Rng rng(config_.seed, std::uint64_t(step));
  std::vector<std::size_t> rows(static_cast<std::size_t>(b));
  for (auto& r : rows) r = std::size_t(rng.below(count));
  PointAugmentation augmentation;
  if (config_.augment)
    augmentation = PointAugmentation::draw(rng, rows.size(), transform_.box_size);
  const double u = rng.uniform();

  std::vector<float> batch(rows.size() * per_cloud), theta(rows.size() * std::size_t(p_));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(clouds_.begin() + long(rows[i] * per_cloud), per_cloud,
                batch.begin() + long(i * per_cloud));
    std::copy_n(theta_.begin() + long(rows[i] * std::size_t(p_)), p_,
                theta.begin() + long(i * std::size_t(p_)));
  }
  if (config_.augment) augment_point_clouds(batch, n_, f_, transform_.box_size, augmentation);
  transform_.standardise(batch);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto x = torch::from_blob(batch.data(), {b, n_, f_}, f32).clone().to(device_);
  const auto th = torch::from_blob(theta.data(), {b, p_}, f32).clone().to(device_);
  const auto eps = pointcloud::normal_tensor(rng, {b, n_, f_}).to(device_);
  const auto eps0 = pointcloud::normal_tensor(rng, {b, n_, f_}).to(device_);
  const auto t = pointcloud::antithetic_times(b, u).to(device_);

  vdm_->train();
  const auto terms = vdm_->terms(x, th, t, eps, eps0);
  // The published loss: nats per cloud divided by the number of points.
  const auto loss = terms.total().mean() / double(n_);
  vdm_->zero_grad();
  loss.backward();
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw InvalidArgument("training diverged at step " + std::to_string(step) +
                          " (the loss is not finite); " + request_.out_path +
                          " keeps the last checkpoint; lower \"lr\" or clip gradients");

  torch::NoGradGuard no_grad;
  if (config_.grad_clip_value > 0.0)
    for (auto& p : params_)
      if (p.grad().defined()) p.grad().clamp_(-config_.grad_clip_value, config_.grad_clip_value);
  if (config_.grad_clip > 0.0) torch::nn::utils::clip_grad_norm_(params_, config_.grad_clip);

  // Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's arithmetic, as the 2D
  // trainer.
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
    exp_avg_[i].mul_(config_.beta1).add_(g, 1.0 - config_.beta1);
    exp_avg_sq_[i].mul_(config_.beta2).addcmul_(g, g, 1.0 - config_.beta2);
    const auto denominator = (exp_avg_sq_[i].sqrt() / std::sqrt(correction2)).add_(config_.eps);
    p.addcdiv_(exp_avg_[i], denominator, -lr / correction1);
  }
  const double decay = step < config_.ema_start ? 0.0 : config_.ema_decay;
  for (std::size_t i = 0; i < params_.size(); ++i)
    ema_[i].mul_(decay).add_(params_[i].detach(), 1.0 - decay);
  return value;
}

ValidationPoint PointTrainer::validate(std::int64_t step) {
  ValidationPoint point;
  point.step = step;
  const Dataset& d = *data_;
  const std::size_t clouds =
      std::min<std::size_t>(std::size_t(config_.validation_fields), validation_rows_.size());
  if (clouds == 0) return point;
  const std::size_t per_cloud = std::size_t(n_) * std::size_t(f_);
  std::vector<float> x(clouds * per_cloud), theta;
  for (std::size_t v = 0; v < clouds; ++v) {
    const std::size_t row = validation_rows_[v];
    std::copy_n(d.sample(row), per_cloud, x.begin() + long(v * per_cloud));
    for (int k = 0; k < p_; ++k) theta.push_back(float(d.param(row, std::size_t(k))));
  }
  transform_.standardise(x);
  const long count = long(clouds);
  // Fixed noise: every validation sees the same numbers, so the points compare across steps.
  Rng rng(config_.seed, kValidationStream);
  const double u = rng.uniform();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto xs = torch::from_blob(x.data(), {count, n_, f_}, f32).clone().to(device_);
  const auto ths = torch::from_blob(theta.data(), {count, p_}, f32).clone().to(device_);
  const auto eps = pointcloud::normal_tensor(rng, {count, n_, f_}).to(device_);
  const auto eps0 = pointcloud::normal_tensor(rng, {count, n_, f_}).to(device_);
  const auto t = pointcloud::antithetic_times(count, u).to(device_);

  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> current;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    current.push_back(params_[i].detach().clone());
    params_[i].copy_(ema_[i]);
  }
  std::vector<double> per_point;
  try {
    vdm_->eval();
    for (long start = 0; start < count; start += config_.batch_size) {
      job_.check_cancelled();
      const long len = std::min<long>(config_.batch_size, count - start);
      const auto terms =
          vdm_->terms(xs.narrow(0, start, len), ths.narrow(0, start, len), t.narrow(0, start, len),
                      eps.narrow(0, start, len), eps0.narrow(0, start, len));
      const auto total = terms.total().to(torch::kCPU).to(torch::kFloat64).contiguous();
      for (long i = 0; i < len; ++i) per_point.push_back(total.data_ptr<double>()[i] / double(n_));
    }
  } catch (...) {
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].copy_(current[i]);
    throw;
  }
  for (std::size_t i = 0; i < params_.size(); ++i) params_[i].copy_(current[i]);
  double mean = 0.0, square = 0.0;
  for (double v : per_point) mean += v;
  mean /= double(per_point.size());
  for (double v : per_point) square += (v - mean) * (v - mean);
  point.reduced_chi2 = mean;
  point.spread = per_point.size() > 1 ? std::sqrt(square / double(per_point.size() - 1)) : 0.0;
  return point;
}

TrainSummary PointTrainer::run() {
  if (config_.modality != TrainModality::Points)
    throw InvalidArgument(
        "train config: a point-cloud model needs \"modality\": \"points\" (this config "
        "describes a 2D field model)");
  if (request_.steps > 0) config_.steps = request_.steps;
  config_.validate();
  require_device(request_.device);
  if (config_.mixed_precision)
    throw InvalidArgument("train config: \"mixed_precision\" is not supported for point clouds");
  if (request_.out_path.empty()) throw InvalidArgument("train: no output path");
  device_ = torch_device(request_.device);
  prepare_data();
  const Dataset& d = *data_;

  std::int64_t start = 0;
  ModelCheckpoint checkpoint;
  json stored;
  if (request_.resume) {
    const std::string& path = request_.out_path;
    checkpoint = read_model_checkpoint(path, CheckpointParts::Everything);
    try {
      stored = json::parse(checkpoint.config_json);
    } catch (const json::exception&) {
      throw FileError(path, "/config is not valid JSON");
    }
    if (stored.value("modality", "") != "points")
      throw FileError(path, "is not a point-cloud model; cannot resume point training from it");
    try {
      const int features = stored.at("network").at("n_features").get<int>();
      if (features != f_)
        throw FileError(path, "was trained on clouds of " + std::to_string(features) +
                                  " features but " + origin_ + " has " + std::to_string(f_));
      if (stored.at("data").value("fingerprint", "") != fingerprint_)
        throw FileError(path, "was trained on other data (dataset fingerprint differs)");
      transform_ = PointTransform::from_json(stored.at("transform").dump());
      train_rows_ = stored.at("data").at("train_rows").get<std::vector<std::size_t>>();
      validation_rows_ = stored.at("data").at("validation_rows").get<std::vector<std::size_t>>();
    } catch (const json::exception& e) {
      throw FileError(path, std::string("/config lacks what a resume needs (") + e.what() + ")");
    }
    for (auto row : train_rows_)
      if (row >= d.count()) throw FileError(path, "training rows do not fit the data");
    start = checkpoint.step;
  } else {
    std::vector<float> train_values;
    train_values.reserve(train_rows_.size() * d.sample_size());
    for (auto row : train_rows_)
      train_values.insert(train_values.end(), d.sample(row), d.sample(row) + d.sample_size());
    const auto names =
        d.feature_names.size() == std::size_t(f_) ? d.feature_names : default_feature_names(f_);
    // Through JSON, as a resumed run reads it: both runs see the same numbers.
    transform_ = PointTransform::from_json(
        PointTransform::fit(train_values, std::size_t(f_), names, d.box_size).to_json());
  }
  build_model();
  vdm_->to(device_);
  for (auto* list : {&ema_, &exp_avg_, &exp_avg_sq_})
    for (auto& t : *list) t = t.to(device_);
  if (request_.resume) {
    resume_from(checkpoint, stored);
    say("resuming " + request_.out_path + " at step " + std::to_string(start));
  }
  const std::size_t per_cloud = std::size_t(n_) * std::size_t(f_);
  clouds_.clear();
  theta_.clear();
  for (auto row : train_rows_) {
    clouds_.insert(clouds_.end(), d.sample(row), d.sample(row) + per_cloud);
    for (int k = 0; k < p_; ++k) theta_.push_back(float(d.param(row, std::size_t(k))));
  }

  TrainSummary summary;
  summary.start_step = start;
  for (const auto& p : params_) summary.parameter_count += p.numel();
  say("training " + network_.describe() + " (VDM), " + std::to_string(summary.parameter_count) +
      " parameters, on " + std::to_string(train_rows_.size()) + " clouds of " + std::to_string(n_) +
      " points x " + std::to_string(f_) + " features (" + std::to_string(validation_rows_.size()) +
      " held out)");
  const auto began = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  loss_.resize(std::size_t(std::max(start, config_.steps)));
  std::int64_t completed = start;
  std::int64_t last_validation = validations_.empty() ? -1 : validations_.back().step;
  auto run_validation = [&] {
    const auto point = validate(completed);
    validations_.push_back(point);
    last_validation = completed;
    char line[200];
    std::snprintf(
        line, sizeof line,
        "validation at step %lld: loss per point %.5f +- %.3g (%zu held-out clouds, "
        "EMA weights, fixed noise)",
        static_cast<long long>(completed), point.reduced_chi2, point.spread,
        std::min<std::size_t>(std::size_t(config_.validation_fields), validation_rows_.size()));
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
        std::snprintf(message, sizeof message,
                      "step %lld: mean loss per point %.5f, lr %.3e, %.2f it/s",
                      static_cast<long long>(completed), mean / double(config_.log_every),
                      config_.learning_rate(step), rate);
        say(message);
      }
      if (completed % config_.checkpoint_every == 0 && completed < config_.steps) save(completed);
      if (config_.validate_every > 0 && completed % config_.validate_every == 0 &&
          !validation_rows_.empty()) {
        run_validation();
        if (completed % config_.checkpoint_every == 0 && completed < config_.steps) save(completed);
      }
    }
    if (config_.validate_every > 0 && last_validation != completed && !validation_rows_.empty() &&
        completed > start)
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

TrainSummary train_point_model(const TrainRequest& request, const JobContext& job,
                               const TrainLog& log) {
  PointTrainer trainer(request, job, log);
  return trainer.run();
}

}  // namespace ds
