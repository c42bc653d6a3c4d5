#include "diffuscope/train/point_trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_transform.h"
#include "diffuscope/runtime.h"
#include "nets/named_tensors.h"
#include "pointcloud/vdm.h"
#include "train/training_loop.h"

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

std::vector<std::string> default_feature_names(int features) {
  static const char* kHalo[] = {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
  std::vector<std::string> names;
  for (int i = 0; i < features; ++i)
    names.push_back(features == 3 || features == 7 ? kHalo[i] : "f" + std::to_string(i));
  return names;
}

class PointTrainer : public train::TrainingLoop {
 public:
  using TrainingLoop::TrainingLoop;

 private:
  void prepare(TrainSummary& summary) override;
  double train_step(std::int64_t step) override;
  ValidationPoint validate(std::int64_t step) override;
  std::string validation_line(const ValidationPoint& point) const override;
  const char* loss_name() const override { return "loss per point"; }
  ModelCheckpoint model_checkpoint() override;
  void prepare_data();
  void build_model();
  void resume_from(const ModelCheckpoint& checkpoint, const json& stored);
  std::string model_config_json() const;

  std::string origin_;
  std::shared_ptr<const Dataset> data_;
  std::int64_t n_ = 0;  // points per cloud
  int f_ = 0;           // features
  int p_ = 2;           // parameters
  std::string fingerprint_;
  PointTransform transform_;
  PointNetConfig network_;
  std::vector<float> clouds_;  // training clouds, physical [train, n, f]
  std::vector<float> theta_;   // raw parameters [train, p]
  pointcloud::Vdm vdm_{nullptr};
};

void PointTrainer::prepare_data() {
  origin_ = data_origin();
  data_ = training_data();
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
  train_rows_ = train::split_rows(d.count(), config_.validation_fraction, config_.seed,
                                  kSplitStream, validation_rows_);
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
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  for (const auto& item : vdm_->named_parameters(true)) {
    names.push_back(item.key());
    params.push_back(item.value());
  }
  track_parameters(names, params);
}

void PointTrainer::resume_from(const ModelCheckpoint& c, const json& stored) {
  const std::string& path = request_.out_path;
  if (stored.at("network") != json::parse(network_.to_json()))
    throw FileError(path, "was trained with another network than the config describes");
  train::set_state(names_, params_, c.weights, "weight", path);
  restore_state(c, path);
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

ModelCheckpoint PointTrainer::model_checkpoint() {
  ModelCheckpoint c;
  c.config_json = model_config_json();
  c.weights = train::module_state(*vdm_);
  return c;
}

double PointTrainer::train_step(std::int64_t step) {
  const int b = config_.batch_size;
  const std::size_t per_cloud = std::size_t(n_) * std::size_t(f_);
  std::uint64_t first = 0;
  const auto rows = batch_rows(first);
  // The step's symmetry and antithetic offset are shared by every rank (stream: the step); a
  // cloud's shift and noise depend only on its position, so N ranks with batch B draw what one
  // process with batch N x B draws (the antithetic times are those of the global batch).
  Rng step_rng(config_.seed, std::uint64_t(step));
  PointAugmentation augmentation;
  augmentation.symmetry = SignedAxisPermutation::from_index(int(step_rng.below(48)));
  const double u = step_rng.uniform();
  std::vector<torch::Tensor> eps_parts, eps0_parts;
  for (int i = 0; i < b; ++i) {
    Rng rng(config_.seed, train::example_stream(first + std::uint64_t(i)));
    std::array<double, 3> shift{};
    for (auto& component : shift) component = rng.uniform(0.0, transform_.box_size);
    augmentation.shifts.push_back(shift);
    eps_parts.push_back(pointcloud::normal_tensor(rng, {1, n_, f_}));
    eps0_parts.push_back(pointcloud::normal_tensor(rng, {1, n_, f_}));
  }

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
  const auto eps = torch::cat(eps_parts).to(device_);
  const auto eps0 = torch::cat(eps0_parts).to(device_);
  const std::int64_t offset = std::int64_t(rank()) * b;
  const auto t = pointcloud::antithetic_times(std::int64_t(world_size()) * b, u)
                     .slice(0, offset, offset + b)
                     .to(device_);

  vdm_->train();
  const auto terms = vdm_->terms(x, th, t, eps, eps0);
  // The published loss: nats per cloud divided by the number of points.
  const auto loss = terms.total().mean() / double(n_);
  vdm_->zero_grad();
  loss.backward();
  const double value = average_over_ranks(loss.item<double>());
  check_loss(value, step, "lower \"lr\" or clip gradients");
  update(step, config_.grad_clip_value);
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
  return train::summarise_validation(step, per_point);
}

void PointTrainer::prepare(TrainSummary& summary) {
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
  device_ = train::torch_device(request_.device, request_.distributed.launcher.local_rank);
  prepare_data();
  const Dataset& d = *data_;

  summary.start_step = 0;
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
    summary.start_step = checkpoint.step;
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
  move_state_to_device();
  if (request_.resume) {
    resume_from(checkpoint, stored);
    say("resuming " + request_.out_path + " at step " + std::to_string(summary.start_step));
    const std::string changed = train::changed_training_settings(checkpoint.config_json, config_);
    if (!changed.empty())
      say("resume: settings differ from the checkpoint's (the new ones apply from here on, the "
          "learning-rate schedule included): " +
          changed);
  }
  const std::size_t per_cloud = std::size_t(n_) * std::size_t(f_);
  clouds_.clear();
  theta_.clear();
  for (auto row : train_rows_) {
    clouds_.insert(clouds_.end(), d.sample(row), d.sample(row) + per_cloud);
    for (int k = 0; k < p_; ++k) theta_.push_back(float(d.param(row, std::size_t(k))));
  }

  for (const auto& p : params_) summary.parameter_count += p.numel();
  say("training " + network_.describe() + " (VDM), " + std::to_string(summary.parameter_count) +
      " parameters, on " + std::to_string(train_rows_.size()) + " clouds of " + std::to_string(n_) +
      " points x " + std::to_string(f_) + " features (" + std::to_string(validation_rows_.size()) +
      " held out)");
}

std::string PointTrainer::validation_line(const ValidationPoint& point) const {
  char line[200];
  std::snprintf(
      line, sizeof line,
      "validation at step %lld: loss per point %.5f +- %.3g (%zu held-out clouds, "
      "EMA weights, fixed noise)",
      static_cast<long long>(point.step), point.reduced_chi2, point.spread,
      std::min<std::size_t>(std::size_t(config_.validation_fields), validation_rows_.size()));
  return line;
}

}  // namespace

TrainSummary train_point_model(const TrainRequest& request, const JobContext& job,
                               const TrainLog& log) {
  PointTrainer trainer(request, job, log);
  return trainer.run();
}

}  // namespace ds
