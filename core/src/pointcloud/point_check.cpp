#include "diffuscope/pointcloud/point_check.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "diffuscope/error.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/halo_statistics.h"
#include "diffuscope/stats/knn_cdf.h"
#include "diffuscope/stats/two_point.h"

namespace ds {

namespace {

// Radii of the kNN-CDFs (Mpc/h): for 1000 halos in (1 Gpc/h)^3 the mean spacing is 100 Mpc/h and
// the 9th-neighbour distance of a random query ~200 Mpc/h.
std::vector<double> knn_radii() {
  std::vector<double> r;
  for (int i = 0; i < 50; ++i) r.push_back(5.0 + 5.0 * i);
  return r;
}

std::vector<double> tpcf_edges(double box) {
  std::vector<double> edges;
  for (int i = 0; i < 25; ++i) edges.push_back(0.5 + (150.0 - 0.5) * i / 24.0);
  while (!edges.empty() && edges.back() > box / 2) edges.pop_back();
  return edges;
}

struct CloudStatistics {
  std::vector<double> knn;     // concatenated CDFs of every k on knn_radii()
  std::vector<double> median;  // [ks] radius where the CDF crosses 1/2
  std::vector<double> xi;      // on tpcf_edges
  double xi_mean = 0.0;        // mean xi of the bins inside 10-50 Mpc/h
};

CloudStatistics measure(const float* cloud, std::size_t n, std::size_t f, double box,
                        const PointCheckSettings& settings, std::uint64_t query_seed) {
  PointCloud points;
  points.box_size = box;
  points.positions.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    points.positions.push_back(
        {double(cloud[i * f]), double(cloud[i * f + 1]), double(cloud[i * f + 2])});
  CloudStatistics s;
  const auto radii = knn_radii();
  const auto distances = knn_distances(
      points, uniform_queries(std::size_t(settings.queries), box, query_seed), settings.ks);
  const auto cdfs = knn_cdf(distances, radii);
  for (std::size_t i = 0; i < cdfs.size(); ++i) {
    s.knn.insert(s.knn.end(), cdfs[i].begin(), cdfs[i].end());
    std::vector<double> d(distances.queries);
    for (std::size_t q = 0; q < distances.queries; ++q) d[q] = distances.at(q, i);
    s.median.push_back(percentile(d, 50.0));
  }
  const auto edges = tpcf_edges(box);
  const auto xi = two_point_correlation(points, edges);
  s.xi = xi.xi;
  int inside = 0;
  for (std::size_t b = 0; b < xi.xi.size(); ++b) {
    const double mid = 0.5 * (xi.r_lo[b] + xi.r_hi[b]);
    if (mid >= 10.0 && mid <= 50.0) {
      s.xi_mean += xi.xi[b];
      ++inside;
    }
  }
  if (inside > 0) s.xi_mean /= inside;
  return s;
}

void chi2_pair(const SampleSet& generated, const SampleSet& mocks, double& chi2_generated,
               double& chi2_loo) {
  const EmulatorChi2 c = emulator_chi2(generated, mocks);
  chi2_generated = c.chi2;
  chi2_loo = c.loo;
}

}  // namespace

std::vector<PointCheckRow> check_point_emulator(const PointCloudModel& model,
                                                const Dataset& reference,
                                                const PointCheckSettings& settings,
                                                const JobContext& job) {
  if (reference.kind != SampleKind::Points || reference.shape.size() != 3)
    throw InvalidArgument(
        "point emulator check: the reference set must hold point clouds [M, N, F]");
  const std::size_t n = reference.shape[1], f = reference.shape[2];
  const std::size_t fm = std::size_t(model.features());
  if (f < 3) throw InvalidArgument("point emulator check: the reference clouds have no positions");
  const std::size_t p = model.info().parameter_names.size();
  if (reference.param_count() < p)
    throw InvalidArgument("point emulator check: the reference set has " +
                          std::to_string(reference.param_count()) + " parameters, the model " +
                          std::to_string(p));
  if (settings.samples < 2) throw InvalidArgument("point emulator check: need at least 2 samples");
  const double box = reference.box_size > 0 ? reference.box_size : model.info().transform.box_size;
  const auto groups = group_by_parameters(reference, p);
  int total = 0;
  for (const auto& [theta, members] : groups) total += members.size() >= 3 ? 1 : 0;
  if (total == 0)
    throw InvalidArgument(
        "point emulator check: no cosmology of the reference set has 3 or more clouds (make one "
        "with `mock halos --set 1p --per-cosmo 10`)");
  std::vector<PointCheckRow> rows;
  int done = 0;
  for (const auto& [theta, members] : groups) {
    if (members.size() < 3) continue;
    job.check_cancelled();
    job.report(done, total, "cosmology " + std::to_string(done + 1) + "/" + std::to_string(total));
    PointCheckRow row;
    row.theta = theta;
    row.mocks = int(members.size());
    // The same query points for every cloud of a cosmology: the comparison sees the clouds, not
    // the queries.
    const std::uint64_t query_seed = settings.seed * 7919ULL + std::uint64_t(done) + 1;
    SampleSet mock_knn, mock_xi, gen_knn, gen_xi;
    std::vector<CloudStatistics> mock_stats, gen_stats;
    for (auto i : members) {
      mock_stats.push_back(measure(reference.sample(i), n, f, box, settings, query_seed));
      mock_knn.push_back(mock_stats.back().knn);
      mock_xi.push_back(mock_stats.back().xi);
    }
    PointSampleSettings sampler = settings.sampler;
    sampler.seed = settings.seed + std::uint64_t(done) * 1000003ULL;
    const auto clouds = model.sample(theta, settings.samples, int(n), sampler, {}, job);
    for (int s = 0; s < settings.samples; ++s) {
      const float* c = clouds.data() + std::size_t(s) * n * fm;
      if (!std::all_of(c, c + n * fm, [](float v) { return std::isfinite(v); })) continue;
      gen_stats.push_back(measure(c, n, fm, box, settings, query_seed));
      gen_knn.push_back(gen_stats.back().knn);
      gen_xi.push_back(gen_stats.back().xi);
    }
    row.generated = int(gen_stats.size());
    const auto mean_of = [](const std::vector<CloudStatistics>& set, auto get) {
      double sum = 0.0;
      for (const auto& s : set) sum += get(s);
      return set.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / double(set.size());
    };
    for (std::size_t k = 0; k < settings.ks.size(); ++k) {
      row.knn_median_mock.push_back(
          mean_of(mock_stats, [k](const CloudStatistics& s) { return s.median[k]; }));
      row.knn_median_generated.push_back(
          mean_of(gen_stats, [k](const CloudStatistics& s) { return s.median[k]; }));
    }
    row.xi_mock = mean_of(mock_stats, [](const CloudStatistics& s) { return s.xi_mean; });
    row.xi_generated = mean_of(gen_stats, [](const CloudStatistics& s) { return s.xi_mean; });
    chi2_pair(gen_knn, mock_knn, row.knn_chi2_generated, row.knn_chi2_loo);
    chi2_pair(gen_xi, mock_xi, row.xi_chi2_generated, row.xi_chi2_loo);
    rows.push_back(std::move(row));
    ++done;
  }
  job.report(total, total, "done");
  return rows;
}

}  // namespace ds
