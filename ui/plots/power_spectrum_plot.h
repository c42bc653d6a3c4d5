// Log-log plot of a field's power spectrum (QCustomPlot), with the input spectrum as a line.
#pragma once

#include <QWidget>
#include <vector>

#include "diffuscope/stats/power_spectrum_2d.h"

class QCustomPlot;

namespace dsui {

class PowerSpectrumPlot : public QWidget {
  Q_OBJECT
 public:
  explicit PowerSpectrumPlot(QWidget* parent = nullptr);

  // measured: points; theory: a line (may be empty). k in h/Mpc, P in (Mpc/h)^2. An empty
  // theory_label keeps the line's previous name; an empty measured_label reads "measured".
  void setSpectra(const ds::PowerSpectrum& measured, const ds::PowerSpectrum& theory,
                  const QString& title, const QString& theory_label = QString(),
                  const QString& measured_label = QString());
  const ds::PowerSpectrum& measured() const { return measured_; }
  // Compare mode: a pinned field's P(k), drawn dashed under `label` until cleared (empty k).
  void setPinned(const ds::PowerSpectrum& pinned, const QString& label);
  const ds::PowerSpectrum& pinned() const { return pinned_; }
  QCustomPlot* plot() const { return plot_; }
  int updateCount() const { return updates_; }

 private:
  QCustomPlot* plot_;
  void fitAxes();
  ds::PowerSpectrum measured_, theory_, pinned_;
  int updates_ = 0;
};

}  // namespace dsui
