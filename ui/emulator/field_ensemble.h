// Ensembles, not single draws: n emulated fields at one cosmology next to n mocks of the kind the
// model imitates, with their P(k) bands, the ratio of the means, the reduced chi^2 of the paper
// (eq. 10) and the histograms of log10 density. The emulated members fill in one by one on a
// worker (first member first); a new request cancels the running one.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <memory>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/stats/ensemble.h"
#include "ui/emulator/emulator_model.h"
#include "ui/field_view/field_image.h"

namespace dsui {

class Job;
class JobRunner;

struct EnsembleSettings {
  int size = 8;    // emulated fields, and as many mocks
  int steps = 25;  // DDIM steps (eta = 0) per emulated field
};

struct EnsembleSnapshot {
  FieldParameters parameters;  // the cosmology; seed: the noise seed of every member
  std::shared_ptr<const EmulatorModel> emulator;
  EnsembleSettings settings;
  ds::MockFieldKind reference_kind = ds::MockFieldKind::Zeldovich;
  // Member i of the emulated set is stream i of seed parameters.seed (`sample --n`'s row i); the
  // mocks are seeds 1 .. n of the reference kind.
  std::vector<std::shared_ptr<const FieldImage>> emulated, mocks;
  std::vector<double> k;               // h/Mpc, bins up to Nyquist
  ds::SampleSet emulated_pk, mock_pk;  // (Mpc/h)^2, [member][bin]
  int nonfinite_members = 0;           // emulated members left out of the statistics
  ds::EnsembleComparison comparison;   // of the members so far
  // Density histograms of log10 of the density (of delta for contrast fields), pooled over the
  // members, on edges fixed by the mocks.
  QString histogram_quantity;  // "log10 ρ" or "δ"
  std::vector<double> histogram_edges;
  std::vector<double> emulated_histogram, mock_histogram;
  bool complete = false;  // every member drawn
  double compute_ms = 0.0;
  int generation = 0;
  // The command that draws the same emulated members from the command line.
  QString cli_command() const;
};

class FieldEnsemble : public QObject {
  Q_OBJECT
 public:
  explicit FieldEnsemble(JobRunner* runner, QObject* parent = nullptr);

  void setSettings(const EnsembleSettings& settings);
  const EnsembleSettings& settings() const { return settings_; }
  // Starts (or restarts) the ensemble at these parameters; publishes a snapshot once the mocks
  // are measured and again after every emulated member. Does nothing when the latest snapshot
  // (complete or being made) is for the same model, parameters and settings.
  void request(std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& parameters);
  void cancel();  // a slider moved: the running ensemble is stale
  bool isComputing() const;
  std::shared_ptr<const EnsembleSnapshot> snapshot() const { return snapshot_; }

 Q_SIGNALS:
  void snapshotChanged(std::shared_ptr<const dsui::EnsembleSnapshot> snapshot);
  void computingChanged(bool computing);

 private:
  JobRunner* runner_;
  EnsembleSettings settings_;
  QPointer<Job> job_;
  int request_id_ = 0;
  int generation_ = 0;
  std::shared_ptr<const EmulatorModel> requested_model_;
  FieldParameters requested_parameters_;
  EnsembleSettings requested_settings_;
  std::shared_ptr<const EnsembleSnapshot> snapshot_;
};

// The pure computation (tests use it directly): mocks first, then the emulated members one by
// one, calling `publish` with the snapshot so far after the mocks and after each member.
void compute_field_ensemble(
    std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& parameters,
    const EnsembleSettings& settings,
    const std::function<void(std::shared_ptr<const EnsembleSnapshot>)>& publish,
    const ds::JobContext& job);

}  // namespace dsui

Q_DECLARE_METATYPE(std::shared_ptr<const dsui::EnsembleSnapshot>)
