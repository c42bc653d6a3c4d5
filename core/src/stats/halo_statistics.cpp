#include "diffuscope/stats/halo_statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "diffuscope/error.h"
#include "diffuscope/runtime.h"
#include "diffuscope/stats/hmf.h"
#include "diffuscope/stats/knn_cdf.h"
#include "diffuscope/stats/pairwise_velocity.h"
#include "diffuscope/stats/two_point.h"

namespace ds {

namespace {

constexpr int kXiBins = 12;
constexpr int kMassBins = 12;
constexpr int kV12Bins = 10;

std::vector<double> log_spaced(double lo, double hi, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i)
    out.push_back(lo * std::pow(hi / lo, double(i) / double(count - 1)));
  return out;
}

// The bins of `used` only, for every row of `set`.
SampleSet columns(const SampleSet& set, const std::vector<std::size_t>& used) {
  SampleSet out;
  for (const auto& row : set) {
    std::vector<double> r;
    for (std::size_t b : used) r.push_back(row[b]);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

HaloStatisticBins halo_statistic_bins(std::int64_t n_points, double box_size, int radii) {
  if (n_points < 1 || !(box_size > 0) || radii < 2)
    throw InvalidArgument("halo statistic bins: need >= 1 point, a positive box and >= 2 radii");
  HaloStatisticBins b;
  const double spacing = box_size / std::cbrt(double(n_points));
  b.radii = log_spaced(0.08 * spacing, 2.5 * spacing, radii);
  const double xi_max = std::min(box_size / 6.0, 3.0 * spacing);
  b.xi_edges = log_spaced(xi_max / 15.0, xi_max, kXiBins + 1);
  b.v12_edges = log_spaced(xi_max / 15.0, xi_max, kV12Bins + 1);
  return b;
}

void set_mass_edges(HaloStatisticBins& bins, const std::vector<std::vector<double>>& log10_masses) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (const auto& c : log10_masses)
    for (double m : c)
      if (std::isfinite(m)) lo = std::min(lo, m), hi = std::max(hi, m);
  bins.logm_edges.clear();
  if (!(hi > lo)) return;
  for (int b = 0; b <= kMassBins; ++b)
    bins.logm_edges.push_back(lo + (hi - lo) * double(b) / kMassBins);
}

HaloCatalogueColumns halo_catalogue_columns(const float* rows, std::int64_t n_points, int features,
                                            double box_size) {
  if (features < 3) throw InvalidArgument("a halo catalogue needs x, y, z columns");
  HaloCatalogueColumns c;
  c.points.box_size = box_size;
  c.points.positions.reserve(std::size_t(n_points));
  for (std::int64_t i = 0; i < n_points; ++i) {
    const float* p = rows + std::size_t(i) * std::size_t(features);
    std::array<double, 3> x{};
    for (int d = 0; d < 3; ++d) {
      double v = std::fmod(double(p[d]), box_size);
      if (v < 0) v += box_size;
      x[std::size_t(d)] = v >= box_size ? 0.0 : v;
    }
    c.points.positions.push_back(x);
    if (features >= 7) c.log10_mass.push_back(p[6]);
    if (features >= 6) c.velocities.push_back({double(p[3]), double(p[4]), double(p[5])});
  }
  return c;
}

HaloStatistics measure_halo_statistics(const HaloCatalogueColumns& c, const HaloStatisticBins& bins,
                                       int threads, const JobContext& job) {
  HaloStatistics m;
  const auto queries =
      uniform_queries(std::size_t(bins.queries), c.points.box_size, bins.query_seed);
  job.check_cancelled();
  PointStatisticsOptions options;
  options.threads = threads > 0 ? threads : std::max(1, thread_count());
  m.knn = knn_cdf(knn_distances(c.points, queries, bins.ks, options), bins.radii);
  job.check_cancelled();
  m.xi = two_point_correlation(c.points, bins.xi_edges, options).xi;
  if (!c.log10_mass.empty() && bins.logm_edges.size() > 1)
    m.n_greater =
        cumulative_mass_function(c.log10_mass, bins.logm_edges, std::pow(c.points.box_size, 3))
            .n_greater;
  if (!c.velocities.empty() && bins.v12_edges.size() > 1) {
    job.check_cancelled();
    m.v12 = pairwise_velocity(c.points, c.velocities, bins.v12_edges, options).v12;
  }
  return m;
}

Envelope finite_envelope(const SampleSet& set) {
  Envelope e;
  const std::size_t bins = set.empty() ? 0 : set.front().size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t b = 0; b < bins; ++b) {
    std::vector<double> column;
    for (const auto& row : set)
      if (b < row.size() && std::isfinite(row[b])) column.push_back(row[b]);
    double mean = nan;
    if (!column.empty()) {
      mean = 0.0;
      for (double v : column) mean += v / double(column.size());
    }
    e.mean.push_back(mean);
    e.median.push_back(column.empty() ? nan : percentile(column, 50.0));
    e.lower.push_back(column.empty() ? nan : percentile(column, 16.0));
    e.upper.push_back(column.empty() ? nan : percentile(column, 84.0));
  }
  return e;
}

EmulatorChi2 emulator_chi2(const SampleSet& generated, const SampleSet& mocks) {
  if (mocks.size() < 3)
    throw InvalidArgument("emulator chi^2: need >= 3 mocks (leave-one-out), got " +
                          std::to_string(mocks.size()));
  const std::size_t bins = mocks.front().size();
  for (const auto& row : mocks)
    if (row.size() != bins) throw InvalidArgument("emulator chi^2: ragged mock statistics");
  for (const auto& row : generated)
    if (row.size() != bins)
      throw InvalidArgument("emulator chi^2: generated statistics have other bins than the mocks");
  // Bins where every mock has a value and the mocks scatter with any one of them left out.
  std::vector<std::size_t> used;
  for (std::size_t b = 0; b < bins; ++b) {
    bool ok = true;
    for (const auto& row : mocks) ok = ok && std::isfinite(row[b]);
    for (std::size_t left_out = 0; ok && left_out < mocks.size(); ++left_out) {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (std::size_t i = 0; i < mocks.size(); ++i) {
        if (i == left_out) continue;
        lo = std::min(lo, mocks[i][b]);
        hi = std::max(hi, mocks[i][b]);
      }
      ok = hi - lo > 1e-12 * std::max(1.0, std::abs(hi));
    }
    if (ok) used.push_back(b);
  }
  EmulatorChi2 r;
  r.bins_used = int(used.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (used.empty()) {
    r.chi2 = r.chi2_sd = r.loo = r.loo_sd = nan;
    return r;
  }
  const SampleSet reference = columns(mocks, used);
  reduced_chi2_mean_sd(leave_one_out_chi2_diagonal(reference), r.loo, r.loo_sd);
  SampleSet finite;
  for (const auto& row : columns(generated, used))
    if (std::all_of(row.begin(), row.end(), [](double v) { return std::isfinite(v); }))
      finite.push_back(row);
  r.generated = int(finite.size());
  if (finite.empty()) {
    r.chi2 = std::numeric_limits<double>::infinity();
    r.chi2_sd = nan;
    return r;
  }
  reduced_chi2_mean_sd(chi2_diagonal(finite, reference), r.chi2, r.chi2_sd);
  return r;
}

}  // namespace ds
