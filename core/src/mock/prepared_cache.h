// Per-cosmology prepared generators for a set (private to core/mock): each cosmology's generator
// (spectrum tables, mass function, ...) is made once, by the first thread that needs it, shared
// by the samples of that cosmology, and freed when the last of them is done, so memory stays
// bounded by the cosmologies in flight rather than by the set.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "diffuscope/mock/sets.h"

namespace ds::detail {

template <class T>
class PreparedCache {
 public:
  using Maker = std::function<std::unique_ptr<T>(const SetSample&)>;

  PreparedCache(const std::vector<SetSample>& samples, Maker make)
      : samples_(samples), make_(std::move(make)), slots_(cosmology_count(samples)) {
    for (const auto& s : samples) ++slots_[std::size_t(s.cosmology)].remaining;
  }

  // The generator of sample i's cosmology, made now if no other sample made it yet.
  std::shared_ptr<const T> acquire(std::size_t i) {
    Slot& slot = slots_[std::size_t(samples_[i].cosmology)];
    std::lock_guard<std::mutex> lock(slot.mutex);
    if (!slot.value) slot.value = std::shared_ptr<const T>(make_(samples_[i]));
    return slot.value;
  }

  // Sample i is done with it; the last sample of a cosmology frees the generator.
  void release(std::size_t i) {
    Slot& slot = slots_[std::size_t(samples_[i].cosmology)];
    std::lock_guard<std::mutex> lock(slot.mutex);
    if (--slot.remaining == 0) slot.value.reset();
  }

 private:
  static std::size_t cosmology_count(const std::vector<SetSample>& samples) {
    int cosmologies = 0;
    for (const auto& s : samples) cosmologies = std::max(cosmologies, s.cosmology + 1);
    return std::size_t(cosmologies);
  }
  struct Slot {
    std::mutex mutex;
    std::shared_ptr<const T> value;
    std::size_t remaining = 0;
  };
  const std::vector<SetSample>& samples_;
  Maker make_;
  std::vector<Slot> slots_;
};

}  // namespace ds::detail
