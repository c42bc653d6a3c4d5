// Core's one parallel loop (private to core): task(i) for every i in [0, count) on a few
// std::threads, the calling thread being one of them, indices handed out one at a time. Callers
// write each result to its own slot (and combine slots in index order), so what they compute does
// not depend on the thread count or on which thread took which index.
//
// Why hand-written and not OpenMP or TBB: LibTorch already runs its own OpenMP pool in the same
// process (GOMP_SPINCOUNT, runtime.h), and nesting a second OpenMP region inside our loops or
// under a torch call oversubscribes the two cores this code is tuned for; TBB would be a new
// dependency for some 60 lines. The loops here are coarse (a sample, a chunk of queries, a
// likelihood point), so a plain pool per call costs microseconds against milliseconds of work.
// The samplers' lockstep chain executor (infer/mcmc/chain_executor.h) is not a loop but persistent
// threads that meet at every density evaluation, and stays separate.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/runtime.h"

namespace ds::detail {

// `requested` threads, or the process's thread count (runtime.h) when requested <= 0.
inline int resolve_threads(int requested) {
  return requested > 0 ? requested : std::max(1, thread_count());
}

// Runs task(i) for every i in [0, count) on up to `threads` threads. Progress goes to job from
// the calling thread only ("<what> i/count", then "<what> done"; nothing when `what` is empty), so
// progress callbacks need not be thread-safe. Cancellation and the first exception stop every
// thread before its next index; that exception (or Cancelled) is rethrown here once all threads
// have joined.
inline void parallel_for(std::size_t count, int threads,
                         const std::function<void(std::size_t)>& task, const JobContext& job = {},
                         const std::string& what = {}) {
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&](bool reporter) {
    while (!stop.load(std::memory_order_relaxed)) {
      if (job.cancelled()) {
        stop = true;
        break;
      }
      const std::size_t i = next.fetch_add(1);
      if (i >= count) break;
      try {
        task(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
        break;
      }
      const std::size_t finished = done.fetch_add(1) + 1;
      if (reporter && !what.empty())
        job.report(std::int64_t(finished), std::int64_t(count),
                   what + " " + std::to_string(finished) + "/" + std::to_string(count));
    }
  };
  const std::size_t helpers =
      threads > 1 ? std::min<std::size_t>(std::size_t(threads) - 1, count > 0 ? count - 1 : 0) : 0;
  std::vector<std::thread> pool;
  pool.reserve(helpers);
  try {
    for (std::size_t t = 0; t < helpers; ++t) pool.emplace_back(work, false);
  } catch (...) {  // no thread could be started: stop and join the ones that were
    stop = true;
    for (auto& thread : pool) thread.join();
    throw;
  }
  work(true);
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  job.check_cancelled();
  if (!what.empty()) job.report(std::int64_t(count), std::int64_t(count), what + " done");
}

}  // namespace ds::detail
