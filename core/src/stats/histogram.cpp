#include "diffuscope/stats/histogram.h"

#include <cmath>
#include <string>

#include "diffuscope/error.h"

namespace ds {

Histogram density_histogram(const std::vector<double>& values, double lo, double hi, int bins) {
  if (bins < 1)
    throw InvalidArgument("histogram: need at least one bin, got " + std::to_string(bins));
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi))
    throw InvalidArgument("histogram: the range must be finite with lo < hi, got [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
  Histogram h;
  h.edges.resize(std::size_t(bins) + 1);
  const double width = (hi - lo) / bins;
  for (int b = 0; b <= bins; ++b) h.edges[std::size_t(b)] = lo + width * b;
  h.edges.back() = hi;
  h.counts.assign(std::size_t(bins), 0);
  std::int64_t inside = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v))
      throw InvalidArgument("histogram: value " + std::to_string(i) + " is not finite");
    if (v < lo || v > hi) {
      ++h.outside;
      continue;
    }
    int b = int((v - lo) / width);
    // Rounding can put a value just below an edge into the next bin: settle on the edges.
    if (b >= bins) b = bins - 1;
    if (b > 0 && v < h.edges[std::size_t(b)]) --b;
    if (b < bins - 1 && v >= h.edges[std::size_t(b) + 1]) ++b;
    ++h.counts[std::size_t(b)];
    ++inside;
  }
  if (inside == 0)
    throw InvalidArgument("histogram: no value lies in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "] (" + std::to_string(values.size()) + " values)");
  h.density.resize(std::size_t(bins));
  for (int b = 0; b < bins; ++b)
    h.density[std::size_t(b)] = double(h.counts[std::size_t(b)]) / (double(inside) * width);
  return h;
}

Histogram log10_density_histogram(const Field2D& field, FieldScaling scaling, double lo, double hi,
                                  int bins) {
  if (field.n < 1 || field.values.size() != std::size_t(field.n) * field.n)
    throw InvalidArgument("histogram: field holds " + std::to_string(field.values.size()) +
                          " values, expected " + std::to_string(field.n) + " x " +
                          std::to_string(field.n));
  if (scaling == FieldScaling::Log) return density_histogram(field.values, lo, hi, bins);
  std::vector<double> logs(field.values.size());
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const double density =
        field.kind == FieldKind::Contrast ? 1.0 + field.values[i] : field.values[i];
    if (!(density > 0.0))
      throw InvalidArgument("histogram: log10 of a non-positive density at pixel " +
                            std::to_string(i / field.n) + "," + std::to_string(i % field.n));
    logs[i] = std::log10(density);
  }
  return density_histogram(logs, lo, hi, bins);
}

}  // namespace ds
