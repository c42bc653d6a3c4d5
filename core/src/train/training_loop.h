// The machinery the 2D field trainer (trainer.cpp) and the point-cloud trainer
// (point_trainer.cpp) share: held-out split, Adam/AdamW with clipping and the lr schedule, the EMA
// of the weights, checkpoint state, and the run loop with progress, logging, validation,
// checkpoints and Ctrl-C handling. A trainer supplies its data, loss, validation and model file.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/data/model_file.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"
#include "diffuscope/train/distributed.h"
#include "diffuscope/train/trainer.h"
#include "train/process_group.h"

namespace ds::train {

// cuda:(local_rank % visible GPUs) for Cuda (one GPU per rank under srun / torchrun), else CPU.
torch::Device torch_device(Device device, int local_rank = 0);

// Stream of the random numbers of the training example at `position` in the epoch order.
inline std::uint64_t example_stream(std::uint64_t position) {
  return 0x4000'0000'0000'0000ULL + position;
}

// "12m05s" or "3h07m"; "?" for a rate that gives no estimate.
std::string format_duration(double seconds);

// A validation result: the mean and the sample standard deviation (ddof 1; 0 for one value) of
// the per-field or per-cloud values measured at `step`.
ValidationPoint summarise_validation(std::int64_t step, const std::vector<double>& values);

// The training settings of `now` that differ from those stored under "training" in a checkpoint's
// /config JSON, as "steps 30000 -> 100000, lr 0.001 -> 0.0005"; empty when none differ or the
// checkpoint stores none. A resumed run follows the new values from its first step on (the
// learning-rate schedule included), so the trainers say this when resuming.
std::string changed_training_settings(const std::string& stored_config_json,
                                      const TrainConfig& now);

// Shuffles rows [0, count) with Rng(seed, stream) and holds round(fraction * count) of them out
// (at least 1 when fraction > 0, never all). Returns the training rows; both lists are sorted.
std::vector<std::size_t> split_rows(std::size_t count, double fraction, std::uint64_t seed,
                                    std::uint64_t stream, std::vector<std::size_t>& validation);

// Copies the named arrays into targets (matched by names[i]); throws FileError naming path and
// `what` for a missing or misshapen one. Scalars may be stored as [1].
void set_state(const std::vector<std::string>& names, std::vector<torch::Tensor>& targets,
               const std::vector<NamedArray>& arrays, const std::string& what,
               const std::string& path);

class TrainingLoop {
 public:
  TrainingLoop(const TrainRequest& request, const JobContext& job, const TrainLog& log)
      : request_(request), config_(request.config), job_(job), log_(log) {}
  virtual ~TrainingLoop() = default;

  // Joins the process group (a data-parallel run), prepare(), rank 0's weights and optimiser state
  // to every rank, then steps until config_.steps; checkpoints on the way, at the end and when
  // cancelled (Cancelled is rethrown).
  TrainSummary run();

 protected:
  // Checks the config, prepares data and model (resuming if asked) and announces the run; sets
  // summary.start_step and summary.parameter_count.
  virtual void prepare(TrainSummary& summary) = 0;
  // One step: the batch's loss (backward done, checked by check_loss) and update(step).
  virtual double train_step(std::int64_t step) = 0;
  // Validation at `step` with the EMA weights.
  virtual ValidationPoint validate(std::int64_t step) = 0;
  // The log line of a validation point.
  virtual std::string validation_line(const ValidationPoint& point) const = 0;
  // What the periodic log line averages ("loss", "loss per point").
  virtual const char* loss_name() const = 0;
  // The model part of a checkpoint: config JSON, weights (and betas where the model has them);
  // save() adds the optimiser state, EMA, losses and validations.
  virtual ModelCheckpoint model_checkpoint() = 0;

  // The dataset of the request (in memory, validated; else read from data_path) and the name
  // errors give it (data_path, or "dataset").
  std::shared_ptr<const Dataset> training_data() const;
  std::string data_origin() const {
    return request_.data_path.empty() ? "dataset" : request_.data_path;
  }
  // Takes the model's parameters: zero Adam moments and an EMA equal to the weights.
  void track_parameters(const std::vector<std::string>& names,
                        const std::vector<torch::Tensor>& params);
  // Moves EMA and moments to device_ (the parameters move with their module).
  void move_state_to_device();
  // This rank's examples of the step about to run: indices into train_rows_, batch_size of them,
  // from position `first` of the epoch order on (their random numbers: example_stream).
  std::vector<std::size_t> batch_rows(std::uint64_t& first);
  // The mean of `local_loss` over the ranks, after replacing every gradient by its mean over the
  // ranks (one all-reduce; a cancelled rank stops every rank after this step). Single process:
  // local_loss.
  double average_over_ranks(double local_loss);
  int rank() const { return group_ ? group_->rank() : 0; }
  int world_size() const { return group_ ? group_->world_size() : 1; }
  // Throws InvalidArgument for a non-finite loss; `remedy` ends the message.
  void check_loss(double value, std::int64_t step, const std::string& remedy) const;
  // Clips the gradients (element-wise to [-clip_value, clip_value] when clip_value > 0, then to
  // config_.grad_clip in L2 norm), takes an Adam/AdamW step at config_.learning_rate(step) and
  // updates the EMA.
  void update(std::int64_t step, double clip_value);
  // EMA, moments, optimiser step, losses and validations of a checkpoint being resumed.
  void restore_state(const ModelCheckpoint& c, const std::string& path);
  void save(std::int64_t step);
  // Rank 0 only.
  void say(const std::string& line) const {
    if (log_ && rank() == 0) log_(line);
  }

  const TrainRequest& request_;
  TrainConfig config_;
  const JobContext& job_;
  const TrainLog& log_;
  torch::Device device_{torch::kCPU};
  std::vector<std::size_t> train_rows_, validation_rows_;  // dataset rows
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_, ema_, exp_avg_, exp_avg_sq_;
  std::int64_t optimizer_step_ = 0;
  std::uint64_t data_position_ = 0;  // examples consumed by all ranks before the current step
  std::unique_ptr<EpochOrder> order_;
  std::unique_ptr<ProcessGroup> group_;  // null: a single process
  bool peer_cancelled_ = false;          // some rank was cancelled during the last step
  std::vector<double> loss_;
  std::vector<ValidationPoint> validations_;
};

}  // namespace ds::train
