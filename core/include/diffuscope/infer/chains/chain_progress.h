// Chains written while they are sampled, so that a crash after hours of sampling keeps the draws
// made so far. The final chain files (chain_files.h) are written whole at the end, each through a
// temporary and a rename; this file is their journal until then.
//
// The file is a CSV chain file (write_chains_csv's layout, with every statistic a Transition
// has: lp, acceptance_rate, step_size, n_steps, tree_depth, diverging, energy, energy_error)
// whose first line marks it as in progress:
//   # diffuscope chains in progress (sampler S, seed N, C chains): kept draws are appended as
//   they are made; a crash leaves the draws made so far
// read_chains_csv (and so read_chains, `diagnose`, the GUI) reads it while it grows or after its
// writer died: a torn last line is ignored and the chains are cut to the draws every chain has.
//
// Durability: the rows of each kept iteration are flushed to the operating system at once, so
// they survive the process being killed (kill -9, a crash, an out-of-memory kill); they are
// fsync'ed at most every kSyncSeconds, so a power loss costs at most that much sampling.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "diffuscope/infer/mcmc/mcmc.h"

namespace ds {

class ChainProgressWriter {
 public:
  static constexpr double kSyncSeconds = 5.0;

  // Creates (or truncates) `path` and writes the marker line; the column header follows with the
  // first kept iteration. Throws InvalidArgument for names that cannot be CSV columns, FileError
  // naming `path` when it cannot be created.
  // `chains` is the number of chains the sampler runs (so that a reader knows a chain that has
  // no row yet).
  ChainProgressWriter(std::string path, std::vector<std::string> names, std::size_t chains,
                      std::string sampler, std::uint64_t seed);
  // Removes the file (see remove()): a writer that goes out of scope, on success or by an
  // exception (cancellation included), leaves nothing behind; only a dying process does.
  ~ChainProgressWriter();
  ChainProgressWriter(const ChainProgressWriter&) = delete;
  ChainProgressWriter& operator=(const ChainProgressWriter&) = delete;

  // Appends one row per chain when `iteration` is a kept one (draw = iteration - the number of
  // warm-up iterations); warm-up iterations are skipped. Throws FileError naming the file when
  // the rows cannot be written, InvalidArgument when a position's size is not the number of
  // names.
  void append(const McmcIteration& iteration);

  // The callback to pass to sample_hmc / sample_nuts (it refers to this writer).
  McmcIterationCallback callback();

  // Closes and deletes the file; idempotent, never throws. Call it once the final chain files are
  // written (or let the destructor do it).
  void remove() noexcept;

  const std::string& path() const { return path_; }
  std::size_t draws_written() const { return draws_; }

 private:
  void fail(const std::string& what);

  std::string path_;
  std::vector<std::string> names_;
  std::size_t chains_ = 0;
  std::FILE* file_ = nullptr;
  bool header_written_ = false;
  bool removed_ = false;
  std::size_t first_kept_iteration_ = 0;
  std::size_t draws_ = 0;
  std::string buffer_;
  std::vector<double> stats_;
  std::chrono::steady_clock::time_point last_sync_;
};

}  // namespace ds
