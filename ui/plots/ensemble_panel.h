// The ensemble view of the Fields workspace: thumbnails of the n emulated fields and n mocks, the
// P(k) of both as mean with 16-84% bands and the ratio of the means in a panel below (with the
// mocks' own band), the reduced chi^2 of both in the legend, and the histograms of log10 density
// (the paper's Figures 2 and 3). Draws EnsembleSnapshots; computes nothing.
#pragma once

#include <QHash>
#include <QWidget>
#include <memory>

#include "ui/emulator/field_ensemble.h"

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QLabel;
class QSpinBox;
class QPushButton;

namespace dsui {

class ThumbnailGrid;

class EnsemblePanel : public QWidget {
  Q_OBJECT
 public:
  explicit EnsemblePanel(QWidget* parent = nullptr);

  void setSnapshot(std::shared_ptr<const EnsembleSnapshot> snapshot);
  std::shared_ptr<const EnsembleSnapshot> snapshot() const { return snapshot_; }
  void setComputing(bool computing);
  void setSettings(const EnsembleSettings& settings);  // the spin boxes, without a signal

  QCustomPlot* spectrumPlot() const { return spectrum_; }
  // The curves by a fixed key (their legend names carry numbers): "emulated mean", "emulated 16%",
  // "emulated 84%", "mocks mean", "mocks 16%", "mocks 84%", "ratio", "mock ratio 16%",
  // "mock ratio 84%", "unity".
  QCPGraph* graph(const QString& key) const;
  QCustomPlot* histogramPlot() const { return histogram_; }
  ThumbnailGrid* thumbnails() const { return thumbnails_; }
  QString summaryText() const;
  // Writes ensemble_pk.{png,pdf,svg}, ensemble_histogram.{png,pdf,svg}, ensemble_pk.csv (k, the
  // emulated and mock mean, 16% and 84% per bin, the ratio), ensemble_histogram.csv and the
  // fields as emulated.npy / mocks.npy [n, N, N] into `folder`; returns the files written.
  QStringList exportTo(const QString& folder);
  void copyCliCommand();  // to the clipboard

 Q_SIGNALS:
  void settingsEdited(dsui::EnsembleSettings settings);
  void exportRequested();
  void errorOccurred(const QString& title, const QString& message);

 private:
  void redraw();
  QLabel* summary_;
  ThumbnailGrid* thumbnails_;
  QCustomPlot* spectrum_;
  QCPAxisRect* ratio_rect_ = nullptr;
  QCustomPlot* histogram_;
  QSpinBox* size_box_;
  QSpinBox* steps_box_;
  QPushButton* copy_button_;
  QPushButton* export_button_;
  QHash<QString, QCPGraph*> graphs_;
  bool computing_ = false;
  std::shared_ptr<const EnsembleSnapshot> snapshot_;
};

// A grid of small field pictures: the emulated members on top, the mocks below.
class ThumbnailGrid : public QWidget {
  Q_OBJECT
 public:
  explicit ThumbnailGrid(QWidget* parent = nullptr);
  void setFields(const std::vector<std::shared_ptr<const FieldImage>>& emulated,
                 const std::vector<std::shared_ptr<const FieldImage>>& mocks, int size,
                 const QString& mock_label);
  int emulatedShown() const { return int(emulated_.size()); }
  int mocksShown() const { return int(mocks_.size()); }
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  std::vector<QImage> emulated_, mocks_;
  int size_ = 8;
  QString mock_label_;
};

}  // namespace dsui
