// Data-parallel training under a standard launcher (issue 19), torch-free: the launcher's
// environment and the order in which the ranks see the training examples. The process group
// itself (LibTorch c10d: a TCPStore rendezvous, Gloo on CPU, NCCL on CUDA when the build has it)
// lives in core/src/train/process_group.{h,cpp}.
//
// Launchers: torchrun-style variables RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, or
// SLURM's srun (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; MASTER_ADDR defaults to the first host
// of SLURM_JOB_NODELIST, MASTER_PORT to 20000 + SLURM_JOB_ID % 20000). torchrun's variables win
// over SLURM's. A world of one process trains as before, without a process group.
//
// Data order: the training examples are read epoch by epoch, each epoch a permutation of the
// training rows drawn from the run's seed (EpochOrder). Step s consumes the next G = world_size x
// batch_size examples of that sequence (the global batch); rank r takes the slice
// [r * batch_size, (r + 1) * batch_size) of it, so the ranks of an epoch see disjoint examples and
// one process with batch G sees exactly their union. The checkpoint stores the position in the
// sequence (examples consumed) beside the global step, so a run resumed with another world size
// continues the same sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ds {

struct LauncherEnvironment {
  int rank = 0;             // this process, in [0, world_size)
  int world_size = 1;       // processes in the run
  int local_rank = 0;       // this process on its node: picks the GPU (cuda:local_rank % visible)
  std::string master_addr;  // host of rank 0, where the rendezvous store listens
  int master_port = 0;      // its TCP port, in [1, 65535]
  std::string launcher;     // "torchrun", "slurm" or "" (a single process)

  bool distributed() const { return world_size > 1; }
};

// Reads the launcher's variables through `getenv` (std::getenv by default; tests pass their own).
// Throws InvalidArgument naming the variable for a non-numeric or out-of-range value, RANK >=
// WORLD_SIZE, RANK without WORLD_SIZE (or the reverse), or a world of more than one process
// without MASTER_ADDR / MASTER_PORT (and, under SLURM, without a node list to take them from).
using EnvironmentLookup = std::function<const char*(const char* name)>;
LauncherEnvironment read_launcher_environment(const EnvironmentLookup& getenv = {});

// The first host of a SLURM node list: "node[07-09,12],gpu3" -> "node07", "a1,b2" -> "a1".
// Throws InvalidArgument for an empty or malformed list.
std::string first_slurm_host(const std::string& nodelist);

// The training settings of a data-parallel run (TrainRequest::distributed).
struct DistributedSettings {
  LauncherEnvironment launcher;   // world_size 1: no process group
  double timeout_seconds = 60.0;  // rendezvous and every collective; a dead rank fails the others
};

// The sequence of training rows, epoch after epoch: epoch e is a permutation of [0, count) drawn
// with Rng(seed, stream kEpochStream + e). Positions count examples from the start of training.
class EpochOrder {
 public:
  EpochOrder(std::size_t count, std::uint64_t seed);

  // Index (in [0, count)) of the example at `position` (>= 0).
  std::size_t at(std::uint64_t position);
  // The `length` examples from `position` on (they may cross into the next epoch).
  std::vector<std::size_t> slice(std::uint64_t position, std::size_t length);

  // The permutation of epoch `epoch`.
  static std::vector<std::size_t> permutation(std::size_t count, std::uint64_t seed,
                                              std::uint64_t epoch);

 private:
  std::size_t count_;
  std::uint64_t seed_;
  std::uint64_t epoch_ = ~std::uint64_t(0);  // the epoch held in order_
  std::vector<std::size_t> order_;
};

// Position of rank `rank`'s first example at a step that starts at global position
// `global_position`: global_position + rank * batch_size.
inline std::uint64_t rank_position(std::uint64_t global_position, int rank, int batch_size) {
  return global_position + std::uint64_t(rank) * std::uint64_t(batch_size);
}

}  // namespace ds
