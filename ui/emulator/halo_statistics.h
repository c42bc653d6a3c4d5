// The statistics of an emulated halo catalogue against a band of lognormal mocks at the same
// cosmology, halo count and box: kNN-CDFs (Banerjee & Abel 2021), the two-point correlation
// function, when the model draws masses the cumulative mass function and, when it draws
// velocities, the mean pairwise radial velocity v12(r). Computed on a worker for every refined
// cloud; the mocks' band is kept per cosmology and reused for a new seed.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/stats/ensemble.h"

namespace dsui {

class HaloWorkspace;
class Job;
class JobRunner;
struct HaloSnapshot;

struct HaloStatisticsSettings {
  std::vector<int> ks{1, 5, 9};
  int queries = 20000;           // uniform random query points of the kNN-CDFs
  std::uint64_t query_seed = 1;  // their seed (ds::uniform_queries)
  int mocks = 8;                 // lognormal catalogues in the band
  int radii = 40;                // log-spaced radii of the CDFs
};

// One statistic of every mock: set[mock][bin], and its band.
struct MockStatistic {
  ds::SampleSet set;
  ds::Envelope band;
};

// The mocks' side, which depends on the cosmology, halo count and box but not on the cloud.
struct HaloMockBand {
  double omega_m = 0.0, sigma_8 = 0.0, box_size = 0.0;
  std::int64_t n_points = 0;
  int mocks = 0;
  std::vector<double> radii;       // Mpc/h, of the kNN-CDFs
  std::vector<MockStatistic> knn;  // per k
  std::vector<double> xi_edges;    // Mpc/h
  MockStatistic xi;
  std::vector<double> logm_edges;  // log10 (M / (Msun/h)), lower edges + the last upper
  MockStatistic n_greater;         // (Mpc/h)^-3
  std::vector<double> v12_edges;   // Mpc/h
  // km/s; a mock's bin without pairs is NaN, and the band of a bin is taken over the mocks with
  // pairs there (NaN when none has).
  MockStatistic v12;
  double compute_ms = 0.0;
  bool matches(double om, double s8, std::int64_t n, double box, int m) const {
    return omega_m == om && sigma_8 == s8 && n_points == n && box_size == box && mocks == m;
  }
};

struct HaloStatisticsSnapshot {
  std::shared_ptr<const HaloSnapshot> cloud;  // what was measured
  HaloStatisticsSettings settings;
  std::shared_ptr<const HaloMockBand> mocks;
  std::vector<std::vector<double>> knn;  // [k][radius], the emulated catalogue's CDFs
  std::vector<double> xi;                // per xi bin
  bool has_mass = false;
  std::vector<double> n_greater;  // per mass bin, when has_mass
  bool has_velocity = false;      // features vx vy vz in columns 3-5
  std::vector<double> v12;  // km/s per v12 bin, when has_velocity; NaN for a bin without pairs
  double compute_ms = 0.0;
  int generation = 0;
  // `diffuscope-cli stats knn` of the catalogue written to `catalogue` (.npy [N, F]) with the same
  // queries and radii: it prints the CDFs shown.
  QString cli_knn_command(const QString& catalogue, const QString& out) const;
  // `diffuscope-cli stats v12` of that catalogue on the same edges: it prints the v12 shown.
  QString cli_v12_command(const QString& catalogue, const QString& out) const;
};

// The mocks' band (lognormal catalogues, seeds 1 .. settings.mocks, the halo model's count and
// box) of the cloud's cosmology, drawn and measured on `threads` threads (0: ds::thread_count()).
std::shared_ptr<HaloMockBand> compute_halo_mock_band(const HaloSnapshot& cloud,
                                                     const HaloStatisticsSettings& settings,
                                                     const ds::JobContext& job, int threads = 0);
// The cloud's statistics; `band` is reused when it matches, else computed.
std::shared_ptr<HaloStatisticsSnapshot> compute_halo_statistics(
    std::shared_ptr<const HaloSnapshot> cloud, const HaloStatisticsSettings& settings,
    std::shared_ptr<const HaloMockBand> band, const ds::JobContext& job);

class HaloStatistics : public QObject {
  Q_OBJECT
 public:
  explicit HaloStatistics(JobRunner* runner, QObject* parent = nullptr);
  // Measures the cloud (latest wins: a running measurement of an older cloud is cancelled).
  void request(std::shared_ptr<const HaloSnapshot> cloud);
  void cancel();
  bool isComputing() const;
  // Draws and measures the mocks' band of a cosmology on the calling thread alone, unless the
  // band kept already matches, and keeps it for the request of that cosmology's cloud: the halo
  // workspace runs it on a worker beside each refined cloud, whose ODE gains nothing from a second
  // core (a 1000-halo cloud of 50 steps: 2.3 s on one thread, 2.5 s on two, start-up included).
  // Safe from any thread; throws ds::Cancelled when the job is cancelled.
  void prepareBand(double omega_m, double sigma_8, std::int64_t n_points, double box_size,
                   const ds::JobContext& job);
  // Measures every refined cloud of `halos` (a preview is not worth the cores), with the band of
  // its cosmology drawn beside its ODE (HaloWorkspace::setRefineCompanion, prepareBand).
  void followRefinedClouds(HaloWorkspace* halos);
  // The band kept (the last prepared or measured one), or null.
  std::shared_ptr<const HaloMockBand> band() const;
  std::shared_ptr<const HaloStatisticsSnapshot> snapshot() const { return snapshot_; }
  const HaloStatisticsSettings& settings() const { return settings_; }

 Q_SIGNALS:
  void snapshotChanged(std::shared_ptr<const dsui::HaloStatisticsSnapshot> snapshot);

 private:
  JobRunner* runner_;
  HaloStatisticsSettings settings_;
  QPointer<Job> job_;
  int request_id_ = 0, generation_ = 0;
  mutable std::mutex band_mutex_;  // band_ is written by prepareBand's workers too
  std::shared_ptr<const HaloMockBand> band_;
  std::shared_ptr<const HaloStatisticsSnapshot> snapshot_;
};

}  // namespace dsui

Q_DECLARE_METATYPE(std::shared_ptr<const dsui::HaloStatisticsSnapshot>)
