#include "diffuscope/stats/binning.h"

#include <algorithm>
#include <cmath>

#include "diffuscope/error.h"

namespace ds {

void require_increasing_edges(const std::vector<double>& edges, const std::string& what) {
  if (edges.size() < 2)
    throw InvalidArgument(what + ": need at least two bin edges, got " +
                          std::to_string(edges.size()));
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i]))
      throw InvalidArgument(what + ": bin edge " + std::to_string(i) + " is not finite");
    if (i > 0 && !(edges[i] > edges[i - 1]))
      throw InvalidArgument(what + ": bin edges must be strictly increasing (edge " +
                            std::to_string(i) + " = " + std::to_string(edges[i]) + " follows " +
                            std::to_string(edges[i - 1]) + ")");
  }
}

std::vector<double> log_spaced_edges(double lo, double hi, int bins) {
  if (bins < 1)
    throw InvalidArgument("log bins: need at least one bin, got " + std::to_string(bins));
  if (!(lo > 0.0) || !(hi > lo) || !std::isfinite(hi))
    throw InvalidArgument("log bins: need 0 < lo < hi, got lo = " + std::to_string(lo) +
                          ", hi = " + std::to_string(hi));
  std::vector<double> edges(std::size_t(bins) + 1);
  const double a = std::log10(lo), b = std::log10(hi);
  for (int i = 0; i <= bins; ++i) edges[std::size_t(i)] = std::pow(10.0, a + (b - a) * i / bins);
  edges.front() = lo;  // exact end points: the extreme input bins must fall inside
  edges.back() = hi;
  return edges;
}

PowerSpectrum rebin(const PowerSpectrum& s, const std::vector<double>& edges) {
  require_increasing_edges(edges, "rebin");
  const std::size_t bins = edges.size() - 1;
  std::vector<double> k_sum(bins, 0.0), p_sum(bins, 0.0);
  std::vector<std::int64_t> count(bins, 0);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.k[i] < edges.front() || s.k[i] > edges.back()) continue;
    // Index of the last edge <= k; k == edges.back() belongs to the last bin.
    std::size_t b =
        std::size_t(std::upper_bound(edges.begin(), edges.end(), s.k[i]) - edges.begin()) - 1;
    b = std::min(b, bins - 1);
    const double w = double(s.nmodes[i]);
    k_sum[b] += w * s.k[i];
    p_sum[b] += w * s.pk[i];
    count[b] += s.nmodes[i];
  }
  PowerSpectrum out;
  for (std::size_t b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    out.k.push_back(k_sum[b] / double(count[b]));
    out.pk.push_back(p_sum[b] / double(count[b]));
    out.nmodes.push_back(count[b]);
  }
  return out;
}

PowerSpectrum rebin_log(const PowerSpectrum& s, int bins) {
  if (s.size() < 2) throw InvalidArgument("rebin: the spectrum has fewer than two bins");
  return rebin(s, log_spaced_edges(s.k.front(), s.k.back(), bins));
}

}  // namespace ds
