#include "ui/plots/ensemble_panel.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "diffuscope/data/npy.h"
#include "ui/field_view/field_thumbnail.h"
#include "ui/plots/plot_export.h"
#include "ui/plots/plot_style.h"

namespace dsui {

namespace {

const QColor kEmulated(33, 145, 140);
const QColor kMocks(90, 90, 90);

QCPGraph* add_graph(QCustomPlot* plot, QCPAxisRect* rect, const QString& name, const QPen& pen,
                    QHash<QString, QCPGraph*>& keys) {
  QCPGraph* g = plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  g->setName(name);
  g->setPen(pen);
  keys.insert(name, g);
  return g;
}

// A 16-84% band: two invisible edges, the upper filled down to the lower.
void add_band(QCustomPlot* plot, QCPAxisRect* rect, const QString& name, const QColor& colour,
              QHash<QString, QCPGraph*>& keys) {
  QCPGraph* lo = add_graph(plot, rect, name + QStringLiteral(" 16%"), Qt::NoPen, keys);
  QCPGraph* hi = add_graph(plot, rect, name + QStringLiteral(" 84%"), Qt::NoPen, keys);
  QColor fill = colour;
  fill.setAlpha(60);
  hi->setBrush(fill);
  hi->setChannelFillGraph(lo);
  lo->removeFromLegend();
  hi->removeFromLegend();
}

QString chi2_text(double mean, double sd) {
  if (!std::isfinite(mean)) return QStringLiteral("–");
  return QStringLiteral("%1 ± %2").arg(mean, 0, 'f', 2).arg(sd, 0, 'f', 2);
}

QString kind_name(ds::MockFieldKind kind) {
  return QString::fromLatin1(ds::kFieldKinds.label(kind));
}

}  // namespace

QCPGraph* EnsemblePanel::graph(const QString& key) const {
  return graphs_.value(key, nullptr);
}

ThumbnailGrid::ThumbnailGrid(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(90);
}

void ThumbnailGrid::setFields(const std::vector<std::shared_ptr<const FieldImage>>& emulated,
                              const std::vector<std::shared_ptr<const FieldImage>>& mocks, int size,
                              const QString& mock_label) {
  emulated_.clear();
  mocks_.clear();
  for (const auto& f : emulated) emulated_.push_back(field_thumbnail(*f));
  for (const auto& f : mocks) mocks_.push_back(field_thumbnail(*f));
  size_ = std::max(1, size);
  mock_label_ = mock_label;
  update();
}

QSize ThumbnailGrid::sizeHint() const {
  return QSize(400, 140);
}

void ThumbnailGrid::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().window());
  const int label_w = 70, gap = 3;
  const int side =
      std::max(8, std::min((width() - label_w) / size_ - gap, (height() - gap) / 2 - gap));
  const auto row = [&](const std::vector<QImage>& images, int y, const QString& label) {
    painter.setPen(palette().color(QPalette::WindowText));
    painter.drawText(QRect(0, y, label_w - 4, side), Qt::AlignVCenter | Qt::AlignRight, label);
    for (int i = 0; i < size_; ++i) {
      const QRect cell(label_w + i * (side + gap), y, side, side);
      if (i < int(images.size()))
        painter.drawImage(cell, images[std::size_t(i)]);
      else
        painter.fillRect(cell, QColor(200, 200, 200));  // still to come
    }
  };
  row(emulated_, gap, tr("emulated"));
  row(mocks_, 2 * gap + side, mock_label_);
}

EnsemblePanel::EnsemblePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Fields"), this));
  size_box_ = new QSpinBox(this);
  size_box_->setObjectName(QStringLiteral("ensembleSizeBox"));
  size_box_->setRange(2, 32);
  size_box_->setValue(EnsembleSettings{}.size);
  size_box_->setToolTip(tr("emulated fields in the ensemble, and as many mocks"));
  controls->addWidget(size_box_);
  controls->addWidget(new QLabel(tr("DDIM steps"), this));
  steps_box_ = new QSpinBox(this);
  steps_box_->setObjectName(QStringLiteral("ensembleStepsBox"));
  steps_box_->setRange(2, 1000);
  steps_box_->setValue(EnsembleSettings{}.steps);
  controls->addWidget(steps_box_);
  controls->addStretch(1);
  layout->addLayout(controls);
  controls = new QHBoxLayout;  // a second row: the dock shares a column with the P(k) plot
  controls->addStretch(1);
  copy_button_ = new QPushButton(tr("Copy CLI command"), this);
  copy_button_->setToolTip(
      tr("the diffuscope-cli sample command that draws the same emulated fields"));
  export_button_ = new QPushButton(tr("Export…"), this);
  controls->addWidget(copy_button_);
  controls->addWidget(export_button_);
  layout->addLayout(controls);
  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("ensembleSummary"));
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
  thumbnails_ = new ThumbnailGrid(this);
  layout->addWidget(thumbnails_);

  spectrum_ = new QCustomPlot(this);
  spectrum_->setMinimumHeight(200);
  spectrum_->setAutoAddPlottableToLegend(false);
  spectrum_->plotLayout()->clear();
  auto* pk_rect = new QCPAxisRect(spectrum_);
  ratio_rect_ = new QCPAxisRect(spectrum_);
  spectrum_->plotLayout()->addElement(0, 0, pk_rect);
  spectrum_->plotLayout()->addElement(1, 0, ratio_rect_);
  spectrum_->plotLayout()->setRowStretchFactor(0, 2.2);
  spectrum_->plotLayout()->setRowStretchFactor(1, 1.0);
  auto* group = new QCPMarginGroup(spectrum_);
  pk_rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
  ratio_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, group);
  set_log_axis(pk_rect->axis(QCPAxis::atBottom));
  set_log_axis(pk_rect->axis(QCPAxis::atLeft));
  pk_rect->axis(QCPAxis::atLeft)->setLabel(tr("P(k) [(Mpc/h)²]"));
  set_log_axis(ratio_rect_->axis(QCPAxis::atBottom));
  ratio_rect_->axis(QCPAxis::atBottom)->setLabel(tr("k [h/Mpc]"));
  ratio_rect_->axis(QCPAxis::atLeft)->setLabel(tr("emulated / mocks"));
  connect(pk_rect->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
          ratio_rect_->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
  add_band(spectrum_, pk_rect, tr("mocks"), kMocks, graphs_);
  add_band(spectrum_, pk_rect, tr("emulated"), kEmulated, graphs_);
  QPen mock_pen(kMocks, 1.6, Qt::DashLine);
  add_graph(spectrum_, pk_rect, tr("mocks mean"), mock_pen, graphs_);
  add_graph(spectrum_, pk_rect, tr("emulated mean"), QPen(kEmulated, 2.0), graphs_);
  add_band(spectrum_, ratio_rect_, tr("mock ratio"), kMocks, graphs_);
  add_graph(spectrum_, ratio_rect_, tr("ratio"), QPen(kEmulated, 2.0), graphs_)->removeFromLegend();
  add_graph(spectrum_, ratio_rect_, tr("unity"), QPen(Qt::black, 1, Qt::DotLine), graphs_)
      ->removeFromLegend();
  auto* legend = new QCPLegend;
  pk_rect->insetLayout()->addElement(legend, Qt::AlignTop | Qt::AlignRight);
  legend->setLayer(QStringLiteral("legend"));
  legend->setFont(QFont(QStringLiteral("sans"), 8));
  legend->addItem(new QCPPlottableLegendItem(legend, graph(tr("emulated mean"))));
  legend->addItem(new QCPPlottableLegendItem(legend, graph(tr("mocks mean"))));
  spectrum_->setNotAntialiasedElements(QCP::aePlottables);
  layout->addWidget(spectrum_, 3);

  histogram_ = new QCustomPlot(this);
  histogram_->setMinimumHeight(110);
  histogram_->yAxis->setLabel(tr("density"));
  QCPGraph* h_mock = histogram_->addGraph();
  h_mock->setName(tr("mocks"));
  h_mock->setPen(mock_pen);
  h_mock->setLineStyle(QCPGraph::lsStepCenter);
  QCPGraph* h_emu = histogram_->addGraph();
  h_emu->setName(tr("emulated"));
  h_emu->setPen(QPen(kEmulated, 2.0));
  h_emu->setLineStyle(QCPGraph::lsStepCenter);
  histogram_->legend->setVisible(true);
  histogram_->legend->setFont(QFont(QStringLiteral("sans"), 8));
  layout->addWidget(histogram_, 2);

  const auto edited = [this] {
    Q_EMIT settingsEdited(EnsembleSettings{size_box_->value(), steps_box_->value()});
  };
  connect(size_box_, qOverload<int>(&QSpinBox::valueChanged), this, edited);
  connect(steps_box_, qOverload<int>(&QSpinBox::valueChanged), this, edited);
  connect(copy_button_, &QPushButton::clicked, this, &EnsemblePanel::copyCliCommand);
  connect(export_button_, &QPushButton::clicked, this, &EnsemblePanel::exportRequested);
  redraw();
}

void EnsemblePanel::setSettings(const EnsembleSettings& settings) {
  const QSignalBlocker a(size_box_), b(steps_box_);
  size_box_->setValue(settings.size);
  steps_box_->setValue(settings.steps);
  if (!snapshot_) redraw();  // the empty grid has the new size
}

void EnsemblePanel::setComputing(bool computing) {
  computing_ = computing;
  summary_->setText(summaryText());
}

void EnsemblePanel::setSnapshot(std::shared_ptr<const EnsembleSnapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  redraw();
}

QString EnsemblePanel::summaryText() const {
  const auto& s = snapshot_;
  if (!s)
    return computing_ ? tr("drawing the ensemble…")
                      : tr("The ensemble follows once an emulated field is shown and the "
                           "sliders rest.");
  const auto& c = s->comparison;
  QString text = tr("Ωm = %1, σ8 = %2, seed %3: %4 of %5 emulated fields (DDIM %6) vs %7 %8 mocks. "
                    "Reduced χ² (eq. 10) of the emulated P(k) against the mocks: %9; of the mocks "
                    "leave-one-out: %10.")
                     .arg(s->parameters.omega_m, 0, 'f', 3)
                     .arg(s->parameters.sigma_8, 0, 'f', 3)
                     .arg(s->parameters.seed)
                     .arg(s->emulated.size())
                     .arg(s->settings.size)
                     .arg(s->settings.steps)
                     .arg(s->mocks.size())
                     .arg(kind_name(s->reference_kind))
                     .arg(chi2_text(c.reduced_chi2, c.reduced_chi2_sd))
                     .arg(chi2_text(c.reference_reduced_chi2, c.reference_reduced_chi2_sd));
  if (s->nonfinite_members > 0)
    text += tr(" %1 emulated field(s) left the transform's range (not finite) and are left out.")
                .arg(s->nonfinite_members);
  if (computing_ && !s->complete) text += tr(" Drawing…");
  return text;
}

void EnsemblePanel::redraw() {
  summary_->setText(summaryText());
  const bool have = snapshot_ != nullptr;
  copy_button_->setEnabled(have);
  export_button_->setEnabled(have && !snapshot_->emulated.empty());
  if (!have) {
    thumbnails_->setFields({}, {}, size_box_->value(), tr("mocks"));
    for (int i = 0; i < spectrum_->graphCount(); ++i) spectrum_->graph(i)->data()->clear();
    for (int i = 0; i < histogram_->graphCount(); ++i) histogram_->graph(i)->data()->clear();
    spectrum_->replot(QCustomPlot::rpQueuedReplot);
    histogram_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const auto& s = *snapshot_;
  const auto& c = s.comparison;
  thumbnails_->setFields(s.emulated, s.mocks, s.settings.size, tr("mocks"));
  const QVector<double> k = to_qvector(s.k);
  const auto set = [&](const QString& name, const std::vector<double>& y) {
    QCPGraph* g = graph(name);
    if (y.size() == s.k.size())
      g->setData(k, to_qvector(y), true);
    else
      g->data()->clear();
  };
  set(tr("mocks 16%"), c.reference.lower);
  set(tr("mocks 84%"), c.reference.upper);
  set(tr("mocks mean"), c.reference.mean);
  set(tr("emulated 16%"), c.emulated.lower);
  set(tr("emulated 84%"), c.emulated.upper);
  set(tr("emulated mean"), c.emulated.mean);
  set(tr("mock ratio 16%"), c.reference_ratio_lower);
  set(tr("mock ratio 84%"), c.reference_ratio_upper);
  set(tr("ratio"), c.ratio);
  set(tr("unity"), std::vector<double>(s.k.size(), 1.0));
  graph(tr("emulated mean"))
      ->setName(tr("emulated mean, %1 of %2: χ²ν %3")
                    .arg(s.emulated_pk.size())
                    .arg(s.settings.size)
                    .arg(chi2_text(c.reduced_chi2, c.reduced_chi2_sd)));
  graph(tr("mocks mean"))
      ->setName(tr("mocks mean, %1: χ²ν %2 (leave-one-out)")
                    .arg(s.mock_pk.size())
                    .arg(chi2_text(c.reference_reduced_chi2, c.reference_reduced_chi2_sd)));
  spectrum_->rescaleAxes();
  auto* pk_rect = spectrum_->axisRect(0);
  const QCPRange y = pk_rect->axis(QCPAxis::atLeft)->range();
  pk_rect->axis(QCPAxis::atLeft)->setRange(y.lower / 1.5, y.upper * 1.5);
  const QCPRange r = ratio_rect_->axis(QCPAxis::atLeft)->range();
  ratio_rect_->axis(QCPAxis::atLeft)
      ->setRange(std::min(r.lower, 0.8) - 0.05, std::max(r.upper, 1.2) + 0.05);
  spectrum_->replot(QCustomPlot::rpQueuedReplot);

  QVector<double> centres;
  for (std::size_t b = 0; b + 1 < s.histogram_edges.size(); ++b)
    centres << 0.5 * (s.histogram_edges[b] + s.histogram_edges[b + 1]);
  const auto hist = [&](int index, const std::vector<double>& density) {
    if (density.size() == std::size_t(centres.size()))
      histogram_->graph(index)->setData(centres, to_qvector(density), true);
    else
      histogram_->graph(index)->data()->clear();
  };
  hist(0, s.mock_histogram);
  hist(1, s.emulated_histogram);
  histogram_->xAxis->setLabel(s.histogram_quantity);
  histogram_->rescaleAxes();
  histogram_->replot(QCustomPlot::rpQueuedReplot);
}

void EnsemblePanel::copyCliCommand() {
  if (snapshot_) QApplication::clipboard()->setText(snapshot_->cli_command());
}

QStringList EnsemblePanel::exportTo(const QString& folder) {
  QStringList written;
  if (!snapshot_ || !QDir().mkpath(folder)) {
    Q_EMIT errorOccurred(tr("Export ensemble"), tr("Cannot create the folder %1").arg(folder));
    return written;
  }
  const auto& s = *snapshot_;
  const auto& c = s.comparison;
  const QString base = folder + QLatin1Char('/');
  written << export_plot_all(spectrum_, base + QStringLiteral("ensemble_pk"), summaryText());
  written << export_plot_all(histogram_, base + QStringLiteral("ensemble_histogram"),
                             summaryText());
  const auto csv = [&](const QString& name, const QStringList& header,
                       const std::vector<std::vector<double>>& columns) {
    if (write_csv(base + name, header, columns)) written << base + name;
  };
  csv(QStringLiteral("ensemble_pk.csv"),
      {QStringLiteral("k_h_per_Mpc"), QStringLiteral("emulated_mean"),
       QStringLiteral("emulated_p16"), QStringLiteral("emulated_p84"), QStringLiteral("mocks_mean"),
       QStringLiteral("mocks_p16"), QStringLiteral("mocks_p84"), QStringLiteral("ratio_of_means")},
      {s.k, c.emulated.mean, c.emulated.lower, c.emulated.upper, c.reference.mean,
       c.reference.lower, c.reference.upper, c.ratio});
  std::vector<double> lo_edges(s.histogram_edges.begin(),
                               s.histogram_edges.end() - (s.histogram_edges.empty() ? 0 : 1));
  csv(QStringLiteral("ensemble_histogram.csv"),
      {QStringLiteral("bin_lower_edge"), QStringLiteral("emulated_density"),
       QStringLiteral("mocks_density")},
      {lo_edges, s.emulated_histogram, s.mock_histogram});
  const auto fields = [&](const QString& name,
                          const std::vector<std::shared_ptr<const FieldImage>>& images) {
    if (images.empty()) return;
    const int n = images.front()->n;
    std::vector<double> values;
    for (const auto& image : images)
      values.insert(values.end(), image->values.begin(), image->values.end());
    try {
      ds::write_npy((base + name).toStdString(), {images.size(), std::size_t(n), std::size_t(n)},
                    values, true);
      written << base + name;
    } catch (const std::exception& e) {
      Q_EMIT errorOccurred(tr("Export ensemble"), QString::fromUtf8(e.what()));
    }
  };
  fields(QStringLiteral("emulated.npy"), s.emulated);
  fields(QStringLiteral("mocks.npy"), s.mocks);
  const int expected = 6 + 2 + 2;
  if (written.size() != expected)
    Q_EMIT errorOccurred(tr("Export ensemble"),
                         tr("Could not write every file into %1 (wrote %2 of %3)")
                             .arg(folder)
                             .arg(written.size())
                             .arg(expected));
  return written;
}

}  // namespace dsui
