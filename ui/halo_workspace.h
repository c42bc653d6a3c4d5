// View-model of the 3D slice: a point-cloud diffusion model (the embedded default halo emulator or
// a file the user opened) draws a halo catalogue at the slider cosmology, on a worker, and the
// 3D view shows it. Like the field emulator, the noise is held fixed while the sliders move (the
// probability-flow ODE maps the same noise to a cloud that deforms smoothly with the cosmology),
// with a quick preview while dragging and a refined cloud once the sliders rest.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <cstdint>
#include <functional>
#include <memory>

#include "diffuscope/jobs/job.h"
#include "diffuscope/model/model.h"
#include "diffuscope/pointcloud/point_model.h"
#include "ui/cloud_view/point_cloud_view.h"

namespace dsui {

class Job;
class JobRunner;

// The default halo emulator compiled into the application (assets/models.qrc).
inline constexpr char kEmbeddedHaloModelResource[] = ":/assets/models/halos1000.h5";

struct HaloSchedule {
  // ODE steps of a preview while a slider moves; 0: no preview, the cloud follows once the
  // sliders rest (the default: on a 2-core CPU the field emulator's previews need the cores
  // while dragging, and the UI thread must keep its share).
  int preview_steps = 0;
  int refined_steps = 50;  // once the sliders rested for rest_ms
  int rest_ms = 300;
  int points = 0;  // halos per cloud; 0: the model's training size (else 1000)
};

struct HaloSnapshot {
  double omega_m = 0.0, sigma_8 = 0.0;
  std::uint64_t seed = 0;
  int steps = 0;
  bool refined = false;
  double compute_ms = 0.0;
  QString model_name;  // e.g. "halos1000"
  // features: the catalogue's columns by name; scalars: log10 mass when the model has it.
  std::shared_ptr<const PointSet> points;
  // Refined clouds: the whole catalogue after every ODE step (the last frame is `points`).
  std::shared_ptr<const PointTrajectory> trajectory;
  // The catalogue as drawn, [n_points, features] in physical units (what a likelihood scores).
  std::shared_ptr<const std::vector<float>> cloud;
  std::int64_t n_points = 0;
  int features = 0;
  double box_size = 0.0;  // Mpc/h
};

class HaloWorkspace : public QObject {
  Q_OBJECT
 public:
  explicit HaloWorkspace(JobRunner* runner, QObject* parent = nullptr);

  // Loads a point-cloud model on a worker (empty path: the embedded default); when it loads, a
  // cloud is drawn at the current cosmology. Failures emit modelLoadFailed.
  void loadModel(const QString& path = QString());
  std::shared_ptr<const ds::PointCloudModel> model() const { return model_; }
  std::shared_ptr<const ds::Model> handle() const { return handle_; }  // what the model is
  const QString& modelName() const { return model_name_; }
  const QString& modelPath() const { return model_path_; }  // the file loaded (cache copy)

  // Latest wins: while a cloud is computed, later requests collapse into the last one; a new
  // request cancels a running refinement between two sampler steps.
  void setCosmology(double omega_m, double sigma_8);
  void setSeed(std::uint64_t seed);  // another noise realisation (a different cloud)
  std::uint64_t seed() const { return seed_; }
  void setSchedule(const HaloSchedule& schedule) { schedule_ = schedule; }
  // Work run on a second thread beside each refined cloud, given the cloud's cosmology, halo count
  // and box (the window sets the halo statistics' mock band); the cloud's ODE then uses one core.
  using RefineCompanion = std::function<void(double omega_m, double sigma_8, std::int64_t n_points,
                                             double box_size, const ds::JobContext& job)>;
  void setRefineCompanion(RefineCompanion companion) { companion_ = std::move(companion); }

  std::shared_ptr<const HaloSnapshot> snapshot() const { return snapshot_; }
  bool isComputing() const { return running_ || pending_ || rest_timer_.isActive(); }

 Q_SIGNALS:
  void snapshotChanged(std::shared_ptr<const dsui::HaloSnapshot> snapshot);
  void modelLoaded(const QString& description);
  void modelLoadFailed(const QString& path, const QString& message);

 private:
  void startNext();
  void refineAfterRest();

  JobRunner* runner_;
  QPointer<JobRunner> runner_alive_;  // null once the runner is being destroyed
  std::shared_ptr<const ds::Model> handle_;
  std::shared_ptr<const ds::PointCloudModel> model_;
  QString model_name_;
  QString model_path_;
  int model_points_ = 1000;
  HaloSchedule schedule_;
  RefineCompanion companion_;
  double omega_m_ = 0.3, sigma_8_ = 0.8;
  std::uint64_t seed_ = 1;
  bool running_ = false, pending_ = false, pending_refined_ = false, running_refined_ = false;
  QPointer<Job> running_job_;
  QTimer rest_timer_;
  int load_id_ = 0;
  std::shared_ptr<const HaloSnapshot> snapshot_;
};

}  // namespace dsui
