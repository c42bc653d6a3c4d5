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
#include "diffuscope/stats/halo_statistics.h"
#include "ui/halo_workspace.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

namespace {

// The bins of the band's statistics (the mocks' and the emulated catalogue's).
ds::HaloStatisticBins bins_of(const HaloMockBand& band, const HaloStatisticsSettings& settings) {
  ds::HaloStatisticBins bins;
  bins.ks = settings.ks;
  bins.queries = settings.queries;
  bins.query_seed = settings.query_seed;
  bins.radii = band.radii;
  bins.xi_edges = band.xi_edges;
  bins.logm_edges = band.logm_edges;
  bins.v12_edges = band.v12_edges;
  return bins;
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

// band_of for a statistic with empty (NaN) bins.
MockStatistic band_of_finite(ds::SampleSet set) {
  MockStatistic s;
  s.band = ds::finite_envelope(set);
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
                                                     const ds::JobContext& job, int threads) {
  QElapsedTimer timer;
  timer.start();
  if (settings.mocks < 2) throw ds::InvalidArgument("the halo band needs at least 2 mocks");
  auto band = std::make_shared<HaloMockBand>();
  band->omega_m = cloud.omega_m;
  band->sigma_8 = cloud.sigma_8;
  band->box_size = cloud.box_size;
  band->n_points = cloud.n_points;
  band->mocks = settings.mocks;
  ds::HaloStatisticBins bins =
      ds::halo_statistic_bins(cloud.n_points, cloud.box_size, settings.radii);
  band->radii = bins.radii;
  band->xi_edges = bins.xi_edges;
  band->v12_edges = bins.v12_edges;

  ds::Cosmology cosmology;
  cosmology.omega_m = cloud.omega_m;
  cosmology.sigma_8 = cloud.sigma_8;
  ds::HaloCatalogueSettings mock;
  mock.n_halos = int(cloud.n_points);
  mock.box_size = cloud.box_size;
  const ds::LognormalHaloModel model(cosmology, mock);
  // The mocks are independent: drawn, then measured, one per thread (the job runs in the
  // exclusive lane, which has the cores to itself, or beside a one-core halo cloud on one thread).
  // Helper threads see the job's cancellation, not its progress callback.
  if (threads <= 0) threads = std::max(1, ds::thread_count());
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
  std::vector<std::vector<double>> log10_masses;
  for (const auto& c : catalogues) {
    log10_masses.emplace_back();
    for (double m : c.masses) log10_masses.back().push_back(std::log10(m));
  }
  ds::set_mass_edges(bins, log10_masses);
  band->logm_edges = bins.logm_edges;
  bins = bins_of(*band, settings);
  std::vector<ds::HaloStatistics> measured(static_cast<std::size_t>(mocks));
  for_each_in_parallel(
      mocks, threads,
      [&](int i) {
        const auto& c = catalogues[std::size_t(i)];
        ds::HaloCatalogueColumns columns;
        columns.points.box_size = cloud.box_size;
        columns.points.positions = c.positions;
        columns.log10_mass = log10_masses[std::size_t(i)];
        columns.velocities = c.velocities;
        measured[std::size_t(i)] = ds::measure_halo_statistics(columns, bins, 1, helper_job);
      },
      [&](int i) { job.report(++done, steps, "statistics of mock " + std::to_string(i + 1)); });
  job.check_cancelled();
  std::vector<ds::SampleSet> knn(settings.ks.size());
  ds::SampleSet xi, n_greater, v12;
  for (const ds::HaloStatistics& m : measured) {
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
  // The catalogue layout x y z [vx vy vz [log10_mass]] (HaloWorkspace, `stats` on a .npy).
  const int f = cloud->features;
  out->has_mass = f >= 7;
  out->has_velocity = f >= 6;
  const ds::HaloCatalogueColumns columns =
      ds::halo_catalogue_columns(cloud->cloud->data(), cloud->n_points, f, cloud->box_size);
  const ds::HaloStatistics m = ds::measure_halo_statistics(columns, bins_of(*band, settings),
                                                           std::max(1, ds::thread_count()), job);
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

void HaloStatistics::prepareBand(double omega_m, double sigma_8, std::int64_t n_points,
                                 double box_size, const ds::JobContext& job) {
  if (const auto kept = band();
      kept && kept->matches(omega_m, sigma_8, n_points, box_size, settings_.mocks))
    return;
  HaloSnapshot cosmology;
  cosmology.omega_m = omega_m;
  cosmology.sigma_8 = sigma_8;
  cosmology.n_points = n_points;
  cosmology.box_size = box_size;
  std::shared_ptr<const HaloMockBand> made = compute_halo_mock_band(cosmology, settings_, job, 1);
  const std::lock_guard<std::mutex> lock(band_mutex_);
  band_ = std::move(made);
}

void HaloStatistics::followRefinedClouds(HaloWorkspace* halos) {
  halos->setRefineCompanion([this](double omega_m, double sigma_8, std::int64_t n_points,
                                   double box_size, const ds::JobContext& job) {
    prepareBand(omega_m, sigma_8, n_points, box_size, job);
  });
  connect(halos, &HaloWorkspace::snapshotChanged, this,
          [this](const std::shared_ptr<const HaloSnapshot>& s) {
            if (s->refined) request(s);
          });
}

std::shared_ptr<const HaloMockBand> HaloStatistics::band() const {
  const std::lock_guard<std::mutex> lock(band_mutex_);
  return band_;
}

void HaloStatistics::request(std::shared_ptr<const HaloSnapshot> cloud) {
  cancel();
  const int id = ++request_id_;
  const auto band = this->band();
  const HaloStatisticsSettings settings = settings_;
  job_ = runner_->startExclusive(tr("Halo statistics"), JobRunner::Urgency::Statistics,
                                 [this, id, cloud, band, settings](const ds::JobContext& ctx) {
                                   std::shared_ptr<const HaloStatisticsSnapshot> s =
                                       compute_halo_statistics(cloud, settings, band, ctx);
                                   return JobRunner::Publish([this, id, s] {
                                     if (id != request_id_) return;
                                     {
                                       const std::lock_guard<std::mutex> lock(band_mutex_);
                                       band_ = s->mocks;
                                     }
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
