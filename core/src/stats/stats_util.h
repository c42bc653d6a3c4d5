// Small private helpers of the statistics sources: number formatting for messages, and a
// deterministic parallel loop over fixed chunks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "diffuscope/runtime.h"

namespace ds::detail {

// %g formatting for error messages ("1000", not "1000.000000").
inline std::string format_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

inline int resolve_threads(int requested) {
  return requested > 0 ? requested : std::max(1, thread_count());
}

// Calls work(chunk) for every chunk in [0, chunks), spread over `threads` std::threads (chunk c
// goes to thread c % threads). Callers store per-chunk results and combine them in chunk order,
// so the outcome does not depend on the thread count. The first exception is rethrown.
template <class Work>
void parallel_chunks(std::size_t chunks, int threads, const Work& work) {
  const std::size_t workers = std::min<std::size_t>(std::size_t(std::max(1, threads)), chunks);
  if (workers <= 1) {
    for (std::size_t c = 0; c < chunks; ++c) work(c);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < workers; ++t)
    pool.emplace_back([&, t] {
      try {
        for (std::size_t c = t; c < chunks; c += workers) work(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace ds::detail
