// View-model of the field slice: owns the slider cosmology, asks the job runner for new fields
// and their statistics, and publishes immutable snapshots that the views draw.
#pragma once

#include <QObject>
#include <QString>
#include <memory>
#include <optional>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "ui/field_view/field_image.h"

namespace dsui {

class JobRunner;

struct FieldSnapshot {
  int generation = 0;                         // increases with every published snapshot
  std::optional<FieldParameters> parameters;  // empty for a field opened from a file
  QString source;         // one line: "GRF 256x256, Omega_m = ..., ..." or a file name
  QString title;          // the same in a short multi-line form, for plot titles
  double box_size = 0.0;  // Mpc/h
  std::shared_ptr<const FieldImage> image;
  ds::PowerSpectrum measured;  // of the displayed field, cut at Nyquist
  ds::PowerSpectrum theory;    // linear P_2D at the measured k (generated fields only)
  QString theory_label;        // what `theory` means for this kind of field, for the legend
  double compute_ms = 0.0;
};

class FieldWorkspace : public QObject {
  Q_OBJECT
 public:
  FieldWorkspace(JobRunner* runner, QObject* parent = nullptr);

  // Each request computes on a worker. While one computes, later requests collapse into the
  // latest, which starts when the running one is published: dragging a slider streams fields
  // at the rate they can be made, and the last position always wins.
  void requestField(const FieldParameters& parameters);
  void setResolution(int n);  // 16..512
  void setFieldKind(ds::MockFieldKind kind) { kind_ = kind; }
  ds::MockFieldKind fieldKind() const { return kind_; }
  int resolution() const { return resolution_; }
  void setBoxSize(double box_size);
  double boxSize() const { return box_size_; }
  FieldParameters parameters() const { return parameters_; }

  // Opens an .npy file holding one field [N, N] or a stack [M, N, N] (the first is shown).
  void openField(const QString& path);

  std::shared_ptr<const FieldSnapshot> snapshot() const { return snapshot_; }
  bool isComputing() const { return running_; }

 Q_SIGNALS:
  void snapshotChanged(std::shared_ptr<const dsui::FieldSnapshot> snapshot);
  void computingChanged(bool computing);

 private:
  void startNext();
  void publish(std::shared_ptr<FieldSnapshot> snapshot);

  JobRunner* runner_;
  FieldParameters parameters_;
  int resolution_ = 256;
  ds::MockFieldKind kind_ = ds::MockFieldKind::Grf;
  double box_size_ = 25.0;
  bool running_ = false;
  bool pending_ = false;
  int generation_ = 0;
  std::shared_ptr<const FieldSnapshot> snapshot_;
};

// The pure computation behind a snapshot (also used by tests and benchmarks of the UI path).
std::shared_ptr<FieldSnapshot> compute_field_snapshot(ds::MockFieldKind kind,
                                                      const FieldParameters& parameters, int n,
                                                      double box_size, const ds::JobContext& job);

}  // namespace dsui

Q_DECLARE_METATYPE(std::shared_ptr<const dsui::FieldSnapshot>)
