// Plain C++ plumbing for long computations: progress, partial results and cancellation. Core
// algorithms take a JobContext and never print; the CLI renders progress as a bar on stderr,
// the GUI forwards it to the status bar through queued signals, tests capture it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace ds {

// Thrown by JobContext::check_cancelled() when cancellation was requested; jobs let it
// propagate so that nothing half-done is published.
class Cancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "cancelled"; }
};

// Shared flag: copies refer to the same state, so the UI keeps one and the worker another.
class CancellationToken {
 public:
  CancellationToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void request() const { flag_->store(true, std::memory_order_relaxed); }
  bool requested() const { return flag_->load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

// The process-wide interrupt: the CLI requests it from its SIGINT / SIGTERM handler (a lock-free
// atomic store). Every JobContext counts as cancelled once it is requested, default-constructed
// ones included, so a loop deep inside a computation (network chunks of a likelihood evaluated
// by a sampler, say) stops at its next check without each layer passing a context down; the
// GUI never requests it (its jobs have their own tokens). Call it once before installing a
// signal handler that uses it, so that its initialisation does not happen inside the handler.
inline const CancellationToken& process_interrupt() {
  static const CancellationToken token;
  return token;
}

// The token of the job the calling thread works for, seen by code deep inside a computation that
// was handed no JobContext (a likelihood's network chunks, which check a default JobContext): a
// scope sets it for one job on its worker thread (the GUI's JobRunner does), and the chain
// executor hands it on to its threads. Every JobContext counts as cancelled once the current
// job's token is requested, so Cancel stops a GUI job within one network chunk, as SIGINT stops
// the CLI (process_interrupt).
class CancellationScope {
 public:
  explicit CancellationScope(CancellationToken token) : token_(std::move(token)), outer_(current_) {
    current_ = &token_;
  }
  ~CancellationScope() { current_ = outer_; }
  CancellationScope(const CancellationScope&) = delete;
  CancellationScope& operator=(const CancellationScope&) = delete;
  // The innermost scope's token on this thread, or nullptr outside any scope.
  static const CancellationToken* current() { return current_; }

 private:
  CancellationToken token_;
  const CancellationToken* outer_;
  static inline thread_local const CancellationToken* current_ = nullptr;
};

struct Progress {
  std::int64_t done = 0;
  std::int64_t total = 0;  // 0 when unknown
  std::string message;     // what is being done, e.g. "sampling step 312/1000"
  double fraction() const { return total > 0 ? double(done) / double(total) : 0.0; }
};

using ProgressCallback = std::function<void(const Progress&)>;

// A partial result (a heatmap row, a chain draw, a sampler step) handed to whoever waits for it.
template <class T>
using PartialResultCallback = std::function<void(const T&)>;

// What a job receives. All members are optional; a default-constructed context reports nothing
// and is never cancelled.
class JobContext {
 public:
  JobContext() = default;
  JobContext(ProgressCallback progress, CancellationToken cancel)
      : progress_(std::move(progress)), cancel_(std::move(cancel)) {}

  void report(std::int64_t done, std::int64_t total, const std::string& message = {}) const {
    if (progress_) progress_(Progress{done, total, message});
  }
  bool cancelled() const {
    const CancellationToken* scope = CancellationScope::current();
    return cancel_.requested() || process_interrupt().requested() ||
           (scope != nullptr && scope->requested());
  }
  void check_cancelled() const {
    if (cancelled()) throw Cancelled();
  }
  const CancellationToken& token() const { return cancel_; }

 private:
  ProgressCallback progress_;
  CancellationToken cancel_;
};

}  // namespace ds
