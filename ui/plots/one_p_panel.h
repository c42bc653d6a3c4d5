// The 1P view: P(k) / P_fiducial(k) per value of the varied parameter, emulator (solid, with its
// 16-84% band over seeds) against mocks (dashed), on one plot. Draws OnePSnapshots.
#pragma once

#include <QWidget>
#include <memory>

#include "ui/emulator/one_p.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSpinBox;

namespace dsui {

class OnePPanel : public QWidget {
  Q_OBJECT
 public:
  explicit OnePPanel(QWidget* parent = nullptr);
  void setSnapshot(std::shared_ptr<const OnePSnapshot> snapshot);
  std::shared_ptr<const OnePSnapshot> snapshot() const { return snapshot_; }
  void setComputing(bool computing);
  OnePSettings settings() const;
  QCustomPlot* plot() const { return plot_; }
  QString summaryText() const;

 Q_SIGNALS:
  void startRequested(dsui::OnePSettings settings);
  void cancelRequested();

 private:
  void redraw();
  QComboBox* parameter_box_;
  QSpinBox* seeds_box_;
  QPushButton* start_button_;
  QLabel* summary_;
  QCustomPlot* plot_;
  bool computing_ = false;
  std::shared_ptr<const OnePSnapshot> snapshot_;
};

}  // namespace dsui
