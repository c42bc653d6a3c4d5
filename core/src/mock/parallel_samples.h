// A deterministic parallel loop over independent samples (private to core/mock). Each sample is
// made from its own seed and written to its own slot, so the result does not depend on how many
// threads share the work or in which order they take it.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "diffuscope/jobs/job.h"

namespace ds::detail {

// Runs task(i) for every i in [0, count) on `threads` threads, the calling thread being one of
// them. Progress is reported from the calling thread only (progress callbacks need not be
// thread-safe); cancellation and the first exception stop every thread before the next sample,
// and that exception (or Cancelled) is rethrown here once all threads have joined.
inline void parallel_for_samples(std::size_t count, int threads,
                                 const std::function<void(std::size_t)>& task,
                                 const JobContext& job, const std::string& what) {
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
      if (reporter)
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
  job.report(std::int64_t(count), std::int64_t(count), what + " done");
}

}  // namespace ds::detail
