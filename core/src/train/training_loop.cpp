#include "train/training_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "nets/named_tensors.h"

namespace ds::train {

std::string changed_training_settings(const std::string& stored_config_json,
                                      const TrainConfig& now) {
  using nlohmann::json;
  const json stored = json::parse(stored_config_json, nullptr, false);
  if (stored.is_discarded() || !stored.is_object() || !stored.contains("training")) return {};
  const json& before = stored.at("training");
  const json after = json::parse(now.to_json());
  std::string changes;
  for (auto it = after.begin(); it != after.end(); ++it) {
    const auto old = before.find(it.key());
    if (old == before.end() || *old == it.value()) continue;
    changes +=
        (changes.empty() ? "" : ", ") + it.key() + " " + old->dump() + " -> " + it.value().dump();
  }
  return changes;
}

torch::Device torch_device(Device device, int local_rank) {
  if (device != Device::Cuda) return torch::Device(torch::kCPU);
  const int visible = std::max<int>(1, int(torch::cuda::device_count()));
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % visible));
}

ValidationPoint summarise_validation(std::int64_t step, const std::vector<double>& values) {
  ValidationPoint point;
  point.step = step;
  if (values.empty()) return point;
  double mean = 0.0, square = 0.0;
  for (double v : values) mean += v;
  mean /= double(values.size());
  for (double v : values) square += (v - mean) * (v - mean);
  point.reduced_chi2 = mean;
  point.spread = values.size() > 1 ? std::sqrt(square / double(values.size() - 1)) : 0.0;
  return point;
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
                                    std::uint64_t stream, std::vector<std::size_t>& validation) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  Rng rng(seed, stream);
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

void set_state(const std::vector<std::string>& names, std::vector<torch::Tensor>& targets,
               const std::vector<NamedArray>& arrays, const std::string& what,
               const std::string& path) {
  const auto state = to_state_map(arrays);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto it = state.find(names[i]);
    // Scalars (the point schedule's b and w) are stored as [1].
    if (it == state.end() || it->second.numel() != targets[i].numel() ||
        (it->second.sizes() != targets[i].sizes() && targets[i].dim() != 0))
      throw FileError(path, what + " for '" + names[i] + "' is missing or has the wrong shape");
    targets[i].copy_(it->second.reshape(targets[i].sizes()).to(targets[i].device()));
  }
}

std::shared_ptr<const Dataset> TrainingLoop::training_data() const {
  if (!request_.data) return std::make_shared<Dataset>(read_dataset_hdf5(request_.data_path));
  request_.data->validate(data_origin());
  return request_.data;
}

void TrainingLoop::track_parameters(const std::vector<std::string>& names,
                                    const std::vector<torch::Tensor>& params) {
  names_ = names;
  params_ = params;
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p));
    exp_avg_sq_.push_back(torch::zeros_like(p));
    ema_.push_back(p.detach().clone());
  }
}

void TrainingLoop::move_state_to_device() {
  for (auto* list : {&ema_, &exp_avg_, &exp_avg_sq_})
    for (auto& t : *list) t = t.to(device_);
}

std::vector<std::size_t> TrainingLoop::batch_rows(std::uint64_t& first) {
  if (!order_) order_ = std::make_unique<EpochOrder>(train_rows_.size(), config_.seed);
  first = rank_position(data_position_, rank(), config_.batch_size);
  return order_->slice(first, std::size_t(config_.batch_size));
}

double TrainingLoop::average_over_ranks(double local_loss) {
  if (!group_) return local_loss;
  std::vector<torch::Tensor> gradients;
  for (auto& p : params_) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    gradients.push_back(p.grad());
  }
  std::vector<double> scalars{local_loss, job_.cancelled() ? 1.0 : 0.0};
  group_->average(gradients, scalars);
  peer_cancelled_ = scalars[1] > 0.0;
  return scalars[0];
}

void TrainingLoop::check_loss(double value, std::int64_t step, const std::string& remedy) const {
  if (!std::isfinite(value))
    throw InvalidArgument("training diverged at step " + std::to_string(step) +
                          " (the loss is not finite); " + request_.out_path +
                          " keeps the last checkpoint; " + remedy);
}

void TrainingLoop::update(std::int64_t step, double clip_value) {
  torch::NoGradGuard no_grad;
  if (clip_value > 0.0)
    for (auto& p : params_)
      if (p.grad().defined()) p.grad().clamp_(-clip_value, clip_value);
  if (config_.grad_clip > 0.0) torch::nn::utils::clip_grad_norm_(params_, config_.grad_clip);

  // Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's arithmetic.
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
  // EMA of the weights; before ema_start it simply follows them.
  const double decay = step < config_.ema_start ? 0.0 : config_.ema_decay;
  for (std::size_t i = 0; i < params_.size(); ++i)
    ema_[i].mul_(decay).add_(params_[i].detach(), 1.0 - decay);
}

void TrainingLoop::restore_state(const ModelCheckpoint& c, const std::string& path) {
  if (c.ema.empty() || c.exp_avg.empty())
    throw FileError(path, "has no EMA or optimiser state (an exported model cannot be resumed)");
  set_state(names_, ema_, c.ema, "EMA weight", path);
  set_state(names_, exp_avg_, c.exp_avg, "Adam first moment", path);
  set_state(names_, exp_avg_sq_, c.exp_avg_sq, "Adam second moment", path);
  optimizer_step_ = c.optimizer_step;
  // Older checkpoints do not store the position: as if every step had taken one batch.
  data_position_ = std::uint64_t(c.data_position >= 0 ? c.data_position
                                                      : c.step * std::int64_t(config_.batch_size));
  loss_ = c.loss;
  if (std::int64_t(loss_.size()) != c.step)
    throw FileError(path, "loss history does not match /train/step");
  for (std::size_t i = 0; i + 2 < c.validation.size(); i += 3)
    validations_.push_back(
        {std::int64_t(c.validation[i]), c.validation[i + 1], c.validation[i + 2]});
}

void TrainingLoop::save(std::int64_t step) {
  if (rank() != 0) return;
  ModelCheckpoint c = model_checkpoint();
  for (std::size_t i = 0; i < names_.size(); ++i) {
    c.ema.push_back(to_named_array(names_[i], ema_[i]));
    c.exp_avg.push_back(to_named_array(names_[i], exp_avg_[i]));
    c.exp_avg_sq.push_back(to_named_array(names_[i], exp_avg_sq_[i]));
  }
  c.optimizer_step = optimizer_step_;
  c.step = step;
  c.data_position = std::int64_t(data_position_);
  c.loss.assign(loss_.begin(), loss_.begin() + long(step));
  for (const auto& v : validations_)
    if (v.step <= step)
      c.validation.insert(c.validation.end(), {double(v.step), v.reduced_chi2, v.spread});
  write_model_checkpoint(request_.out_path, c);
}

TrainSummary TrainingLoop::run() {
  TrainSummary summary;
  const DistributedSettings& distributed = request_.distributed;
  if (distributed.launcher.distributed())
    group_ = std::make_unique<ProcessGroup>(
        distributed, torch_device(request_.device, distributed.launcher.local_rank));
  prepare(summary);
  if (group_) {
    // Identical weights and optimiser state everywhere (one seed already gives them; this also
    // covers init_from and a resumed checkpoint read while rank 0 rewrote it).
    for (auto* list : {&params_, &ema_, &exp_avg_, &exp_avg_sq_})
      group_->broadcast_from_rank0(*list);
    say("data-parallel training: " + std::to_string(world_size()) + " ranks (" + group_->backend() +
        "), global batch " + std::to_string(world_size() * config_.batch_size) + " (" +
        std::to_string(config_.batch_size) + " per rank)");
  }
  const std::int64_t start = summary.start_step;
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
    say(validation_line(point));
  };
  auto checkpoint_due = [&] {
    return completed % config_.checkpoint_every == 0 && completed < config_.steps;
  };
  try {
    while (completed < config_.steps) {
      // Ranks stop together: a cancellation travels with the step's all-reduce.
      if (group_ ? peer_cancelled_ : job_.cancelled()) throw Cancelled();
      const std::int64_t step = completed;
      loss_[std::size_t(step)] = train_step(step);
      data_position_ += std::uint64_t(world_size()) * std::uint64_t(config_.batch_size);
      completed = step + 1;
      const double rate = double(completed - start) / std::max(elapsed(), 1e-9);
      char message[200];
      std::snprintf(message, sizeof message, "step %lld/%lld loss %.4f lr %.2e %.2f it/s ETA %s",
                    static_cast<long long>(completed), static_cast<long long>(config_.steps),
                    loss_[std::size_t(step)], config_.learning_rate(step), rate,
                    format_duration(double(config_.steps - completed) / rate).c_str());
      if (rank() == 0) job_.report(completed, config_.steps, message);
      if (completed % config_.log_every == 0) {
        double mean = 0.0;
        for (std::int64_t i = completed - config_.log_every; i < completed; ++i)
          mean += loss_[std::size_t(i)];
        std::snprintf(message, sizeof message, "step %lld: mean %s %.5f, lr %.3e, %.2f it/s",
                      static_cast<long long>(completed), loss_name(),
                      mean / double(config_.log_every), config_.learning_rate(step), rate);
        say(message);
      }
      if (checkpoint_due()) save(completed);
      if (config_.validate_every > 0 && completed % config_.validate_every == 0 &&
          !validation_rows_.empty()) {
        run_validation();
        if (checkpoint_due()) save(completed);  // again, with the validation point
      }
    }
    if (config_.validate_every > 0 && last_validation != completed && !validation_rows_.empty() &&
        completed > start)
      run_validation();
    save(completed);
    say("wrote " + request_.out_path + " at step " + std::to_string(completed));
    if (group_) group_->barrier();  // rank 0's store outlives every rank's last collective
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

}  // namespace ds::train
