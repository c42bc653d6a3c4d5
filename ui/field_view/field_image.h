// What the field viewport displays and edits: plain C++ (no Qt, no GL), so the workspace can build
// it on a worker thread and hand over an immutable snapshot.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "diffuscope/registries.h"

namespace dsui {

struct DisplayRange;

// A 2D field ready for display: n x n float values, row-major, row 0 drawn at the TOP.
struct FieldImage {
  int n = 0;
  std::vector<float> values;
  bool is_contrast = false;  // values are delta, the density is 1 + delta
  // Colour windows per [scaling][symmetric], filled by PrecomputeDisplayRanges on the worker
  // that made the image, so that the UI thread never sorts a 512^2 field (empty: compute lazily).
  std::vector<DisplayRange> precomputed_ranges;
};

// The cosmology the user asks for in the "Cosmology" panel.
struct FieldParameters {
  double omega_m = 0.3;
  double sigma_8 = 0.8;
  std::uint64_t seed = 1;

  bool operator==(const FieldParameters& o) const {
    return omega_m == o.omega_m && sigma_8 == o.sigma_8 && seed == o.seed;
  }
  bool operator!=(const FieldParameters& o) const { return !(*this == o); }
};

// The window of scaled values that spans the colour map, plus the density floor under log10.
struct DisplayRange {
  float lo = 0.0f;
  float hi = 1.0f;
  float log_floor = 1.0f;  // densities below it (including <= 0) are drawn as log10(log_floor)
};

// Percentile clip so that a few extreme pixels (a halo peak, a void) do not flatten the map.
inline constexpr double kDisplayLowPercentile = 0.5;
inline constexpr double kDisplayHighPercentile = 99.5;

namespace detail {
// p in [0, 100]; reorders `v`, which must be non-empty.
inline float Percentile(std::vector<float>& v, double p) {
  const auto k = static_cast<std::size_t>(std::lround(p / 100.0 * double(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
}  // namespace detail

// The same mapping the fragment shader applies (shaders/field.frag), evaluated on the CPU once
// per image. `symmetric` centres the window of a contrast field on the mean density (delta = 0,
// or log10(1 + delta) = 0), so that a diverging colour map draws the mean white; raw values have
// no such natural centre and ignore it.
inline DisplayRange ComputeDisplayRange(const FieldImage& image, ds::FieldScaling scaling,
                                        bool symmetric) {
  DisplayRange range;
  const bool log_scale = scaling == ds::FieldScaling::Log;
  std::vector<float> scaled;
  scaled.reserve(image.values.size());
  if (log_scale) {
    std::vector<float> positive;
    for (float v : image.values) {
      const float density = image.is_contrast ? v + 1.0f : v;
      if (std::isfinite(density) && density > 0.0f) positive.push_back(density);
    }
    if (!positive.empty()) range.log_floor = detail::Percentile(positive, kDisplayLowPercentile);
    for (float v : image.values) {
      const float density = image.is_contrast ? v + 1.0f : v;
      if (!std::isnan(density)) scaled.push_back(std::log10(std::max(density, range.log_floor)));
    }
  } else {
    for (float v : image.values)
      if (std::isfinite(v)) scaled.push_back(v);
  }
  scaled.erase(
      std::remove_if(scaled.begin(), scaled.end(), [](float s) { return !std::isfinite(s); }),
      scaled.end());
  if (scaled.empty()) return range;
  range.lo = detail::Percentile(scaled, kDisplayLowPercentile);
  range.hi = detail::Percentile(scaled, kDisplayHighPercentile);
  if (symmetric && image.is_contrast) {
    const float m = std::max(std::abs(range.lo), std::abs(range.hi));
    range.lo = -m;
    range.hi = m;
  }
  if (!(range.hi > range.lo)) {  // a constant field: put it in the middle of the map
    range.lo -= 0.5f;
    range.hi += 0.5f;
  }
  return range;
}

// Fills image.precomputed_ranges for every scaling and symmetry (call on a worker thread).
inline void PrecomputeDisplayRanges(FieldImage& image) {
  image.precomputed_ranges.clear();
  for (const auto& scaling : ds::kFieldScalings.entries())
    for (bool symmetric : {false, true})
      image.precomputed_ranges.push_back(ComputeDisplayRange(image, scaling.value, symmetric));
}

// The precomputed window when present, else computed now.
inline DisplayRange DisplayRangeFor(const FieldImage& image, ds::FieldScaling scaling,
                                    bool symmetric) {
  const std::size_t index =
      std::size_t(ds::kFieldScalings.index(scaling)) * 2 + (symmetric ? 1 : 0);
  if (index < image.precomputed_ranges.size()) return image.precomputed_ranges[index];
  return ComputeDisplayRange(image, scaling, symmetric);
}

}  // namespace dsui
