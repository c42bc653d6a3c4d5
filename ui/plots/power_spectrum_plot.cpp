#include "ui/plots/power_spectrum_plot.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include "ui/plots/plot_style.h"

namespace dsui {

PowerSpectrumPlot::PowerSpectrumPlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  setMinimumSize(280, 220);

  set_log_axis(plot_->xAxis, tr("k [h/Mpc]"));
  set_log_axis(plot_->yAxis, tr("P(k) [(Mpc/h)²]"));
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, QString(), QFont("sans", 9)));

  QCPGraph* measured = plot_->addGraph();
  measured->setName(tr("measured"));
  measured->setLineStyle(QCPGraph::lsNone);
  measured->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(33, 145, 140),
                                            QColor(33, 145, 140, 90), 5));
  QCPGraph* theory = plot_->addGraph();
  theory->setName(tr("input P₂D(k)"));
  theory->setPen(QPen(QColor(68, 1, 84), 1.6));
  QCPGraph* pinned = plot_->addGraph();
  pinned->setName(tr("pinned"));
  pinned->setPen(QPen(QColor(230, 120, 20), 1.8, Qt::DashLine));
  pinned->setVisible(false);
  pinned->removeFromLegend();
  plot_->legend->setVisible(true);
  plot_->legend->setFont(QFont("sans", 8));
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  // Antialiasing triples the replot time under software rendering and adds little to a few
  // hundred points.
  plot_->setNotAntialiasedElements(QCP::aePlottables | QCP::aeScatters);
}

void PowerSpectrumPlot::setSpectra(const ds::PowerSpectrum& measured,
                                   const ds::PowerSpectrum& theory, const QString& title,
                                   const QString& theory_label, const QString& measured_label) {
  measured_ = measured;
  plot_->graph(0)->setData(to_qvector(measured.k), to_qvector(measured.pk), true);
  plot_->graph(1)->setData(to_qvector(theory.k), to_qvector(theory.pk), true);
  plot_->graph(1)->setVisible(!theory.k.empty());
  if (!theory_label.isEmpty()) plot_->graph(1)->setName(theory_label);
  plot_->graph(0)->setName(measured_label.isEmpty() ? tr("measured") : measured_label);
  plot_->graph(1)->removeFromLegend();
  if (!theory.k.empty()) plot_->graph(1)->addToLegend();
  if (auto* text = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0)))
    text->setText(title);

  theory_ = theory;
  fitAxes();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  ++updates_;
}

void PowerSpectrumPlot::setPinned(const ds::PowerSpectrum& pinned, const QString& label) {
  pinned_ = pinned;
  QCPGraph* g = plot_->graph(2);
  g->setData(to_qvector(pinned.k), to_qvector(pinned.pk), true);
  g->setName(label);
  g->setVisible(!pinned.k.empty());
  g->removeFromLegend();
  if (!pinned.k.empty()) g->addToLegend();
  fitAxes();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

// Fits the axes to the positive data of the curves shown.
void PowerSpectrumPlot::fitAxes() {
  double k_lo = HUGE_VAL, k_hi = 0, p_lo = HUGE_VAL, p_hi = 0;
  auto extend = [&](const ds::PowerSpectrum& s) {
    for (std::size_t i = 0; i < s.k.size(); ++i) {
      if (!(s.k[i] > 0) || !(s.pk[i] > 0)) continue;
      k_lo = std::min(k_lo, s.k[i]), k_hi = std::max(k_hi, s.k[i]);
      p_lo = std::min(p_lo, s.pk[i]), p_hi = std::max(p_hi, s.pk[i]);
    }
  };
  extend(measured_);
  extend(theory_);
  extend(pinned_);
  if (k_hi > 0) {
    plot_->xAxis->setRange(k_lo / 1.2, k_hi * 1.2);
    plot_->yAxis->setRange(p_lo / 2.0, p_hi * 2.0);
  }
}

}  // namespace dsui
