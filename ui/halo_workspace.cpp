#include "ui/halo_workspace.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>
#include <memory>

#include "diffuscope/runtime.h"
#include "ui/emulator/emulator_model.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

namespace {

// Halos per cloud the model was trained on; 1000 when the file does not say.
int training_points(const ds::PointCloudModel& model) {
  const int points = model.training_points();
  return points > 0 ? points : 1000;
}

// The model's feature names when they fit, else the catalogue layout (x y z [vx vy vz
// log10_mass]) and f<i> for anything beyond.
std::vector<std::string> feature_names(const ds::PointCloudModel& model) {
  const int f = model.features();
  std::vector<std::string> names = model.info().transform.feature_names;
  if (int(names.size()) == f) return names;
  static const char* const kLayout[] = {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
  names.clear();
  for (int j = 0; j < f; ++j)
    names.push_back(f == 3 || f == 6 || f == 7 ? kLayout[j] : "f" + std::to_string(j));
  return names;
}

std::shared_ptr<PointSet> to_point_set(const ds::PointCloudModel& model,
                                       const std::vector<float>& cloud, int n) {
  const int f = model.features();
  auto points = std::make_shared<PointSet>();
  points->box_size = model.info().transform.box_size;
  points->positions.reserve(std::size_t(n));
  points->feature_names = feature_names(model);
  points->features.assign(std::size_t(f), std::vector<float>(std::size_t(n)));
  const bool has_mass = f >= 7;
  for (int i = 0; i < n; ++i) {
    const float* p = cloud.data() + std::size_t(i) * std::size_t(f);
    points->positions.push_back({p[0], p[1], p[2]});
    for (int j = 0; j < f; ++j) points->features[std::size_t(j)][std::size_t(i)] = p[j];
    if (has_mass) points->scalars.push_back(p[6]);  // log10 mass
  }
  return points;
}

}  // namespace

HaloWorkspace::HaloWorkspace(JobRunner* runner, QObject* parent)
    : QObject(parent), runner_(runner), runner_alive_(runner) {
  qRegisterMetaType<std::shared_ptr<const HaloSnapshot>>();
  rest_timer_.setSingleShot(true);
  connect(&rest_timer_, &QTimer::timeout, this, &HaloWorkspace::refineAfterRest);
}

void HaloWorkspace::loadModel(const QString& path) {
  const int id = ++load_id_;
  runner_->start(tr("Load halo model"), [this, path, id](const ds::JobContext& ctx) {
    QString file = path;
    std::shared_ptr<const ds::Model> handle;
    std::shared_ptr<const ds::PointCloudModel> loaded;
    QString error;
    try {
      if (file.isEmpty())
        file = extract_embedded_model(QString::fromLatin1(kEmbeddedHaloModelResource));
      ctx.check_cancelled();
      handle = ds::Model::load(file.toStdString(), ds::Device::Cpu, /*ema=*/false);
      loaded = handle->point_model();
      if (!loaded)
        throw ds::FileError(file.toStdString(),
                            "is a " + handle->description().kind +
                                "; the halo view draws point-cloud models (open it in Fields)");
    } catch (const ds::Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    return JobRunner::Publish([this, id, path, file, handle, loaded, error] {
      if (id != load_id_) return;
      if (!loaded) {
        Q_EMIT modelLoadFailed(file, error);
        return;
      }
      handle_ = handle;
      model_ = loaded;
      model_path_ = file;
      model_name_ = QFileInfo(file).completeBaseName();
      if (model_name_.isEmpty() || path.isEmpty()) model_name_ = QStringLiteral("halos1000");
      model_points_ = training_points(*model_);
      const auto& info = model_->info();
      Q_EMIT modelLoaded(tr("%1: %2, %3 parameters, %4 features")
                             .arg(model_name_, QString::fromStdString(info.architecture))
                             .arg(info.parameter_count)
                             .arg(model_->features()));
      setCosmology(omega_m_, sigma_8_);
    });
  });
}

void HaloWorkspace::setCosmology(double omega_m, double sigma_8) {
  omega_m_ = omega_m;
  sigma_8_ = sigma_8;
  if (!model_) return;
  if (running_job_ && running_refined_) running_job_->cancel();
  rest_timer_.start(schedule_.rest_ms);
  if (schedule_.preview_steps <= 0) return;  // refineAfterRest draws it
  pending_ = true;
  pending_refined_ = false;
  if (!running_) startNext();
}

void HaloWorkspace::setSeed(std::uint64_t seed) {
  seed_ = seed;
  setCosmology(omega_m_, sigma_8_);
}

void HaloWorkspace::refineAfterRest() {
  if (!model_) return;
  const auto& s = snapshot_;
  if (s && s->refined && s->omega_m == omega_m_ && s->sigma_8 == sigma_8_ && s->seed == seed_)
    return;
  pending_ = true;
  pending_refined_ = true;
  if (!running_) startNext();
}

void HaloWorkspace::startNext() {
  pending_ = false;
  running_ = true;
  const bool refined = pending_refined_;
  const int steps = refined ? schedule_.refined_steps : schedule_.preview_steps;
  const int n = schedule_.points > 0 ? schedule_.points : model_points_;
  const auto model = model_;
  const QString name = model_name_;
  const double om = omega_m_, s8 = sigma_8_;
  const std::uint64_t seed = seed_;
  const QString title = refined ? tr("Halo emulator, ODE %1").arg(steps)
                                : tr("Halo emulator preview, ODE %1").arg(steps);
  const RefineCompanion companion = refined ? companion_ : RefineCompanion();
  JobRunner::Work work = [this, model, name, om, s8, seed, steps, refined, n,
                          companion](const ds::JobContext& ctx) {
    QElapsedTimer timer;
    timer.start();
    // A refined cloud's ODE on one core, its companion (the statistics' mock band of this
    // cosmology) on the other, instead of both cores on the ODE alone: a 1000-halo GNN step is too
    // small to gain from a second thread.
    std::unique_ptr<Companion> beside;
    if (companion) {
      ds::set_calling_thread_count(1);
      const double box = model->info().transform.box_size;
      const ds::JobContext helper({}, ctx.token());
      beside = std::make_unique<Companion>(
          [companion, om, s8, n, box, helper] { companion(om, s8, n, box, helper); });
    }
    ds::PointSampleSettings settings;
    settings.sampler = ds::PointSamplerKind::Ode;
    settings.steps = steps;
    settings.seed = seed;
    // A refined cloud keeps its path: every particle after every step, for the scrubber.
    std::shared_ptr<PointTrajectory> trajectory;
    ds::PartialResultCallback<ds::PointTrajectoryStep> on_step;
    if (refined) {
      trajectory = std::make_shared<PointTrajectory>();
      trajectory->total_steps = steps;
      settings.trace.resize(std::size_t(n));
      for (int i = 0; i < n; ++i) settings.trace[std::size_t(i)] = i;
      on_step = [&](const ds::PointTrajectoryStep& s) {
        trajectory->frames.push_back(to_point_set(*model, s.traced, n));
        trajectory->steps.push_back(s.step);
      };
    }
    const auto cloud = model->sample({om, s8}, 1, n, settings, on_step, ctx);
    auto snapshot = std::make_shared<HaloSnapshot>();
    snapshot->omega_m = om;
    snapshot->sigma_8 = s8;
    snapshot->seed = seed;
    snapshot->steps = steps;
    snapshot->refined = refined;
    snapshot->model_name = name;
    snapshot->points = to_point_set(*model, cloud, n);
    if (trajectory && !trajectory->frames.empty()) {
      trajectory->frames.back() = snapshot->points;  // the final frame is the catalogue
      snapshot->trajectory = trajectory;
    }
    snapshot->cloud = std::make_shared<const std::vector<float>>(cloud);
    snapshot->n_points = n;
    snapshot->features = model->features();
    snapshot->box_size = model->info().transform.box_size;
    snapshot->compute_ms = double(timer.elapsed());
    std::shared_ptr<const HaloSnapshot> done = snapshot;
    return JobRunner::Publish([this, done] {
      snapshot_ = done;
      Q_EMIT snapshotChanged(done);
    });
  };
  // The preview answers the sliders beside anything; the refined catalogue waits its turn in the
  // exclusive lane (after a refined field and the ensemble).
  Job* job = refined ? runner_->startExclusive(title, JobRunner::Urgency::Halos, std::move(work))
                     : runner_->start(title, std::move(work));
  running_job_ = job;
  running_refined_ = refined;
  connect(job, &QObject::destroyed, this, [this] {
    running_ = false;
    // Jobs are also destroyed with their runner (the window closing): start nothing then.
    if (pending_ && runner_alive_) startNext();
  });
}

}  // namespace dsui
