// View-model of the Inference workspace (issue 13): what the likelihood scores (the
// observation), which likelihood, the maps over the (Omega_m, sigma_8) plane as they fill in,
// and MCMC chains as they are drawn. Every computation runs on the JobRunner's workers; results
// arrive here as immutable snapshots through queued calls, and the views only draw them.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <array>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/infer/chains/chains.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"
#include "diffuscope/infer/field_likelihood.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "diffuscope/model/model.h"
#include "diffuscope/registries.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "ui/field_view/field_image.h"
#include "ui/jobs/job_runner.h"

namespace ds {
class LogDensity;
struct PkBaseline;
}  // namespace ds

namespace dsui {

using Theta = std::array<double, 2>;  // (Omega_m, sigma_8)

// What the likelihood scores: one field in physical units, or one halo catalogue, with its truth
// when known.
struct Observation {
  ds::Field2D field;  // the field; for a catalogue its x-y projected counts (the thumbnail)
  std::optional<Theta> truth;
  std::optional<ds::MockFieldKind> mock_kind;  // drawn by a built-in simulator of this kind
  QString origin;                              // one line, e.g. "GRF mock 64², seed 3"
  std::shared_ptr<const FieldImage> image;     // thumbnail
  ds::PowerSpectrum spectrum;                  // its P(k), cut at Nyquist (fields only)
  // A halo catalogue: [n_points, features] in physical units (x y z [vx vy vz log10_mass]).
  std::shared_ptr<const std::vector<float>> cloud;
  std::int64_t n_points = 0;
  int features = 0;
  double cloud_box = 0.0;  // Mpc/h
  // Its k-NN CDFs (k = 1, 2, 4; 20 000 uniform queries) on knn_radii (Mpc/h), [k][r], and the
  // Poisson expectation at the same number density: what the thumbnail's neighbour plot shows.
  std::vector<double> knn_radii;
  std::vector<std::vector<double>> knn_cdfs, knn_poisson;
  bool isCloud() const { return cloud != nullptr; }
};

// How to draw a new mock as the observation: a field, or a lognormal halo catalogue (the mocks
// the default halo model was trained on: 1000 halos, 7 features, 1000 Mpc/h).
struct MockRequest {
  ds::MockFieldKind kind = ds::MockFieldKind::Grf;
  bool halos = false;
  int n_halos = 1000;
  Theta truth{0.3, 0.8};
  int n = 64;
  double box_size = ds::kDefaultFieldBoxSize;
  std::uint64_t seed = 1;
};

struct LikelihoodSettings {
  ds::LikelihoodKind kind = ds::LikelihoodKind::ExactGrf;
  QString model_path;  // VLB: empty = the embedded default model
  int t_max = 20;
  int draws = 1;             // K noise draws per evaluation
  bool common_noise = true;  // a smooth deterministic map (false: fresh noise, as published)
  std::uint64_t seed = 0;    // VLB noise and observation noise
  double noise_sigma = 0.0;  // Gaussian noise on log10 of the field (0.01, 0.02, 0.05 in the paper)
  ds::Device device = ds::Device::Cpu;  // where the VLB's network runs
  QString halo_model_path;              // ELBO: empty = the embedded default halo model
  int elbo_steps = 20;                  // S of the ELBO
  bool operator==(const LikelihoodSettings& o) const {
    return kind == o.kind && model_path == o.model_path && device == o.device &&
           halo_model_path == o.halo_model_path && elbo_steps == o.elbo_steps && t_max == o.t_max &&
           draws == o.draws && common_noise == o.common_noise && seed == o.seed &&
           noise_sigma == o.noise_sigma;
  }
};
QString likelihood_label(const LikelihoodSettings& s);

// One likelihood map as it fills in: log_like is NaN where no value is known yet.
struct MapLayer {
  ds::LikelihoodKind kind = ds::LikelihoodKind::ExactGrf;
  QString label;      // legend
  ds::GridScan scan;  // axes, settings; log_like / delta_chi2 partial until complete
  std::size_t known = 0;
  bool complete = false;
  bool from_file = false;
  double seconds = 0.0;  // since Start (complete: the scan's time)
};

// SurrogateHmc: delayed-acceptance HMC on a fitted surrogate (infer/mcmc/surrogate_hmc.h): exact
// draws for one likelihood value per iteration and chain; needs a deterministic likelihood.
enum class SamplerChoice { PublishedHmc, AdaptedHmc, Nuts, SurrogateHmc };
QString sampler_label(SamplerChoice s);

struct ChainSettings {
  SamplerChoice sampler = SamplerChoice::PublishedHmc;
  std::size_t warmup = 100, draws = 200;
  double step_size = 5e-4;  // HMC (published 5e-4); NUTS: 0 = Stan's heuristic; surrogate: sds
  int leapfrog_steps = 5;   // HMC
  std::vector<double> inverse_mass{1.0, 5.0};  // diag
  std::uint64_t seed = 1;
  int delay_ms = 0;  // pause after each iteration (teaching speed); 0 = full speed
};

// Chains as drawn so far (warm-up included): one entry per chain, per iteration.
struct ChainTrace {
  std::vector<Theta> positions;
  std::vector<double> lp, acceptance, step_size;
  std::vector<std::uint8_t> diverging, moved;  // moved: the proposal was accepted
};
struct ChainsSnapshot {
  ChainSettings settings;
  std::size_t warmup = 0, total = 0, iterations = 0;
  std::vector<ChainTrace> chains;
  // The leapfrog points evaluated for the transition being computed, per chain (its trajectory).
  std::vector<std::vector<Theta>> trajectory;
  bool running = false, paused = false, finished = false;
  bool from_file = false;
  QString source;  // "NUTS on Exact GRF" or a file name
  ds::Chains
      kept;  // draws after warm-up so far, [chain, draw, param] (diagnostics, corner, export)
  std::optional<ds::ChainsSummary> summary;  // of `kept` (>= 4 draws per chain)
  double seconds = 0.0;
};

class InferenceWorkspace : public QObject {
  Q_OBJECT
 public:
  explicit InferenceWorkspace(JobRunner* runner, QObject* parent = nullptr);
  ~InferenceWorkspace() override;

  // --- the observation (replacing it cancels maps and chains and clears them) ---
  void drawMock(const MockRequest& request);
  void setObservation(std::shared_ptr<const Observation> observation);
  // .npy ([N, N] or a stack), HDF5 dataset, CAMELS map stack; index of the stack.
  void openObservationFile(const QString& path, long index = 0);
  std::shared_ptr<const Observation> observation() const { return observation_; }
  // Increases with every observation request; a job's result applies only to the latest.
  int observationGeneration() const { return observation_generation_; }
  // Builds the observation's thumbnail and P(k) (on the calling thread; workers use it).
  static std::shared_ptr<Observation> make_observation(ds::Field2D field,
                                                       std::optional<Theta> truth,
                                                       std::optional<ds::MockFieldKind> kind,
                                                       QString origin);
  // A halo catalogue [n_points, features] (physical units) in a box of side box_size.
  static std::shared_ptr<Observation> make_cloud_observation(std::vector<float> cloud,
                                                             std::int64_t n_points, int features,
                                                             double box_size,
                                                             std::optional<Theta> truth,
                                                             QString origin);

  // --- the likelihood: a change cancels running work ---
  void setLikelihood(const LikelihoodSettings& settings);
  const LikelihoodSettings& likelihood() const { return likelihood_; }

  // --- maps ---
  void startMap(const ds::GridScanSettings& settings);
  void cancelMap();
  bool isMapRunning() const { return bool(map_job_); }
  // The layers, one per likelihood kind (the current kind's is the heatmap).
  const std::map<ds::LikelihoodKind, std::shared_ptr<const MapLayer>>& maps() const {
    return maps_;
  }
  std::shared_ptr<const MapLayer> currentMap() const;
  void openGridFile(const QString& path);
  void saveGridFile(const QString& path, ds::LikelihoodKind kind);

  // --- chains ---
  void addStart(const Theta& start);  // throws nothing; outside the prior: error signal
  void clearStarts();
  void startAtMaximum();  // the current map's maximum
  void randomStarts(int count, std::uint64_t seed);
  const std::vector<Theta>& starts() const { return starts_; }
  void startChains(const ChainSettings& settings);
  void setPaused(bool paused);
  void step();                  // one transition, then pause
  void setDelay(int delay_ms);  // speed control while running
  void resetChains();           // cancel and clear
  bool isChainRunning() const { return bool(chain_job_); }
  std::shared_ptr<const ChainsSnapshot> chains() const { return chains_; }
  void openChainFile(const QString& path);
  // format: "getdist" (path is the root), "netcdf", "csv".
  void exportChains(const QString& path, const QString& format);

 Q_SIGNALS:
  void observationChanged();
  void mapChanged();     // a layer gained values (or appeared / was removed)
  void chainsChanged();  // new iteration, trajectory point, pause state
  void startsChanged();
  void likelihoodChanged();  // the settings changed (the view's controls follow)
  void errorOccurred(const QString& title, const QString& message);
  void statusMessage(const QString& message);

 private:
  struct ChainGate;
  void cancelAll();
  void publishChains(std::shared_ptr<ChainsSnapshot> s);
  // Likelihood (no prior) for the current observation and settings; built on a worker.
  std::shared_ptr<const ds::LogDensity> buildLikelihood(const LikelihoodSettings& s,
                                                        const Observation& o,
                                                        const ds::JobContext& job);
  // A model file loaded once per device and shared by jobs (read-only network use).
  std::shared_ptr<const ds::Model> loadModel(const QString& path, ds::Device device,
                                             const ds::JobContext& job);

  JobRunner* runner_;
  std::shared_ptr<const Observation> observation_;
  LikelihoodSettings likelihood_;
  std::map<ds::LikelihoodKind, std::shared_ptr<const MapLayer>> maps_;
  std::vector<Theta> starts_;
  std::shared_ptr<const ChainsSnapshot> chains_;
  QPointer<Job> map_job_, chain_job_, observation_job_;
  int map_generation_ = 0, chain_generation_ = 0, observation_generation_ = 0;
  std::shared_ptr<ChainGate> gate_;
  // Loaded once, shared by jobs (read-only network use).
  std::mutex cache_mutex_;
  std::map<std::string, std::shared_ptr<const ds::Model>> models_;          // by device and path
  std::map<std::string, std::shared_ptr<const ds::PkBaseline>> baselines_;  // by kind/n/box
};

}  // namespace dsui

Q_DECLARE_METATYPE(std::shared_ptr<const dsui::Observation>)
