#include "ui/plots/one_p_panel.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/plots/plot_style.h"

namespace dsui {

namespace {
QColor value_colour(std::size_t i, std::size_t count) {
  // From purple (low) to orange (high), viridis-like.
  const double t = count > 1 ? double(i) / double(count - 1) : 0.0;
  return QColor::fromHsvF(0.78 - 0.7 * t, 0.85, 0.75);
}
}  // namespace

OnePPanel::OnePPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Vary"), this));
  parameter_box_ = new QComboBox(this);
  parameter_box_->setObjectName(QStringLiteral("onePParameter"));
  parameter_box_->addItems({QStringLiteral("Ωm"), QStringLiteral("σ8")});
  controls->addWidget(parameter_box_);
  controls->addWidget(new QLabel(tr("seeds"), this));
  seeds_box_ = new QSpinBox(this);
  seeds_box_->setRange(1, 16);
  seeds_box_->setValue(OnePSettings{}.seeds);
  controls->addWidget(seeds_box_);
  controls->addStretch(1);
  start_button_ = new QPushButton(tr("Compute"), this);
  start_button_->setObjectName(QStringLiteral("onePStart"));
  controls->addWidget(start_button_);
  layout->addLayout(controls);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(260);
  set_log_axis(plot_->xAxis, tr("k [h/Mpc]"), false);
  plot_->yAxis->setLabel(tr("P(k) / P_fiducial(k)"));
  plot_->legend->setVisible(true);
  plot_->legend->setFont(QFont(QStringLiteral("sans"), 8));
  plot_->setNotAntialiasedElements(QCP::aePlottables);
  layout->addWidget(plot_, 1);
  connect(start_button_, &QPushButton::clicked, this, [this] {
    if (computing_)
      Q_EMIT cancelRequested();
    else
      Q_EMIT startRequested(settings());
  });
  redraw();
}

OnePSettings OnePPanel::settings() const {
  OnePSettings s;
  s.parameter = parameter_box_->currentIndex();
  s.seeds = seeds_box_->value();
  return s;
}

void OnePPanel::setComputing(bool computing) {
  computing_ = computing;
  start_button_->setText(computing ? tr("Cancel") : tr("Compute"));
  summary_->setText(summaryText());
}

void OnePPanel::setSnapshot(std::shared_ptr<const OnePSnapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  redraw();
}

QString OnePPanel::summaryText() const {
  if (!snapshot_)
    return computing_ ? tr("Drawing the fiducial fields…")
                      : tr("Compute varies one parameter over its prior range at fixed noise, the "
                           "other at its slider value: the emulator's P(k) ratios (solid, "
                           "16–84% over seeds) against the mocks' (dashed).");
  const auto& s = *snapshot_;
  return tr("%1 varied, %2 at the slider value; %3 seeds (DDIM %4), seed %5: %6 of %7 values%8")
      .arg(s.settings.parameter == 0 ? QStringLiteral("Ωm") : QStringLiteral("σ8"))
      .arg(s.settings.parameter == 0 ? QStringLiteral("σ8 = %1").arg(s.fiducial.sigma_8)
                                     : QStringLiteral("Ωm = %1").arg(s.fiducial.omega_m))
      .arg(s.settings.seeds)
      .arg(s.settings.steps)
      .arg(s.fiducial.seed)
      .arg(s.curves.size())
      .arg(s.settings.values)
      .arg(computing_ && !s.complete ? tr(", drawing…") : QString());
}

void OnePPanel::redraw() {
  summary_->setText(summaryText());
  plot_->clearGraphs();
  if (snapshot_) {
    const auto& s = *snapshot_;
    const QVector<double> k = to_qvector(s.k);
    const QString name = s.settings.parameter == 0 ? QStringLiteral("Ωm") : QStringLiteral("σ8");
    for (std::size_t i = 0; i < s.curves.size(); ++i) {
      const auto& c = s.curves[i];
      const QColor colour = value_colour(i, std::size_t(s.settings.values));
      QCPGraph* lo = plot_->addGraph();
      lo->setData(k, to_qvector(c.emulated.lower), true);
      lo->setPen(Qt::NoPen);
      lo->removeFromLegend();
      QCPGraph* hi = plot_->addGraph();
      hi->setData(k, to_qvector(c.emulated.upper), true);
      hi->setPen(Qt::NoPen);
      QColor fill = colour;
      fill.setAlpha(45);
      hi->setBrush(fill);
      hi->setChannelFillGraph(lo);
      hi->removeFromLegend();
      QCPGraph* emu = plot_->addGraph();
      emu->setData(k, to_qvector(c.emulated.mean), true);
      emu->setPen(QPen(colour, 2.0));
      emu->setName(QStringLiteral("%1 = %2").arg(name).arg(c.value, 0, 'f', 2));
      QCPGraph* mock = plot_->addGraph();
      mock->setData(k, to_qvector(c.mocks.mean), true);
      mock->setPen(QPen(colour, 1.4, Qt::DashLine));
      mock->removeFromLegend();
    }
    plot_->rescaleAxes();
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace dsui
