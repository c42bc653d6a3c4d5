#include "ui/inference/batch_results.h"

#include <qcustomplot.h>

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ui/inference/table_cell.h"

namespace dsui {

namespace {

const char* const kSymbols[2] = {"Omega_m", "sigma_8"};

QString number(double v, int digits = 4) {
  return std::isfinite(v) ? QString::number(v, 'f', digits) : QStringLiteral("-");
}

}  // namespace

BatchResultsView::BatchResultsView(std::shared_ptr<const ds::BatchMergeFile> results,
                                   QWidget* parent)
    : QWidget(parent), results_(std::move(results)) {
  setWindowTitle(
      tr("Batch results - %1").arg(QFileInfo(QString::fromStdString(results_->path)).fileName()));
  header_ = new QLabel(this);
  header_->setObjectName(QStringLiteral("batchHeader"));
  header_->setWordWrap(true);
  header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_ = new QTableWidget(this);
  summary_->setObjectName(QStringLiteral("batchSummary"));
  fields_ = new QTableWidget(this);
  fields_->setObjectName(QStringLiteral("batchFields"));
  plot_ = new QCustomPlot(this);
  plot_->setObjectName(QStringLiteral("calibrationPlot"));
  plot_->setMinimumHeight(260);
  for (QTableWidget* t : {summary_, fields_}) {
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  }
  summary_->setMaximumHeight(110);

  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(plot_);
  split->addWidget(fields_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(header_);
  layout->addWidget(summary_);
  layout->addWidget(split, 1);
  resize(900, 820);

  const ds::BatchMergeFile& r = *results_;
  QString head = tr("<b>%1</b>: task <b>%2</b> over <code>%3</code>, %4 of %5 fields merged")
                     .arg(QFileInfo(QString::fromStdString(r.path)).fileName().toHtmlEscaped(),
                          QString::fromStdString(r.task).toHtmlEscaped(),
                          QString::fromStdString(r.fields_file).toHtmlEscaped())
                     .arg(r.merge.fields.size())
                     .arg(r.fields_planned);
  if (!r.missing.empty())
    head += tr("; <b>missing</b> %1").arg(QString::fromStdString(r.missing).toHtmlEscaped());
  head += r.merge.has_truth
              ? tr(". Calibration: do the 68% / 95% intervals contain the truth as often as they "
                   "claim, and is z = (mean - truth) / sd distributed as N(0, 1)?")
              : tr(". The fields file records no truths, so there is no calibration to show.");
  header_->setText(head);
  fillSummary();
  fillFields();
  fillPlot();
}

void BatchResultsView::fillSummary() {
  const auto& m = results_->merge;
  const QStringList columns = {tr("parameter"),    tr("fields"),    tr("coverage 68%"),
                               tr("coverage 95%"), tr("mean of z"), tr("sd of z")};
  summary_->setColumnCount(int(columns.size()));
  summary_->setHorizontalHeaderLabels(columns);
  summary_->setRowCount(int(m.summary.size()));
  for (std::size_t p = 0; p < m.summary.size(); ++p) {
    const ds::ParameterCalibration& s = m.summary[p];
    const int row = int(p);
    summary_->setItem(row, 0, read_only_cell(QString::fromStdString(s.name)));
    summary_->setItem(row, 1, read_only_cell(QString::number(s.fields)));
    // Coverage +- its binomial standard error, next to what a calibrated posterior gives.
    summary_->setItem(row, 2,
                      read_only_cell(tr("%1 +- %2 (nominal 0.68 +- %3)")
                                         .arg(number(s.inner_coverage, 3), number(s.inner_se, 3),
                                              number(s.inner_nominal_se, 3))));
    summary_->setItem(row, 3,
                      read_only_cell(tr("%1 +- %2 (nominal 0.95 +- %3)")
                                         .arg(number(s.outer_coverage, 3), number(s.outer_se, 3),
                                              number(s.outer_nominal_se, 3))));
    summary_->setItem(row, 4, read_only_cell(number(s.z_mean, 3)));
    summary_->setItem(row, 5, read_only_cell(number(s.z_sd, 3)));
  }
}

void BatchResultsView::fillFields() {
  const auto& r = *results_;
  QStringList columns = {tr("field")};
  for (const char* name : kSymbols) {
    if (r.merge.has_truth) columns << tr("%1 truth").arg(QLatin1String(name));
    columns << tr("%1 mean +- sd").arg(QLatin1String(name))
            << tr("%1 68%").arg(QLatin1String(name));
    if (r.merge.has_truth) columns << tr("%1 z").arg(QLatin1String(name));
    if (r.chains)
      columns << tr("%1 R-hat").arg(QLatin1String(name)) << tr("%1 ESS").arg(QLatin1String(name));
  }
  if (r.chains) columns << tr("divergences");
  fields_->setColumnCount(int(columns.size()));
  fields_->setHorizontalHeaderLabels(columns);
  fields_->setRowCount(int(r.merge.fields.size()));
  for (std::size_t f = 0; f < r.merge.fields.size(); ++f) {
    const ds::FieldCalibration& field = r.merge.fields[f];
    int col = 0;
    const int row = int(f);
    fields_->setItem(row, col++, read_only_cell(QString::number(field.index)));
    for (const ds::ParameterCheck& c : field.parameters) {
      if (r.merge.has_truth) fields_->setItem(row, col++, read_only_cell(number(c.truth)));
      fields_->setItem(row, col++,
                       read_only_cell(tr("%1 +- %2").arg(number(c.mean), number(c.sd))));
      QTableWidgetItem* interval =
          read_only_cell(QStringLiteral("[%1, %2]").arg(number(c.inner_lo), number(c.inner_hi)));
      if (r.merge.has_truth && !c.inside_inner) {
        interval->setForeground(QColor(190, 40, 40));
        interval->setToolTip(tr("the truth lies outside the 68% interval"));
      }
      fields_->setItem(row, col++, interval);
      if (r.merge.has_truth) fields_->setItem(row, col++, read_only_cell(number(c.z, 2)));
      if (r.chains) {
        QTableWidgetItem* rhat = read_only_cell(number(c.r_hat, 3));
        if (c.r_hat > 1.01) rhat->setForeground(QColor(190, 40, 40));
        fields_->setItem(row, col++, rhat);
        fields_->setItem(row, col++, read_only_cell(number(c.ess_bulk, 0)));
      }
    }
    if (r.chains) fields_->setItem(row, col++, read_only_cell(QString::number(field.divergences)));
  }
}

void BatchResultsView::fillPlot() {
  const auto& m = results_->merge;
  plot_->plotLayout()->clear();
  if (!m.has_truth || m.fields.empty()) {
    auto* text = new QCPTextElement(plot_, tr("no truths recorded: no calibration plot"));
    plot_->plotLayout()->addElement(0, 0, text);
    plot_->replot();
    return;
  }
  plot_->setAutoAddPlottableToLegend(false);
  for (int p = 0; p < 2; ++p) {
    auto* rect = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(0, p, rect);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    x->setLabel(tr("true %1").arg(QLatin1String(kSymbols[p])));
    y->setLabel(tr("posterior mean of %1 (68%)").arg(QLatin1String(kSymbols[p])));
    // Points whose 68% interval holds the truth, and those whose interval misses it.
    QVector<double> tx[2], my[2], err_lo[2], err_hi[2];
    double lo = 1e300, hi = -1e300;
    for (const auto& field : m.fields) {
      const ds::ParameterCheck& c = field.parameters[std::size_t(p)];
      const int g = c.inside_inner ? 0 : 1;
      tx[g] << c.truth;
      my[g] << c.mean;
      err_lo[g] << std::max(0.0, c.mean - c.inner_lo);
      err_hi[g] << std::max(0.0, c.inner_hi - c.mean);
      lo = std::min({lo, c.truth, c.inner_lo});
      hi = std::max({hi, c.truth, c.inner_hi});
    }
    const QColor colours[2] = {QColor(40, 90, 170), QColor(200, 60, 40)};
    const QString names[2] = {tr("truth inside 68%"), tr("truth outside 68%")};
    for (int g = 0; g < 2; ++g) {
      QCPGraph* graph = plot_->addGraph(x, y);
      graph->setName(names[g]);
      graph->setLineStyle(QCPGraph::lsNone);
      graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colours[g], 5));
      graph->setData(tx[g], my[g]);
      auto* bars = new QCPErrorBars(x, y);
      bars->setDataPlottable(graph);
      bars->setData(err_lo[g], err_hi[g]);
      bars->setPen(QPen(colours[g]));
      bars->removeFromLegend();
    }
    const double pad = 0.05 * std::max(hi - lo, 1e-3);
    QCPGraph* diagonal = plot_->addGraph(x, y);
    diagonal->setName(tr("mean = truth"));
    diagonal->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    diagonal->setData(QVector<double>{lo - pad, hi + pad}, QVector<double>{lo - pad, hi + pad});
    x->setRange(lo - pad, hi + pad);
    y->setRange(lo - pad, hi + pad);
  }
  // One legend under both panels (the first panel's entries; the second's are the same).
  auto* legend = new QCPLegend;
  plot_->plotLayout()->addElement(1, 0, legend);
  plot_->plotLayout()->setRowStretchFactor(1, 0.001);
  legend->setLayer(QStringLiteral("legend"));
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  legend->setBorderPen(Qt::NoPen);
  for (int g = 0; g < 3; ++g) legend->addItem(new QCPPlottableLegendItem(legend, plot_->graph(g)));
  plot_->replot();
}

}  // namespace dsui
