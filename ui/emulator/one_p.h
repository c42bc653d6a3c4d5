// 1P comparisons (the paper's 1P figure): one parameter varied across its prior range at fixed
// noise, the other held at the slider value, P(k) as a ratio to the fiducial field of the same
// seed, for the emulator and for mocks of the kind it imitates. Whether the model captures each
// parameter's effect is read off the two families of curves.
#pragma once

#include <QObject>
#include <QPointer>
#include <memory>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/stats/ensemble.h"
#include "ui/emulator/emulator_model.h"
#include "ui/field_view/field_image.h"

namespace dsui {

class Job;
class JobRunner;

struct OnePSettings {
  int parameter = 0;  // 0: Omega_m, 1: sigma_8
  int values = 5;     // evenly spaced over the prior range of the parameter, ends included
  int seeds = 4;      // fields per value (noise streams 0 .. seeds-1 of the fiducial's seed)
  int steps = 25;     // DDIM steps
};

// One value of the varied parameter: the per-seed ratios P(k) / P_fiducial(k), as a band.
struct OnePCurve {
  double value = 0.0;
  ds::Envelope emulated, mocks;  // over seeds: mean, median, 16%, 84%
};

struct OnePSnapshot {
  FieldParameters fiducial;  // slider cosmology; its seed is the noise seed
  OnePSettings settings;
  std::shared_ptr<const EmulatorModel> emulator;
  std::vector<double> k;          // h/Mpc
  std::vector<OnePCurve> curves;  // the values done so far, in order
  bool complete = false;
  double compute_ms = 0.0;
  int generation = 0;
};

// The values of the varied parameter: `count` points from the prior's low to high edge.
std::vector<double> one_p_values(int parameter, int count);

// Fiducial fields first, then one value after another; `publish` after each value.
void compute_one_p(std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& fiducial,
                   const OnePSettings& settings,
                   const std::function<void(std::shared_ptr<const OnePSnapshot>)>& publish,
                   const ds::JobContext& job);

class OneP : public QObject {
  Q_OBJECT
 public:
  explicit OneP(JobRunner* runner, QObject* parent = nullptr);
  void start(std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& fiducial,
             const OnePSettings& settings);
  void cancel();
  bool isComputing() const;
  std::shared_ptr<const OnePSnapshot> snapshot() const { return snapshot_; }

 Q_SIGNALS:
  void snapshotChanged(std::shared_ptr<const dsui::OnePSnapshot> snapshot);
  void computingChanged(bool computing);

 private:
  JobRunner* runner_;
  QPointer<Job> job_;
  int request_id_ = 0, generation_ = 0;
  std::shared_ptr<const OnePSnapshot> snapshot_;
};

}  // namespace dsui

Q_DECLARE_METATYPE(std::shared_ptr<const dsui::OnePSnapshot>)
