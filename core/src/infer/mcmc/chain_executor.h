// Runs one task per chain (a transition, a step-size search) and batches the chains' density
// evaluations. Sampler code stays plain per-chain sequential code that calls
// PointEvaluator::evaluate(theta) whenever it needs log p and its gradient; the executor decides
// how those requests reach the LogDensity:
//  - lockstep: each chain's task runs on its own (persistent) thread; a request blocks until
//    every chain still inside its task has posted one, then the calling thread evaluates them
//    all in ONE LogDensity call (points ordered by chain) and releases the chains. A round's
//    batch is therefore "every unfinished chain", a deterministic set, and each chain computes
//    exactly what it would alone: results do not depend on scheduling or thread count.
//  - sequential: the tasks run one after another on the calling thread, batches of one.
// The threads only coordinate; the density itself may use its own threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "diffuscope/density/log_density.h"
#include "diffuscope/jobs/job.h"

namespace ds::detail {

class PointEvaluator {
 public:
  virtual ~PointEvaluator() = default;
  // log p at theta (D values) and, into gradient (D values), its gradient; gradient null: the
  // value alone (a round of chains that all ask for values alone calls the density without
  // gradients, which a network evaluates far more cheaply).
  virtual double evaluate(const double* theta, double* gradient) = 0;
};

class ChainExecutor {
 public:
  using Task = std::function<void(std::size_t chain, PointEvaluator& evaluator)>;

  ChainExecutor(const LogDensity& density, std::size_t chains, bool lockstep);
  ~ChainExecutor();
  ChainExecutor(const ChainExecutor&) = delete;
  ChainExecutor& operator=(const ChainExecutor&) = delete;

  // Runs task(c, evaluator) for every chain c and returns when all are done. Rethrows the first
  // exception of a task or of the density (the other chains are stopped first).
  void run(const Task& task);

  std::uint64_t calls() const { return calls_; }
  std::uint64_t points() const { return points_; }

 private:
  class DirectEvaluator;
  class BatchedEvaluator;
  void worker(std::size_t chain);
  void evaluate_round(std::unique_lock<std::mutex>& lock);

  const LogDensity& density_;
  std::size_t chains_;
  std::size_t dimension_;
  bool lockstep_;
  std::uint64_t calls_ = 0, points_ = 0;

  // Lockstep state, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable wake_workers_, wake_main_;
  const Task* task_ = nullptr;
  std::uint64_t generation_ = 0;  // incremented by every run()
  std::uint64_t round_ = 0;       // incremented by every batched evaluation
  std::size_t running_ = 0;       // chains inside the current task
  std::size_t waiting_ = 0;       // chains with a posted request
  bool abort_ = false, shutdown_ = false;
  std::exception_ptr error_;
  std::vector<char> pending_, wants_gradient_;
  std::vector<double> thetas_, values_, gradients_;  // [chain, D], [chain], [chain, D]
  std::vector<std::thread> threads_;
  // The job the constructing thread works for (CancellationScope), handed on to the workers.
  std::optional<CancellationToken> job_token_;
};

}  // namespace ds::detail
