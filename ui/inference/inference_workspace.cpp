#include "ui/inference/inference_workspace.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QStandardPaths>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/observation.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/pk_baseline.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/mcmc/hmc.h"
#include "diffuscope/infer/mcmc/nuts.h"
#include "diffuscope/infer/mcmc/surrogate_hmc.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/random.h"
#include "diffuscope/runtime.h"
#include "diffuscope/stats/knn_cdf.h"
#include "ui/emulator/emulator_model.h"
#include "ui/halo_workspace.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kPostIntervalMs = 50;  // at most 20 chain snapshots per second reach the UI

std::string origin_of(const Observation& o) {
  return o.origin.toStdString();
}

ds::Chains empty_chains(std::size_t chains) {
  ds::Chains c;
  c.names = {"Omega_m", "sigma_8"};
  c.labels = {"\\Omega_m", "\\sigma_8"};
  c.ranges = {{ds::kDefaultPrior.omega_m.lo, ds::kDefaultPrior.omega_m.hi},
              {ds::kDefaultPrior.sigma_8.lo, ds::kDefaultPrior.sigma_8.hi}};
  c.chains = chains;
  return c;
}

// The kept draws (after warm-up) of a live snapshot as ds::Chains (the final result replaces
// them with the sampler's own, which carry every statistic).
void rebuild_kept(ChainsSnapshot& s) {
  const std::size_t chains = s.chains.size();
  std::size_t draws = std::numeric_limits<std::size_t>::max();
  for (const auto& c : s.chains)
    draws = std::min(draws, c.positions.size() > s.warmup ? c.positions.size() - s.warmup : 0);
  if (chains == 0) draws = 0;
  ds::Chains k = empty_chains(chains);
  k.draws = draws;
  k.sampler = s.settings.sampler == SamplerChoice::Nuts           ? "nuts"
              : s.settings.sampler == SamplerChoice::SurrogateHmc ? "surrogate_hmc"
                                                                  : "hmc";
  k.seed = s.settings.seed;
  for (std::size_t c = 0; c < chains; ++c)
    for (std::size_t d = 0; d < draws; ++d) {
      const Theta& t = s.chains[c].positions[s.warmup + d];
      k.values.push_back(t[0]);
      k.values.push_back(t[1]);
      k.lp.push_back(s.chains[c].lp[s.warmup + d]);
      k.acceptance_rate.push_back(s.chains[c].acceptance[s.warmup + d]);
      k.step_size.push_back(s.chains[c].step_size[s.warmup + d]);
      k.diverging.push_back(s.chains[c].diverging[s.warmup + d]);
    }
  s.kept = std::move(k);
  s.summary.reset();
  if (chains >= 1 && draws >= 4) s.summary = ds::summarize(s.kept);
}

// What an observation job hands back: the observation, unless a later request superseded it.
JobRunner::Publish publish_observation(QPointer<InferenceWorkspace> self,
                                       std::shared_ptr<Observation> o, int generation);

}  // namespace

QString likelihood_label(const LikelihoodSettings& s) {
  switch (s.kind) {
    case ds::LikelihoodKind::Vlb:
      return QStringLiteral("VLB (T_MAX %1, K %2, %3 noise)%4")
          .arg(s.t_max)
          .arg(s.draws)
          .arg(s.common_noise ? QStringLiteral("common") : QStringLiteral("fresh"))
          .arg(s.noise_sigma > 0 ? QStringLiteral(", σ_obs %1").arg(s.noise_sigma) : QString());
    case ds::LikelihoodKind::ExactGrf:
      return QStringLiteral("Exact GRF");
    case ds::LikelihoodKind::PkBaseline:
      return QStringLiteral("P(k) baseline");
    case ds::LikelihoodKind::PointElbo:
      return QStringLiteral("halo ELBO (S %1, K %2)").arg(s.elbo_steps).arg(s.draws);
  }
  return QString();
}

QString sampler_label(SamplerChoice s) {
  switch (s) {
    case SamplerChoice::PublishedHmc:
      return QStringLiteral("HMC (published: ε 5e-4, L 5, M⁻¹ diag(1, 5))");
    case SamplerChoice::AdaptedHmc:
      return QStringLiteral("HMC, adapted step size and metric");
    case SamplerChoice::Nuts:
      return QStringLiteral("NUTS");
    case SamplerChoice::SurrogateHmc:
      return QStringLiteral("Surrogate HMC (delayed acceptance: exact, one value per step)");
  }
  return QString();
}

// Pause / step / speed of a running chain job, shared between the UI and the worker.
struct InferenceWorkspace::ChainGate {
  std::mutex mutex;
  std::condition_variable changed;
  bool paused = false;
  int steps = 0;  // transitions allowed while paused
  int delay_ms = 0;

  // Called by the worker after every iteration: waits out the delay and any pause.
  // on_pause runs once when a pause begins (the worker publishes its state then).
  void wait(const ds::JobContext& job, const std::function<void()>& on_pause) {
    using clock = std::chrono::steady_clock;
    constexpr auto kPoll = std::chrono::milliseconds(50);  // cancellation is not notified
    std::unique_lock<std::mutex> lock(mutex);
    const auto until = clock::now() + std::chrono::milliseconds(delay_ms);
    while (!job.cancelled() && !paused && clock::now() < until)
      changed.wait_until(lock, std::min(until, clock::now() + kPoll));
    bool told = false;
    while (paused && steps == 0 && !job.cancelled()) {
      if (!told) {
        lock.unlock();
        on_pause();
        lock.lock();
        told = true;
      }
      changed.wait_for(lock, kPoll);
    }
    if (steps > 0) --steps;
    job.check_cancelled();
  }
};

InferenceWorkspace::InferenceWorkspace(JobRunner* runner, QObject* parent)
    : QObject(parent), runner_(runner) {
  qRegisterMetaType<std::shared_ptr<const Observation>>();
}

InferenceWorkspace::~InferenceWorkspace() {
  cancelAll();
}

void InferenceWorkspace::cancelAll() {
  cancelMap();
  resetChains();
  if (observation_job_) observation_job_->cancel();
}

std::shared_ptr<Observation> InferenceWorkspace::make_observation(
    ds::Field2D field, std::optional<Theta> truth, std::optional<ds::MockFieldKind> kind,
    QString origin) {
  auto o = std::make_shared<Observation>();
  ds::require_finite_field(field, origin.toStdString());
  auto image = std::make_shared<FieldImage>();
  image->n = field.n;
  image->is_contrast = field.kind == ds::FieldKind::Contrast;
  image->values.assign(field.values.begin(), field.values.end());
  o->image = image;
  o->spectrum = ds::cut_at_nyquist(ds::power_spectrum_2d(field), field.n, field.box_size);
  o->field = std::move(field);
  o->truth = truth;
  o->mock_kind = kind;
  o->origin = std::move(origin);
  return o;
}

std::shared_ptr<Observation> InferenceWorkspace::make_cloud_observation(
    std::vector<float> cloud, std::int64_t n_points, int features, double box_size,
    std::optional<Theta> truth, QString origin) {
  if (features < 3 || n_points < 1 || cloud.size() != std::size_t(n_points) * std::size_t(features))
    throw ds::InvalidArgument(origin.toStdString() + ": not a catalogue of " +
                              std::to_string(n_points) + " points x " + std::to_string(features) +
                              " features (" + std::to_string(cloud.size()) + " values)");
  if (!(box_size > 0)) throw ds::InvalidArgument(origin.toStdString() + ": box size not positive");
  // The thumbnail: halo counts projected along z on a 64 x 64 grid.
  constexpr int kGrid = 64;
  ds::Field2D counts;
  counts.n = kGrid;
  counts.box_size = box_size;
  counts.kind = ds::FieldKind::Density;
  counts.values.assign(std::size_t(kGrid * kGrid), 0.05);  // a floor for log10 of empty cells
  for (std::int64_t i = 0; i < n_points; ++i) {
    const float* p = cloud.data() + std::size_t(i) * std::size_t(features);
    for (int d = 0; d < features; ++d)
      if (!std::isfinite(p[d]))
        throw ds::InvalidArgument(origin.toStdString() + ": halo " + std::to_string(i) +
                                  " has a non-finite feature " + std::to_string(d));
    const auto cell = [&](float x) {
      const double u = std::fmod(double(x) / box_size, 1.0);
      return std::clamp(int((u < 0 ? u + 1 : u) * kGrid), 0, kGrid - 1);
    };
    counts.values[std::size_t(cell(p[1]) * kGrid + cell(p[0]))] += 1.0;
  }
  auto o = make_observation(std::move(counts), truth, std::nullopt, std::move(origin));
  o->spectrum = ds::PowerSpectrum();
  // k-NN CDFs (stats/knn_cdf.h), radii around the mean interparticle distance.
  ds::PointCloud points;
  points.box_size = box_size;
  points.positions.reserve(std::size_t(n_points));
  for (std::int64_t i = 0; i < n_points; ++i) {
    const float* p = cloud.data() + std::size_t(i) * std::size_t(features);
    points.positions.push_back({std::fmod(double(p[0]) + box_size, box_size),
                                std::fmod(double(p[1]) + box_size, box_size),
                                std::fmod(double(p[2]) + box_size, box_size)});
  }
  const std::vector<int> ks{1, 2, 4};
  if (n_points >= 4) {
    const double density = double(n_points) / (box_size * box_size * box_size);
    const double spacing = std::cbrt(1.0 / density);
    for (int r = 0; r < 40; ++r) o->knn_radii.push_back(spacing * (0.05 + 1.05 * double(r) / 39.0));
    const auto distances = ds::knn_distances(points, ds::uniform_queries(20000, box_size, 1), ks);
    o->knn_cdfs = ds::knn_cdf(distances, o->knn_radii);
    for (int k : ks) o->knn_poisson.push_back(ds::poisson_knn_cdf(k, o->knn_radii, density));
  }
  o->cloud = std::make_shared<const std::vector<float>>(std::move(cloud));
  o->n_points = n_points;
  o->features = features;
  o->cloud_box = box_size;
  return o;
}

void InferenceWorkspace::drawMock(const MockRequest& r) {
  if (!ds::kDefaultPrior.contains(r.truth[0], r.truth[1])) {
    Q_EMIT errorOccurred(tr("Draw mock"),
                         tr("The truth (Omega_m = %1, sigma_8 = %2) is outside the prior box "
                            "[0.1, 0.5] x [0.6, 1.0]")
                             .arg(r.truth[0])
                             .arg(r.truth[1]));
    return;
  }
  if (observation_job_) observation_job_->cancel();
  const int generation = ++observation_generation_;
  QPointer<InferenceWorkspace> self(this);
  observation_job_ =
      runner_->start(tr("Mock observation"), [r, self, generation](const ds::JobContext& job) {
        if (r.halos) {
          ds::HaloCatalogueSettings hs;
          hs.n_halos = r.n_halos;
          ds::SetDesign design;
          design.kind = ds::SetKind::Single;
          design.omega_m = r.truth[0];
          design.sigma_8 = r.truth[1];
          design.seed = r.seed;
          const ds::Dataset set = ds::generate_halo_set(hs, ds::HaloFeatures::All, design, job);
          const QString origin =
              QStringLiteral("lognormal halo mock, %1 halos, Ωm = %2, σ8 = %3, seed %4")
                  .arg(r.n_halos)
                  .arg(r.truth[0], 0, 'f', 3)
                  .arg(r.truth[1], 0, 'f', 3)
                  .arg(r.seed);
          std::vector<float> cloud(set.sample(0), set.sample(0) + set.sample_size());
          auto o = make_cloud_observation(std::move(cloud), std::int64_t(set.shape[1]),
                                          int(set.shape[2]), set.box_size, r.truth, origin);
          return publish_observation(self, o, generation);
        }
        ds::Cosmology cosmology;
        cosmology.omega_m = r.truth[0];
        cosmology.sigma_8 = r.truth[1];
        ds::MockFieldSettings settings;
        settings.kind = r.kind;
        settings.n = r.n;
        settings.box_size = r.box_size;
        ds::Field2D field = ds::make_field_generator(settings, cosmology)->draw(r.seed, job);
        job.check_cancelled();
        const QString origin = QStringLiteral("%1 mock %2x%2, Ωm = %3, σ8 = %4, seed %5")
                                   .arg(QString::fromLatin1(ds::kFieldKinds.label(r.kind)))
                                   .arg(r.n)
                                   .arg(r.truth[0], 0, 'f', 3)
                                   .arg(r.truth[1], 0, 'f', 3)
                                   .arg(r.seed);
        auto o = make_observation(std::move(field), r.truth, r.kind, origin);
        return publish_observation(self, o, generation);
      });
}

void InferenceWorkspace::setObservation(std::shared_ptr<const Observation> observation) {
  cancelMap();
  resetChains();
  ++observation_generation_;
  observation_ = std::move(observation);
  maps_.clear();
  Q_EMIT mapChanged();
  Q_EMIT observationChanged();
}

void InferenceWorkspace::openObservationFile(const QString& path, long index) {
  if (observation_job_) observation_job_->cancel();
  const int generation = ++observation_generation_;
  QPointer<InferenceWorkspace> self(this);
  observation_job_ = runner_->start(
      tr("Open observation"), [path, index, self, generation](const ds::JobContext& job) {
        const std::string file = path.toStdString();
        ds::ObservationRequest request;
        request.index = index;
        ds::ObservedSample sample;
        try {
          sample = ds::read_observation(file, request, job);
        } catch (const ds::FileError&) {
          throw;
        } catch (const ds::Cancelled&) {
          throw;
        } catch (const std::exception& e) {
          throw ds::FileError(file, e.what());
        }
        std::optional<Theta> truth;
        if (const auto t = sample.truth()) truth = Theta{(*t)[0], (*t)[1]};
        const QString origin = QStringLiteral("%1 [%2]").arg(QFileInfo(path).fileName()).arg(index);
        std::shared_ptr<Observation> o;
        try {
          if (sample.kind == ds::SampleKind::Points) {
            // A plain .npy records no box: a Quijote-sized one, as `data convert` assumes.
            o = make_cloud_observation(
                sample.float_values(), std::int64_t(sample.n_points()), sample.n_features(),
                sample.box_size > 0 ? sample.box_size : ds::kQuijoteBoxSize, truth, origin);
          } else {
            ds::Field2D field = sample.field();
            if (field.box_size <= 0) field.box_size = ds::kDefaultFieldBoxSize;
            std::optional<ds::MockFieldKind> kind;
            try {
              kind = ds::kFieldKinds.from_string(sample.generator);
            } catch (const ds::InvalidArgument&) {
            }
            o = make_observation(std::move(field), truth, kind, origin);
          }
        } catch (const ds::InvalidArgument& e) {
          throw ds::FileError(file, e.what());
        }
        return publish_observation(self, o, generation);
      });
}

namespace {

// A likelihood whose evaluations share the cores with the other all-cores jobs running at the
// time (a map and chains together, or either beside the emulator's lane): before each call the
// calling thread's OpenMP team is sized to JobRunner::coresPerAllCoresJob(), so the teams
// together never outnumber the cores (libgomp throttles every team when they do).
class CoreSharingDensity : public ds::LogDensity {
 public:
  CoreSharingDensity(std::shared_ptr<const ds::LogDensity> inner, const JobRunner* runner)
      : inner_(std::move(inner)), runner_(runner) {}
  std::size_t dimension() const override { return inner_->dimension(); }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    ds::set_calling_thread_count(runner_->coresPerAllCoresJob());
    inner_->evaluate(thetas, batch, values, gradients);
  }
  std::vector<std::string> names() const override { return inner_->names(); }
  std::vector<std::string> labels() const override { return inner_->labels(); }
  std::vector<std::pair<double, double>> ranges() const override { return inner_->ranges(); }
  const ds::StepTerms* step_terms() const override { return inner_->step_terms(); }

 private:
  std::shared_ptr<const ds::LogDensity> inner_;
  const JobRunner* runner_;  // outlives its jobs (it waits for them when destroyed)
};

JobRunner::Publish publish_observation(QPointer<InferenceWorkspace> self,
                                       std::shared_ptr<Observation> o, int generation) {
  return [self, o, generation] {
    if (self && self->observationGeneration() == generation) self->setObservation(o);
  };
}
}  // namespace

void InferenceWorkspace::setLikelihood(const LikelihoodSettings& settings) {
  if (settings == likelihood_) return;
  likelihood_ = settings;
  cancelMap();
  resetChains();
  Q_EMIT likelihoodChanged();
  Q_EMIT mapChanged();
}

std::shared_ptr<const ds::Model> InferenceWorkspace::loadModel(const QString& path,
                                                               ds::Device device,
                                                               const ds::JobContext& job) {
  const std::string key = std::string(ds::kDevices.name(device)) + ":" + path.toStdString();
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = models_.find(key);
    if (it != models_.end()) return it->second;
  }
  job.report(0, 0, "loading " + QFileInfo(path).fileName().toStdString());
  ds::require_device(device);  // a clear message when this build or machine has no CUDA
  auto model = ds::Model::load(path.toStdString(), device);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  models_[key] = model;
  return model;
}

std::shared_ptr<const ds::LogDensity> InferenceWorkspace::buildLikelihood(
    const LikelihoodSettings& s, const Observation& o, const ds::JobContext& job) {
  const std::string origin = origin_of(o);
  if (o.isCloud() != (s.kind == ds::LikelihoodKind::PointElbo))
    throw ds::InvalidArgument(
        origin + (o.isCloud() ? ": a halo catalogue is scored by a halo model's ELBO, not by " +
                                    std::string(ds::kLikelihoodKinds.label(s.kind))
                              : ": the halo ELBO scores halo catalogues; this is a 2D field"));
  switch (s.kind) {
    case ds::LikelihoodKind::ExactGrf:
      if (o.mock_kind && *o.mock_kind != ds::MockFieldKind::Grf)
        throw ds::InvalidArgument(origin +
                                  ": the exact GRF likelihood applies to Gaussian-random-field "
                                  "mocks only; this is a " +
                                  ds::kFieldKinds.label(*o.mock_kind));
      return ds::exact_grf_likelihood(o.field, origin);
    case ds::LikelihoodKind::Vlb: {
      const QString path = s.model_path.isEmpty() ? extract_embedded_model() : s.model_path;
      const auto model = loadModel(path, s.device, job);
      ds::LikelihoodSettings v;
      v.t_max = s.t_max;
      v.draws = s.draws;
      v.noise = s.common_noise ? ds::VlbNoiseMode::Common : ds::VlbNoiseMode::Fresh;
      v.seed = s.seed;
      v.added_noise = s.noise_sigma;
      ds::ObservationData data;
      data.field = &o.field;
      data.origin = origin;
      return model->likelihood(data, v);
    }
    case ds::LikelihoodKind::PkBaseline: {
      const ds::MockFieldKind kind = o.mock_kind.value_or(o.field.kind == ds::FieldKind::Contrast
                                                              ? ds::MockFieldKind::Grf
                                                              : ds::MockFieldKind::Zeldovich);
      const std::string key = std::string(ds::kFieldKinds.name(kind)) + "/" +
                              std::to_string(o.field.n) + "/" + std::to_string(o.field.box_size);
      std::shared_ptr<const ds::PkBaseline> baseline;
      {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        const auto it = baselines_.find(key);
        if (it != baselines_.end()) baseline = it->second;
      }
      if (!baseline) {
        // Fitted once per kind, grid and box on this machine: kept as the CLI's --pk-save JSON
        // under the cache directory (seeded, so a refit would give the same baseline).
        const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                            QStringLiteral("/pk-baselines");
        const QString file = dir + QStringLiteral("/%1-%2-%3.json")
                                       .arg(QString::fromLatin1(ds::kFieldKinds.name(kind)))
                                       .arg(o.field.n)
                                       .arg(o.field.box_size, 0, 'g', 6);
        if (QFileInfo::exists(file)) {
          try {
            baseline = std::make_shared<const ds::PkBaseline>(
                ds::read_pk_baseline_json(file.toStdString()));
          } catch (const std::exception&) {
            baseline = nullptr;  // unreadable (another version): fitted again below
          }
        }
        if (!baseline) {
          ds::PkMockPlan plan;
          plan.field.kind = kind;
          plan.field.n = o.field.n;
          plan.field.box_size = o.field.box_size;
          baseline = std::make_shared<const ds::PkBaseline>(
              ds::build_pk_baseline(plan, ds::PkBaselineSettings{}, job));
          if (QDir().mkpath(dir)) {
            try {
              ds::write_pk_baseline_json(file.toStdString(), *baseline);
            } catch (const std::exception&) {
              // A read-only cache only costs the next session a refit.
            }
          }
        }
        std::lock_guard<std::mutex> lock(cache_mutex_);
        baselines_[key] = baseline;
      }
      return ds::pk_baseline_likelihood(baseline, o.field, origin);
    }
    case ds::LikelihoodKind::PointElbo: {
      const QString path =
          s.halo_model_path.isEmpty()
              ? extract_embedded_model(QString::fromLatin1(kEmbeddedHaloModelResource))
              : s.halo_model_path;
      const auto model = loadModel(path, s.device, job);
      ds::LikelihoodSettings e;
      e.elbo_steps = s.elbo_steps;
      e.draws = s.draws;
      e.seed = s.seed;
      ds::ObservationData data;
      data.cloud = o.cloud;
      data.n_points = o.n_points;
      data.features = o.features;
      data.origin = origin;
      return model->likelihood(data, e);
    }
  }
  throw ds::InvalidArgument("unknown likelihood");
}

// --- maps --------------------------------------------------------------------------------------

std::shared_ptr<const MapLayer> InferenceWorkspace::currentMap() const {
  const auto it = maps_.find(likelihood_.kind);
  return it == maps_.end() ? nullptr : it->second;
}

void InferenceWorkspace::cancelMap() {
  if (map_job_) map_job_->cancel();
  map_job_ = nullptr;
  ++map_generation_;
}

void InferenceWorkspace::startMap(const ds::GridScanSettings& settings) {
  if (!observation_) {
    Q_EMIT errorOccurred(tr("Likelihood map"), tr("No observation: draw a mock or open a field"));
    return;
  }
  try {
    ds::validate_grid_settings(settings);
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Likelihood map"), QString::fromStdString(e.what()));
    return;
  }
  cancelMap();
  const int generation = map_generation_;
  const LikelihoodSettings ls = likelihood_;
  auto layer = std::make_shared<MapLayer>();
  layer->kind = ls.kind;
  layer->label = likelihood_label(ls);
  layer->scan.settings = settings;
  layer->scan.omega_m = ds::grid_axis_omega_m(settings);
  layer->scan.sigma_8 = ds::grid_axis_sigma_8(settings);
  const std::size_t n = layer->scan.omega_m.size();
  layer->scan.log_like.assign(n * n, kNaN);
  layer->scan.delta_chi2.assign(n * n, kNaN);
  maps_[ls.kind] = layer;
  Q_EMIT mapChanged();

  const auto observation = observation_;
  QPointer<InferenceWorkspace> self(this);
  auto timer = std::make_shared<QElapsedTimer>();
  timer->start();
  map_job_ = runner_->start(
      tr("Likelihood map: %1").arg(layer->label),
      [self, this, observation, ls, settings, generation, timer](const ds::JobContext& job) {
        const auto likelihood =
            std::make_shared<CoreSharingDensity>(buildLikelihood(ls, *observation, job), runner_);
        job.check_cancelled();
        ds::GridScan scan = ds::scan_likelihood_grid(
            *likelihood, settings, job,
            [self, generation, kind = ls.kind, timer](const ds::GridScanUpdate& u) {
              JobRunner::post(self, [self, generation, kind, u, timer] {
                if (!self || generation != self->map_generation_) return;
                const auto it = self->maps_.find(kind);
                if (it == self->maps_.end()) return;
                auto next = std::make_shared<MapLayer>(*it->second);
                // The points and terms in, -2 Delta ln L against the best value known so far.
                ds::apply_grid_update(next->scan, u);
                next->known = u.known;
                next->seconds = double(timer->elapsed()) * 1e-3;
                it->second = next;
                Q_EMIT self->mapChanged();
              });
            });
        if (ls.kind == ds::LikelihoodKind::Vlb) scan.provenance.t_max = ls.t_max;
        scan.provenance.field = observation->origin.toStdString();
        scan.provenance.added_noise = ls.noise_sigma;
        return JobRunner::Publish(
            [self, generation, kind = ls.kind, scan, label = likelihood_label(ls)] {
              if (!self || generation != self->map_generation_) return;
              auto done = std::make_shared<MapLayer>();
              done->kind = kind;
              done->label = label;
              done->scan = scan;
              done->known = scan.log_like.size();
              done->complete = true;
              done->seconds = scan.seconds;
              self->maps_[kind] = done;
              self->map_job_ = nullptr;  // finished: the buttons read isMapRunning()
              Q_EMIT self->mapChanged();
              Q_EMIT self->statusMessage(tr("%1 map %2 x %2 complete in %3 s")
                                             .arg(label)
                                             .arg(scan.n())
                                             .arg(scan.seconds, 0, 'f', 2));
            });
      },
      JobRunner::Cores::All);
}

void InferenceWorkspace::openGridFile(const QString& path) {
  try {
    ds::GridScan scan = ds::read_grid_scan(path.toStdString());
    auto layer = std::make_shared<MapLayer>();
    layer->kind = scan.provenance.t_max > 0 ? ds::LikelihoodKind::Vlb : likelihood_.kind;
    layer->label = QStringLiteral("%1 (%2)")
                       .arg(scan.provenance.t_max > 0
                                ? QStringLiteral("VLB, T_MAX %1").arg(scan.provenance.t_max)
                                : QStringLiteral("map"))
                       .arg(QFileInfo(path).fileName());
    // A partial file (what a crash left of a long scan) shows the points it has.
    if (!scan.complete)
      layer->label +=
          tr(", partial: %1 of %2 points").arg(scan.known_points).arg(scan.log_like.size());
    layer->known = scan.complete ? scan.log_like.size() : scan.known_points;
    layer->complete = true;
    layer->from_file = true;
    layer->seconds = scan.seconds;
    layer->scan = std::move(scan);
    if (layer->kind == likelihood_.kind) cancelMap();
    maps_[layer->kind] = layer;
    if (layer->kind != likelihood_.kind) {
      LikelihoodSettings s = likelihood_;
      s.kind = layer->kind;
      likelihood_ = s;  // show the opened map as the heatmap
      Q_EMIT likelihoodChanged();
    }
    Q_EMIT mapChanged();
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Open likelihood map"), QString::fromStdString(e.what()));
  }
}

void InferenceWorkspace::saveGridFile(const QString& path, ds::LikelihoodKind kind) {
  const auto it = maps_.find(kind);
  if (it == maps_.end() || !it->second->complete) {
    Q_EMIT errorOccurred(tr("Save likelihood map"),
                         tr("No complete map of this likelihood to save yet"));
    return;
  }
  try {
    ds::write_grid_scan(path.toStdString(), it->second->scan);
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Save likelihood map"), QString::fromStdString(e.what()));
  }
}

// --- chains ------------------------------------------------------------------------------------

void InferenceWorkspace::addStart(const Theta& start) {
  if (!ds::kDefaultPrior.contains(start[0], start[1])) {
    Q_EMIT errorOccurred(tr("Chain start"),
                         tr("The start (Omega_m = %1, sigma_8 = %2) is outside the prior box "
                            "[0.1, 0.5] x [0.6, 1.0]")
                             .arg(start[0])
                             .arg(start[1]));
    return;
  }
  starts_.push_back(start);
  Q_EMIT startsChanged();
}

void InferenceWorkspace::clearStarts() {
  starts_.clear();
  Q_EMIT startsChanged();
}

void InferenceWorkspace::startAtMaximum() {
  const auto map = currentMap();
  double best = -std::numeric_limits<double>::infinity();
  Theta at{0.3, 0.8};
  bool found = false;
  if (map)
    for (std::size_t i = 0; i < map->scan.log_like.size(); ++i)
      if (std::isfinite(map->scan.log_like[i]) && map->scan.log_like[i] > best) {
        best = map->scan.log_like[i];
        at = {map->scan.omega_m[i % map->scan.n()], map->scan.sigma_8[i / map->scan.n()]};
        found = true;
      }
  if (!found) {
    Q_EMIT errorOccurred(tr("Start at the maximum"), tr("No map with values yet"));
    return;
  }
  addStart(at);
}

void InferenceWorkspace::randomStarts(int count, std::uint64_t seed) {
  ds::Rng rng(seed, 7);
  const ds::Prior& p = ds::kDefaultPrior;
  for (int i = 0; i < count; ++i) {
    // The central half of the box, as the samplers' own default starts.
    const double u = rng.uniform(), v = rng.uniform();
    const double om = p.omega_m.lo + (0.25 + 0.5 * u) * p.omega_m.width();
    const double s8 = p.sigma_8.lo + (0.25 + 0.5 * v) * p.sigma_8.width();
    starts_.push_back({om, s8});
  }
  Q_EMIT startsChanged();
}

void InferenceWorkspace::resetChains() {
  if (chain_job_) chain_job_->cancel();
  if (gate_) {
    std::lock_guard<std::mutex> lock(gate_->mutex);
    gate_->changed.notify_all();
  }
  chain_job_ = nullptr;
  gate_.reset();
  ++chain_generation_;
  if (chains_) {
    chains_.reset();
    Q_EMIT chainsChanged();
  }
}

void InferenceWorkspace::setPaused(bool paused) {
  if (!gate_) return;
  {
    std::lock_guard<std::mutex> lock(gate_->mutex);
    gate_->paused = paused;
    gate_->steps = 0;
  }
  gate_->changed.notify_all();
  // A pause is shown once the worker has finished the transition in flight and stopped (it
  // publishes a paused snapshot then): until then draws may still arrive. A resume is at once.
  if (chains_ && !paused && chains_->paused) {
    auto s = std::make_shared<ChainsSnapshot>(*chains_);
    s->paused = false;
    chains_ = s;
    Q_EMIT chainsChanged();
  }
}

void InferenceWorkspace::step() {
  if (!gate_) return;
  {
    std::lock_guard<std::mutex> lock(gate_->mutex);
    gate_->paused = true;
    gate_->steps += 1;
  }
  gate_->changed.notify_all();
}

void InferenceWorkspace::setDelay(int delay_ms) {
  if (!gate_) return;
  {
    std::lock_guard<std::mutex> lock(gate_->mutex);
    gate_->delay_ms = std::max(0, delay_ms);
  }
  gate_->changed.notify_all();
}

void InferenceWorkspace::publishChains(std::shared_ptr<ChainsSnapshot> s) {
  chains_ = std::move(s);
  Q_EMIT chainsChanged();
}

void InferenceWorkspace::startChains(const ChainSettings& settings) {
  if (!observation_) {
    Q_EMIT errorOccurred(tr("Chains"), tr("No observation: draw a mock or open a field"));
    return;
  }
  if (starts_.empty()) {
    Q_EMIT errorOccurred(tr("Chains"),
                         tr("No start points: click on the map, or use Start at maximum / "
                            "Random starts"));
    return;
  }
  const bool paused_start = gate_ && gate_->paused;  // Step before Start: begin paused
  resetChains();
  const int generation = chain_generation_;
  gate_ = std::make_shared<ChainGate>();
  gate_->delay_ms = settings.delay_ms;
  gate_->paused = paused_start;
  const auto gate = gate_;
  const auto observation = observation_;
  const LikelihoodSettings ls = likelihood_;
  const std::vector<Theta> starts = starts_;
  QPointer<InferenceWorkspace> self(this);

  auto initial = std::make_shared<ChainsSnapshot>();
  initial->settings = settings;
  initial->running = true;
  initial->source = tr("%1 on %2").arg(sampler_label(settings.sampler), likelihood_label(ls));
  initial->chains.resize(starts.size());
  initial->trajectory.resize(starts.size());
  initial->warmup = settings.warmup;
  initial->total = settings.warmup + settings.draws;
  publishChains(initial);

  chain_job_ = runner_->start(
      tr("Chains: %1").arg(initial->source),
      [self, this, gate, observation, ls, starts, settings, generation,
       initial](const ds::JobContext& job) {
        const auto likelihood =
            std::make_shared<CoreSharingDensity>(buildLikelihood(ls, *observation, job), runner_);
        auto posterior = std::make_shared<ds::BoxPrior>(likelihood, ds::kDefaultPrior);

        // Worker-side state, copied to the UI at most every kPostIntervalMs.
        auto state = std::make_shared<ChainsSnapshot>(*initial);
        QElapsedTimer since_post, clock;
        since_post.start();
        clock.start();
        auto post = [&](bool force) {
          if (!force && since_post.elapsed() < kPostIntervalMs) return;
          since_post.restart();
          state->seconds = double(clock.elapsed()) * 1e-3;
          auto copy = std::make_shared<ChainsSnapshot>(*state);
          rebuild_kept(*copy);
          JobRunner::post(self, [self, generation, copy] {
            if (self && generation == self->chain_generation_) self->publishChains(copy);
          });
        };
        auto observed = std::make_shared<ds::ObservedLogDensity>(
            posterior,
            [&](const std::vector<double>& thetas, std::size_t batch, const std::vector<double>&) {
              // Attribute each evaluated point to the nearest chain's trajectory end.
              const std::size_t chains = state->chains.size();
              for (std::size_t b = 0; b < batch; ++b) {
                const Theta p{thetas[2 * b], thetas[2 * b + 1]};
                std::size_t best = 0;
                double best_d = std::numeric_limits<double>::infinity();
                for (std::size_t c = 0; c < chains; ++c) {
                  const auto& tr = state->trajectory[c];
                  const Theta from = !tr.empty() ? tr.back()
                                     : !state->chains[c].positions.empty()
                                         ? state->chains[c].positions.back()
                                         : starts[c];
                  const double d = std::hypot(p[0] - from[0], (p[1] - from[1]));
                  if (d < best_d) best_d = d, best = c;
                }
                state->trajectory[best].push_back(p);
              }
              // Slow densities (a VLB) show every leapfrog step as it is computed.
              post(false);
            });
        auto on_iteration = [&](const ds::McmcIteration& it) {
          for (std::size_t c = 0; c < it.chains.size(); ++c) {
            const ds::Transition& t = it.chains[c];
            ChainTrace& trace = state->chains[c];
            const Theta before = trace.positions.empty() ? starts[c] : trace.positions.back();
            const Theta now{t.position[0], t.position[1]};
            trace.positions.push_back(now);
            trace.lp.push_back(t.lp);
            trace.acceptance.push_back(t.acceptance_rate);
            trace.step_size.push_back(t.step_size);
            trace.diverging.push_back(t.diverging ? 1 : 0);
            trace.moved.push_back(now != before ? 1 : 0);
            state->trajectory[c].clear();
          }
          state->iterations = it.iteration + 1;
          post(gate->delay_ms > 0);
          gate->wait(job, [&] {
            state->paused = true;
            post(true);
            state->paused = false;
          });
        };
        ds::McmcRun run;
        run.chains = starts.size();
        run.warmup = settings.warmup;
        run.draws = settings.draws;
        run.seed = settings.seed;
        for (const Theta& s : starts) run.starts.push_back({s[0], s[1]});
        ds::McmcResult result;
        if (settings.sampler == SamplerChoice::SurrogateHmc) {
          if (ls.kind == ds::LikelihoodKind::Vlb && !ls.common_noise)
            throw ds::InvalidArgument(
                "Surrogate HMC needs a deterministic likelihood: fresh VLB noise makes log L a "
                "different function at every evaluation; choose common noise");
          ds::SurrogateHmcSettings d;
          d.run = run;
          if (settings.step_size > 0.0) d.step_size = settings.step_size;
          result = ds::sample_surrogate_hmc(*observed, d, job, on_iteration);
        } else if (settings.sampler == SamplerChoice::Nuts) {
          ds::NutsSettings n;
          n.run = run;
          n.step_size = settings.step_size;  // 0: Stan's heuristic
          n.inverse_mass = settings.inverse_mass;
          result = ds::sample_nuts(*observed, n, job, on_iteration);
        } else {
          ds::HmcSettings h;
          h.run = run;
          h.step_size = settings.step_size;
          h.leapfrog_steps = settings.leapfrog_steps;
          h.inverse_mass = settings.inverse_mass;
          h.adapt = settings.sampler == SamplerChoice::AdaptedHmc;
          result = ds::sample_hmc(*observed, h, job, on_iteration);
        }
        state->seconds = result.seconds;
        auto done = std::make_shared<ChainsSnapshot>(*state);
        done->running = false;
        done->paused = false;
        done->finished = true;
        for (auto& t : done->trajectory) t.clear();
        done->kept = std::move(result.chains);
        done->kept.labels = {"\\Omega_m", "\\sigma_8"};
        if (done->kept.draws >= 4) done->summary = ds::summarize(done->kept);
        return JobRunner::Publish([self, generation, done] {
          if (!self || generation != self->chain_generation_) return;
          self->chain_job_ = nullptr;  // finished: the buttons read isChainRunning()
          self->publishChains(done);
          Q_EMIT self->statusMessage(tr("%1: %2 chains x %3 draws in %4 s")
                                         .arg(done->source)
                                         .arg(done->kept.chains)
                                         .arg(done->kept.draws)
                                         .arg(done->seconds, 0, 'f', 1));
        });
      },
      JobRunner::Cores::All);
}

void InferenceWorkspace::openChainFile(const QString& path) {
  try {
    ds::Chains chains = ds::read_chains(path.toStdString());
    if (chains.parameters() < 2)
      throw ds::FileError(path.toStdString(), "holds fewer than two parameters");
    resetChains();
    auto s = std::make_shared<ChainsSnapshot>();
    s->from_file = true;
    s->finished = true;
    s->source = QFileInfo(path).fileName();
    s->warmup = 0;
    s->total = chains.draws;
    s->iterations = chains.draws;
    s->chains.resize(chains.chains);
    s->trajectory.resize(chains.chains);
    for (std::size_t c = 0; c < chains.chains; ++c) {
      ChainTrace& t = s->chains[c];
      for (std::size_t d = 0; d < chains.draws; ++d) {
        t.positions.push_back({chains.value(c, d, 0), chains.value(c, d, 1)});
        const std::size_t i = c * chains.draws + d;
        t.lp.push_back(chains.lp.empty() ? kNaN : chains.lp[i]);
        t.acceptance.push_back(chains.acceptance_rate.empty() ? kNaN : chains.acceptance_rate[i]);
        t.step_size.push_back(chains.step_size.empty() ? kNaN : chains.step_size[i]);
        t.diverging.push_back(chains.diverging.empty() ? 0 : chains.diverging[i]);
        t.moved.push_back(1);
      }
    }
    if (chains.draws >= 4) s->summary = ds::summarize(chains);
    s->kept = std::move(chains);
    publishChains(s);
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Open chains"), QString::fromStdString(e.what()));
  }
}

void InferenceWorkspace::exportChains(const QString& path, const QString& format) {
  if (!chains_ || chains_->kept.draws == 0) {
    Q_EMIT errorOccurred(tr("Export chains"), tr("No kept draws to export yet"));
    return;
  }
  try {
    const std::string p = path.toStdString();
    if (format == QLatin1String("getdist"))
      ds::write_getdist(p, chains_->kept);
    else if (format == QLatin1String("netcdf"))
      ds::write_arviz_netcdf(p, chains_->kept);
    else if (format == QLatin1String("csv"))
      ds::write_chains_csv(p, chains_->kept);
    else
      throw ds::InvalidArgument("unknown chain format '" + format.toStdString() + "'");
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Export chains"), QString::fromStdString(e.what()));
  }
}

}  // namespace dsui
