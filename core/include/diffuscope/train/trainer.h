// Training a conditional 2D diffusion model (issue 5, Diffusion-HMC's recipe): noise-prediction
// loss at uniform timesteps, random D4 augmentation, Adam/AdamW with warm-up and a learning-rate
// schedule, gradient clipping, EMA, periodic validation with a P(k) chi^2 on held-out fields,
// atomic HDF5 checkpoints (data/model_file.h) and exact resumption.
//
// Reproducibility: the examples come epoch by epoch in an order drawn from the seed
// (train/distributed.h), and every random number of an example (augmentation, timestep, noise)
// from ds::Rng(seed, a stream of its position in that order), so a resumed run draws exactly what
// an uninterrupted one would (with the same thread count on CPU the weights agree bit for bit),
// and N data-parallel ranks with batch B draw what one process with batch N x B draws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"
#include "diffuscope/train/distributed.h"
#include "diffuscope/train/train_config.h"

namespace ds {

struct TrainRequest {
  std::string data_path;                // HDF5 dataset of fields [M, N, N] with /params
  std::shared_ptr<const Dataset> data;  // or the dataset itself (then data_path only names it)
  TrainConfig config;
  std::string out_path;  // the checkpoint, rewritten atomically
  bool resume = false;   // continue from out_path (must exist)
  Device device = Device::Cpu;
  std::int64_t steps = -1;  // > 0: train until this total step (overrides config)
  // Data-parallel training (train/distributed.h): with world_size > 1 every rank calls the
  // trainer with its launcher environment; batch_size is per rank, the global batch world_size
  // times it; only rank 0 logs and writes out_path.
  DistributedSettings distributed;
};

struct ValidationPoint {
  std::int64_t step = 0;
  double reduced_chi2 = 0.0;  // mean over the validation fields
  double spread = 0.0;        // standard deviation over the validation fields
};

struct TrainSummary {
  std::int64_t start_step = 0;  // where this run began (0, or the resumed step)
  std::int64_t end_step = 0;    // steps done when it stopped
  double seconds = 0.0;
  double first_loss = 0.0;   // mean loss of the first log_every steps of the whole training
  double last_loss = 0.0;    // mean loss of the last log_every steps
  std::vector<double> loss;  // every step's loss since step 0
  std::vector<ValidationPoint> validations;
  std::int64_t parameter_count = 0;
};

// One human-readable line per log interval, validation and checkpoint.
using TrainLog = std::function<void(const std::string& line)>;

// Trains and writes request.out_path every checkpoint_every steps and at the end. When the job is
// cancelled (Ctrl-C in the CLI), the current step is checkpointed and Cancelled is rethrown.
// Throws InvalidArgument / FileError naming the file and the problem for bad data (not fields,
// wrong size for the network, too few parameters), a resume from a missing or incompatible
// checkpoint (other architecture or data), or a bad config.
TrainSummary train_field_model(const TrainRequest& request, const JobContext& job = {},
                               const TrainLog& log = {});

}  // namespace ds
