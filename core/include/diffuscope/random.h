// Seeded random numbers with a sequence fixed by the C++ standard (mt19937_64) and our own
// normal transform, so that a seed gives the same numbers on every platform and library version.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace ds {

// SplitMix64 finaliser: decorrelates (seed, stream) pairs into independent engine seeds.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream = 0) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) : engine_(mix_seed(seed, stream)) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0.0;
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double phi = 2.0 * M_PI * u2;
    spare_ = r * std::sin(phi);
    has_spare_ = true;
    return r * std::cos(phi);
  }

  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return std::uint64_t(uniform() * double(n)) % n; }

  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace ds
