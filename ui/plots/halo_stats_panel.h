// The statistics of the emulated halo catalogue against the lognormal mocks' 16-84% band: the
// kNN-CDFs (as CDFs or peaked CDFs, min(F, 1 - F)), the two-point correlation function, the
// cumulative mass function and the mean pairwise radial velocity, in a 2 x 2 grid. Draws
// HaloStatisticsSnapshots; computes nothing.
#pragma once

#include <QHash>
#include <QWidget>
#include <memory>

#include "ui/emulator/halo_statistics.h"

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCheckBox;
class QLabel;
class QPushButton;

namespace dsui {

class HaloStatsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit HaloStatsPanel(QWidget* parent = nullptr);
  void setSnapshot(std::shared_ptr<const HaloStatisticsSnapshot> snapshot);
  std::shared_ptr<const HaloStatisticsSnapshot> snapshot() const { return snapshot_; }
  void setPeaked(bool peaked);
  // Compare mode: a pinned catalogue's statistics, dashed ("pinned knn k=K", "pinned xi",
  // "pinned hmf", "pinned v12"); nullptr clears them.
  void setPinned(std::shared_ptr<const HaloStatisticsSnapshot> pinned);
  std::shared_ptr<const HaloStatisticsSnapshot> pinned() const { return pinned_; }
  bool peaked() const { return peaked_; }

  QCustomPlot* plot() const { return plot_; }
  // Curves by key: "knn k=K" (emulated), "knn k=K 16%" / "84%" (mocks), "xi", "xi 16%",
  // "xi 84%", "hmf", "hmf 16%", "hmf 84%", "v12", "v12 16%", "v12 84%" (v12: the bins with a
  // value only); pinned ones prefixed "pinned ".
  QCPGraph* graph(const QString& key) const;
  QString summaryText() const;
  // halo_stats.{png,pdf,svg}, knn_cdf.csv, xi.csv, hmf.csv (when the model has masses), v12.csv
  // (when it has velocities) and the catalogue as catalogue.npy [N, F]; returns the files written.
  QStringList exportTo(const QString& folder);

 Q_SIGNALS:
  void exportRequested();
  void errorOccurred(const QString& title, const QString& message);

 private:
  void redraw();
  QLabel* summary_;
  QCheckBox* peaked_box_;
  QPushButton* export_button_;
  QCustomPlot* plot_;
  enum Rect { Knn, Xi, Hmf, V12, RectCount };
  QCPAxisRect* rects_[RectCount] = {};
  QHash<QString, QCPGraph*> graphs_;
  bool peaked_ = false;
  std::shared_ptr<const HaloStatisticsSnapshot> snapshot_, pinned_;
};

}  // namespace dsui
