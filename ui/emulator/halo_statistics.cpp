#include "ui/emulator/halo_statistics.h"

#include <QElapsedTimer>
#include <QStringList>
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/runtime.h"
#include "diffuscope/stats/hmf.h"
#include "diffuscope/stats/knn_cdf.h"
#include "diffuscope/stats/pairwise_velocity.h"
#include "diffuscope/stats/two_point.h"
#include "ui/halo_workspace.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

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

// Statistics of one catalogue on the band's bins.
struct Measured {
  std::vector<std::vector<double>> knn;
  std::vector<double> xi, n_greater, v12;
};

// log10_mass and velocities: empty when the catalogue has none.
// `threads`: of the kNN, pair and velocity loops (the mocks run one per thread, the emulated
// catalogue alone with all of them).
Measured measure(const ds::PointCloud& points, const std::vector<double>& log10_mass,
                 const std::vector<std::array<double, 3>>& velocities, const HaloMockBand& bins,
                 const HaloStatisticsSettings& settings, const ds::JobContext& job,
                 int threads = 1) {
  Measured m;
  const auto queries =
      ds::uniform_queries(std::size_t(settings.queries), points.box_size, settings.query_seed);
  job.check_cancelled();
  ds::PointStatisticsOptions options;
  options.threads = std::max(1, threads);
  m.knn = ds::knn_cdf(ds::knn_distances(points, queries, settings.ks, options), bins.radii);
  job.check_cancelled();
  m.xi = ds::two_point_correlation(points, bins.xi_edges, options).xi;
  if (!log10_mass.empty() && bins.logm_edges.size() > 1)
    m.n_greater =
        ds::cumulative_mass_function(log10_mass, bins.logm_edges, std::pow(points.box_size, 3))
            .n_greater;
  if (!velocities.empty() && bins.v12_edges.size() > 1) {
    job.check_cancelled();
    m.v12 = ds::pairwise_velocity(points, velocities, bins.v12_edges, options).v12;
  }
  return m;
}

// fn(0) .. fn(count - 1) on `threads` threads, the calling one included (it alone calls
// `progress`, after each item it ran); the first exception is rethrown after all have stopped.
void for_each_in_parallel(int count, int threads, const std::function<void(int)>& fn,
                          const std::function<void(int)>& progress) {
  std::atomic<int> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  const auto work = [&](bool caller) {
    for (int i = next++; i < count; i = next++) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = count;  // the others stop at their next item
      }
      if (caller && progress) progress(i);
    }
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < std::min(threads, count); ++t) helpers.emplace_back(work, false);
  work(true);
  for (auto& h : helpers) h.join();
  if (failure) std::rethrow_exception(failure);
}

MockStatistic band_of(ds::SampleSet set) {
  MockStatistic s;
  s.band = ds::ensemble_envelope(set);
  s.set = std::move(set);
  return s;
}

// band_of for a statistic with empty (NaN) bins: the percentiles of each bin over the mocks that
// have a value there, NaN where none has.
MockStatistic band_of_finite(ds::SampleSet set) {
  MockStatistic s;
  const std::size_t bins = set.empty() ? 0 : set.front().size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t b = 0; b < bins; ++b) {
    std::vector<double> column;
    for (const auto& row : set)
      if (std::isfinite(row[b])) column.push_back(row[b]);
    double mean = nan;
    if (!column.empty()) {
      mean = 0.0;
      for (double v : column) mean += v / double(column.size());
    }
    s.band.mean.push_back(mean);
    s.band.median.push_back(column.empty() ? nan : ds::percentile(column, 50.0));
    s.band.lower.push_back(column.empty() ? nan : ds::percentile(column, 16.0));
    s.band.upper.push_back(column.empty() ? nan : ds::percentile(column, 84.0));
  }
  s.set = std::move(set);
  return s;
}

}  // namespace

QString HaloStatisticsSnapshot::cli_v12_command(const QString& catalogue,
                                                const QString& out) const {
  if (!mocks || !has_velocity) return QString();
  QStringList edges;
  for (double e : mocks->v12_edges) edges << QString::number(e, 'g', 17);
  return QStringLiteral("diffuscope-cli stats v12 '%1' --box %2 --edges %3 --out '%4'")
      .arg(catalogue)
      .arg(mocks->box_size, 0, 'g', 17)
      .arg(edges.join(QLatin1Char(',')))
      .arg(out);
}

QString HaloStatisticsSnapshot::cli_knn_command(const QString& catalogue,
                                                const QString& out) const {
  if (!mocks) return QString();
  QStringList ks, radii;
  for (int k : settings.ks) ks << QString::number(k);
  for (double r : mocks->radii) radii << QString::number(r, 'g', 17);
  return QStringLiteral(
             "diffuscope-cli stats knn '%1' --box %2 --k %3 --n-queries %4 --seed %5 --r %6 "
             "--out '%7'")
      .arg(catalogue)
      .arg(mocks->box_size, 0, 'g', 17)
      .arg(ks.join(QLatin1Char(',')))
      .arg(settings.queries)
      .arg(settings.query_seed)
      .arg(radii.join(QLatin1Char(',')))
      .arg(out);
}

std::shared_ptr<HaloMockBand> compute_halo_mock_band(const HaloSnapshot& cloud,
                                                     const HaloStatisticsSettings& settings,
                                                     const ds::JobContext& job) {
  QElapsedTimer timer;
  timer.start();
  if (settings.mocks < 2) throw ds::InvalidArgument("the halo band needs at least 2 mocks");
  auto band = std::make_shared<HaloMockBand>();
  band->omega_m = cloud.omega_m;
  band->sigma_8 = cloud.sigma_8;
  band->box_size = cloud.box_size;
  band->n_points = cloud.n_points;
  band->mocks = settings.mocks;
  // Radii around the mean separation (the k-th neighbour of a Poisson set sits at about
  // (3k / 4 pi n)^(1/3)); xi up to a sixth of the box.
  const double spacing = cloud.box_size / std::cbrt(double(cloud.n_points));
  band->radii = log_spaced(0.08 * spacing, 2.5 * spacing, settings.radii);
  const double xi_max = std::min(cloud.box_size / 6.0, 3.0 * spacing);
  std::vector<double> edges = log_spaced(xi_max / 15.0, xi_max, kXiBins + 1);
  band->xi_edges = edges;
  // v12 over the same separations in fewer bins: it is a mean over pairs, and the smallest bin
  // (0.11-0.15 of the mean spacing) holds about 30 of them in a 1000-halo catalogue.
  band->v12_edges = log_spaced(xi_max / 15.0, xi_max, kV12Bins + 1);

  ds::Cosmology cosmology;
  cosmology.omega_m = cloud.omega_m;
  cosmology.sigma_8 = cloud.sigma_8;
  ds::HaloCatalogueSettings mock;
  mock.n_halos = int(cloud.n_points);
  mock.box_size = cloud.box_size;
  const ds::LognormalHaloModel model(cosmology, mock);
  // The mocks are independent: drawn, then measured, one per core (the job runs in the exclusive
  // lane, which has the cores to itself). Helper threads see the job's cancellation, not its
  // progress callback.
  const int threads = std::max(1, ds::thread_count());
  const ds::JobContext helper_job({}, job.token());
  const int mocks = settings.mocks, steps = 2 * mocks + 1;
  int done = 0;
  std::vector<ds::HaloCatalogue> catalogues(static_cast<std::size_t>(mocks));
  for_each_in_parallel(
      mocks, threads,
      [&](int i) {
        helper_job.check_cancelled();
        catalogues[std::size_t(i)] = model.draw(std::uint64_t(i) + 1, helper_job);
      },
      [&](int i) { job.report(++done, steps, "lognormal mock " + std::to_string(i + 1)); });
  double m_lo = HUGE_VAL, m_hi = -HUGE_VAL;
  for (const auto& c : catalogues)
    for (double m : c.masses) {
      m_lo = std::min(m_lo, std::log10(m));
      m_hi = std::max(m_hi, std::log10(m));
    }
  for (int b = 0; b <= kMassBins; ++b)
    band->logm_edges.push_back(m_lo + (m_hi - m_lo) * double(b) / kMassBins);
  std::vector<Measured> measured(static_cast<std::size_t>(mocks));
  for_each_in_parallel(
      mocks, threads,
      [&](int i) {
        const auto& c = catalogues[std::size_t(i)];
        ds::PointCloud points;
        points.box_size = cloud.box_size;
        points.positions = c.positions;
        std::vector<double> logm;
        for (double m : c.masses) logm.push_back(std::log10(m));
        measured[std::size_t(i)] = measure(points, logm, c.velocities, *band, settings, helper_job);
      },
      [&](int i) { job.report(++done, steps, "statistics of mock " + std::to_string(i + 1)); });
  job.check_cancelled();
  std::vector<ds::SampleSet> knn(settings.ks.size());
  ds::SampleSet xi, n_greater, v12;
  for (const Measured& m : measured) {
    for (std::size_t k = 0; k < knn.size(); ++k) knn[k].push_back(m.knn[k]);
    xi.push_back(m.xi);
    n_greater.push_back(m.n_greater);
    v12.push_back(m.v12);
  }
  for (auto& set : knn) band->knn.push_back(band_of(std::move(set)));
  band->xi = band_of(std::move(xi));
  band->n_greater = band_of(std::move(n_greater));
  band->v12 = band_of_finite(std::move(v12));
  band->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
  return band;
}

std::shared_ptr<HaloStatisticsSnapshot> compute_halo_statistics(
    std::shared_ptr<const HaloSnapshot> cloud, const HaloStatisticsSettings& settings,
    std::shared_ptr<const HaloMockBand> band, const ds::JobContext& job) {
  QElapsedTimer timer;
  timer.start();
  if (!cloud || !cloud->cloud || cloud->n_points < 10 || cloud->features < 3)
    throw ds::InvalidArgument("halo statistics need a catalogue of at least 10 halos");
  if (!band || !band->matches(cloud->omega_m, cloud->sigma_8, cloud->n_points, cloud->box_size,
                              settings.mocks))
    band = compute_halo_mock_band(*cloud, settings, job);
  auto out = std::make_shared<HaloStatisticsSnapshot>();
  out->cloud = cloud;
  out->settings = settings;
  out->mocks = band;
  ds::PointCloud points;
  points.box_size = cloud->box_size;
  std::vector<double> logm;
  std::vector<std::array<double, 3>> velocities;
  const int f = cloud->features;
  // The catalogue layout x y z [vx vy vz [log10_mass]] (HaloWorkspace, `stats` on a .npy).
  out->has_mass = f >= 7;
  out->has_velocity = f >= 6;
  for (std::int64_t i = 0; i < cloud->n_points; ++i) {
    const float* p = cloud->cloud->data() + std::size_t(i) * std::size_t(f);
    // The ODE may leave a halo a hair outside the box: wrap it periodically.
    std::array<double, 3> x{};
    for (int d = 0; d < 3; ++d) {
      double v = std::fmod(double(p[d]), cloud->box_size);
      if (v < 0) v += cloud->box_size;
      x[std::size_t(d)] = v >= cloud->box_size ? 0.0 : v;
    }
    points.positions.push_back(x);
    if (out->has_mass) logm.push_back(p[6]);
    if (out->has_velocity) velocities.push_back({double(p[3]), double(p[4]), double(p[5])});
  }
  const Measured m =
      measure(points, logm, velocities, *band, settings, job, std::max(1, ds::thread_count()));
  out->knn = m.knn;
  out->xi = m.xi;
  out->n_greater = m.n_greater;
  out->v12 = m.v12;
  out->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
  return out;
}

HaloStatistics::HaloStatistics(JobRunner* runner, QObject* parent)
    : QObject(parent), runner_(runner) {
  qRegisterMetaType<std::shared_ptr<const HaloStatisticsSnapshot>>();
}

void HaloStatistics::request(std::shared_ptr<const HaloSnapshot> cloud) {
  cancel();
  const int id = ++request_id_;
  const auto band = band_;
  const HaloStatisticsSettings settings = settings_;
  job_ = runner_->startExclusive(tr("Halo statistics"), JobRunner::Urgency::Statistics,
                                 [this, id, cloud, band, settings](const ds::JobContext& ctx) {
                                   std::shared_ptr<const HaloStatisticsSnapshot> s =
                                       compute_halo_statistics(cloud, settings, band, ctx);
                                   return JobRunner::Publish([this, id, s] {
                                     if (id != request_id_) return;
                                     band_ = s->mocks;
                                     auto numbered = std::make_shared<HaloStatisticsSnapshot>(*s);
                                     numbered->generation = ++generation_;
                                     snapshot_ = numbered;
                                     Q_EMIT snapshotChanged(snapshot_);
                                   });
                                 });
}

bool HaloStatistics::isComputing() const {
  return !job_.isNull();
}

void HaloStatistics::cancel() {
  ++request_id_;
  if (job_) job_->cancel();
  job_ = nullptr;
}

}  // namespace dsui
