// The torch-facing side of data-parallel training (diffuscope/train/distributed.h): a c10d
// process group over a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT, Gloo on CPU (and for CUDA
// tensors when the build has no NCCL, through a CPU copy), NCCL on CUDA when LibTorch was built
// with it (USE_C10D_NCCL). The only translation unit that includes c10d headers is
// process_group.cpp; the trainers see this small class.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/train/distributed.h"

namespace ds::train {

class ProcessGroup {
 public:
  // Joins the run: rank 0 opens the store, every rank waits (at most settings.timeout_seconds)
  // for all world_size ranks, then builds the process group with that timeout for every
  // collective. `device` is where the trainer keeps its tensors (CUDA picks NCCL when built).
  // Throws InvalidArgument with the address, the rank and the launcher's remedy on failure.
  ProcessGroup(const DistributedSettings& settings, const torch::Device& device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // "Gloo" or "NCCL".
  const std::string& backend() const { return backend_; }

  // Copies rank 0's values of `tensors` into every rank's (one flat buffer per dtype; float32
  // here).
  void broadcast_from_rank0(std::vector<torch::Tensor>& tensors);
  // Replaces each tensor and each of `scalars` by its mean over the ranks: one all-reduce of one
  // flat float32 buffer [sum of numels + scalars.size()]. Every rank passes the same shapes
  // (undefined tensors are skipped, so the trainer defines every gradient first).
  void average(std::vector<torch::Tensor>& tensors, std::vector<double>& scalars);
  // Waits for every rank (the end of a run, before rank 0's store goes away).
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_size_ = 1;
  std::string backend_;
  std::string where_;  // "rank 1 of 2 (MASTER_ADDR 127.0.0.1:29500)", for messages
  double timeout_seconds_ = 60.0;

  void wait(const std::string& what, const std::function<void()>& op);
};

}  // namespace ds::train
