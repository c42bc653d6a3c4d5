#include "ui/report/report_figures.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "ui/plots/plot_export.h"
#include "ui/plots/plot_style.h"

namespace dsui {

namespace {

[[noreturn]] void fail(const QString& path, const QString& reason) {
  throw std::runtime_error((path + QStringLiteral(": ") + reason).toStdString());
}

using Columns = QMap<QString, QVector<double>>;

Columns read_csv(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) fail(path, QStringLiteral("cannot open"));
  const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
  if (lines.isEmpty()) fail(path, QStringLiteral("empty CSV"));
  const QStringList header = lines[0].split(QLatin1Char(','));
  QVector<QVector<double>> values(header.size());
  for (int r = 1; r < lines.size(); ++r) {
    if (lines[r].isEmpty()) continue;
    const QStringList cells = lines[r].split(QLatin1Char(','));
    for (int c = 0; c < cells.size() && c < header.size(); ++c) {
      const QString cell = cells[c].trimmed();
      if (cell.isEmpty()) continue;
      if (cell == QLatin1String("nan")) {
        values[c].push_back(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      bool ok = false;
      const double v = cell.toDouble(&ok);
      if (!ok) fail(path, QStringLiteral("row %1 column '%2': '%3' is not a number").arg(r).arg(header[c], cell));
      values[c].push_back(v);
    }
  }
  Columns columns;
  for (int c = 0; c < header.size(); ++c) columns[header[c]] = values[c];
  return columns;
}

QColor palette(int i) {
  static const QColor colours[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                                   QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                                   QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                                   QColor(23, 190, 207)};
  return colours[((i % 10) + 10) % 10];
}

const QVector<double>& column(const Columns& columns, const QString& name, const QString& csv) {
  auto it = columns.find(name);
  if (it == columns.end()) fail(csv, QStringLiteral("no column '%1'").arg(name));
  return *it;
}

void draw_panel(QCustomPlot* plot, QCPAxisRect* rect, const QJsonObject& panel,
                const Columns& columns, const QString& csv) {
  QCPAxis* x = rect->axis(QCPAxis::atBottom);
  QCPAxis* y = rect->axis(QCPAxis::atLeft);
  if (panel[QStringLiteral("log_x")].toBool()) set_log_axis(x, QString(), false);
  if (panel[QStringLiteral("log_y")].toBool()) set_log_axis(y);
  x->setLabel(panel[QStringLiteral("x_label")].toString());
  y->setLabel(panel[QStringLiteral("y_label")].toString());
  const QJsonArray series = panel[QStringLiteral("series")].toArray();
  int labelled = 0;
  for (const auto& s : series)
    if (!s.toObject()[QStringLiteral("label")].toString().isEmpty() &&
        s.toObject()[QStringLiteral("style")].toString() != QLatin1String("map"))
      ++labelled;
  QCPLegend* legend = nullptr;
  if (labelled > 0 && labelled <= 8) {
    legend = new QCPLegend;
    const QString where = panel[QStringLiteral("legend")].toString();
    const Qt::Alignment corner =
        where == QLatin1String("bottom_right") ? (Qt::AlignBottom | Qt::AlignRight)
        : where == QLatin1String("top_left")   ? (Qt::AlignTop | Qt::AlignLeft)
                                               : (Qt::AlignTop | Qt::AlignRight);
    rect->insetLayout()->addElement(legend, corner);
    legend->setLayer(QStringLiteral("legend"));
    QFont font = legend->font();
    font.setPointSize(7);
    legend->setFont(font);
    legend->setBrush(QColor(255, 255, 255, 200));
  }
  bool has_map = false;
  for (const auto& value : series) {
    const QJsonObject s = value.toObject();
    const QString style = s[QStringLiteral("style")].toString();
    const QString label = s[QStringLiteral("label")].toString();
    const QColor colour = palette(s[QStringLiteral("color")].toInt());
    const QVector<double>& xs = column(columns, s[QStringLiteral("x")].toString(), csv);
    if (style == QLatin1String("map")) {
      const QVector<double>& ys = column(columns, s[QStringLiteral("y")].toString(), csv);
      const QVector<double>& zs = column(columns, s[QStringLiteral("z")].toString(), csv);
      const int size = s[QStringLiteral("size")].toInt();
      auto* map = new QCPColorMap(x, y);
      map->data()->setSize(size, size);
      map->data()->setRange(QCPRange(0, size - 1), QCPRange(0, size - 1));
      for (int i = 0; i < zs.size() && i < xs.size() && i < ys.size(); ++i)
        map->data()->setCell(int(xs[i]), int(ys[i]), zs[i]);
      QCPColorGradient gradient;  // blue - white - red: negative, no, positive correlation
      gradient.setColorStopAt(0.0, QColor(33, 102, 172));
      gradient.setColorStopAt(0.5, QColor(247, 247, 247));
      gradient.setColorStopAt(1.0, QColor(178, 24, 43));
      map->setGradient(gradient);
      map->setInterpolate(false);
      const QJsonArray range = s[QStringLiteral("z_range")].toArray();
      map->setDataRange(QCPRange(range[0].toDouble(), range[1].toDouble()));
      has_map = true;
      continue;
    }
    if (style == QLatin1String("band")) {
      const QVector<double>& lo = column(columns, s[QStringLiteral("y_lo")].toString(), csv);
      const QVector<double>& hi = column(columns, s[QStringLiteral("y_hi")].toString(), csv);
      QCPGraph* low = plot->addGraph(x, y);
      QCPGraph* high = plot->addGraph(x, y);
      low->setData(xs.mid(0, lo.size()), lo);
      high->setData(xs.mid(0, hi.size()), hi);
      QColor fill = colour;
      fill.setAlpha(50);
      low->setPen(Qt::NoPen);
      high->setPen(Qt::NoPen);
      high->setBrush(fill);
      high->setChannelFillGraph(low);
      low->removeFromLegend();
      high->removeFromLegend();
      if (legend && !label.isEmpty()) high->addToLegend(legend);
      high->setName(label);
      continue;
    }
    const QVector<double>& ys = column(columns, s[QStringLiteral("y")].toString(), csv);
    QCPGraph* graph = plot->addGraph(x, y);
    graph->removeFromLegend();
    graph->setName(label);
    // Points in increasing x (the error bars follow the same order).
    const int count = int(std::min(xs.size(), ys.size()));
    QVector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return xs[a] < xs[b]; });
    QVector<double> gx, gy;
    for (int i : order) gx.push_back(xs[i]), gy.push_back(ys[i]);
    QPen pen(colour, 1.6);
    if (style == QLatin1String("dashed")) pen.setStyle(Qt::DashLine);
    graph->setPen(pen);
    if (style == QLatin1String("points") || style == QLatin1String("errorbars")) {
      graph->setLineStyle(QCPGraph::lsNone);
      graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 6));
    }
    if (style == QLatin1String("step")) {
      graph->setLineStyle(QCPGraph::lsStepLeft);
      if (gx.size() >= 2) {  // close the last bin
        gx.push_back(2 * gx.back() - gx[gx.size() - 2]);
        gy.push_back(gy.back());
      }
    }
    graph->setData(gx, gy, true);
    if (style == QLatin1String("errorbars")) {
      const QVector<double>& lo = column(columns, s[QStringLiteral("y_lo")].toString(), csv);
      const QVector<double>& hi = column(columns, s[QStringLiteral("y_hi")].toString(), csv);
      auto* bars = new QCPErrorBars(x, y);
      bars->setDataPlottable(graph);
      QVector<double> minus, plus;
      for (int k = 0; k < count; ++k) {
        const int i = order[k];
        minus.push_back(i < lo.size() ? ys[i] - lo[i] : 0.0);
        plus.push_back(i < hi.size() ? hi[i] - ys[i] : 0.0);
      }
      bars->setData(minus, plus);
      bars->setPen(QPen(colour, 1.0));
      bars->removeFromLegend();
    }
    if (legend && !label.isEmpty()) graph->addToLegend(legend);
  }
  x->rescale(false);
  y->rescale(false);
  if (has_map) {
    x->setRange(-0.5, x->range().upper + 0.5);
    y->setRange(-0.5, y->range().upper + 0.5);
  } else {
    for (QCPAxis* axis : {x, y}) {
      if (axis->scaleType() == QCPAxis::stLogarithmic) continue;
      const QCPRange r = axis->range();
      const double pad = 0.04 * (r.size() > 0 ? r.size() : 1.0);
      axis->setRange(r.lower - pad, r.upper + pad);
    }
  }
  if (panel.contains(QStringLiteral("x_range"))) {
    const QJsonArray r = panel[QStringLiteral("x_range")].toArray();
    x->setRange(r[0].toDouble(), r[1].toDouble());
  }
  if (panel.contains(QStringLiteral("y_range"))) {
    const QJsonArray r = panel[QStringLiteral("y_range")].toArray();
    y->setRange(r[0].toDouble(), r[1].toDouble());
  }
}

}  // namespace

ReportFigureResult render_report_figures(const QString& report_dir) {
  const QDir dir(report_dir);
  const QString json_path = dir.filePath(QStringLiteral("report.json"));
  QFile file(json_path);
  if (!file.open(QIODevice::ReadOnly)) fail(json_path, QStringLiteral("cannot open (not a report folder?)"));
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
  if (doc.isNull() || !doc.isObject()) fail(json_path, QStringLiteral("malformed JSON: ") + error.errorString());
  const QJsonArray figures = doc.object()[QStringLiteral("figures")].toArray();
  dir.mkpath(QStringLiteral("figures"));
  ReportFigureResult result;
  for (const auto& value : figures) {
    const QJsonObject figure = value.toObject();
    const QString name = figure[QStringLiteral("name")].toString();
    const QString csv = dir.filePath(figure[QStringLiteral("csv")].toString());
    const Columns columns = read_csv(csv);
    const QJsonArray panels = figure[QStringLiteral("panels")].toArray();
    const bool rows = figure[QStringLiteral("layout")].toString() == QLatin1String("rows");
    auto plot = std::make_unique<QCustomPlot>();
    const int count = std::max<int>(1, int(panels.size()));
    plot->resize(rows ? 640 : 480 * count, rows ? 300 * count : 420);
    plot->plotLayout()->clear();
    auto* title = new QCPTextElement(plot.get(), figure[QStringLiteral("title")].toString(),
                                     QFont(QStringLiteral("sans"), 11, QFont::Bold));
    plot->plotLayout()->addElement(0, 0, title);
    auto* grid = new QCPLayoutGrid;
    plot->plotLayout()->addElement(1, 0, grid);
    for (int p = 0; p < panels.size(); ++p) {
      const QJsonObject panel = panels[p].toObject();
      auto* rect = new QCPAxisRect(plot.get());
      if (rows)
        grid->addElement(p, 0, rect);
      else
        grid->addElement(0, p, rect);
      const QString panel_title = panel[QStringLiteral("title")].toString();
      if (!panel_title.isEmpty()) {
        rect->axis(QCPAxis::atTop)->setVisible(true);
        rect->axis(QCPAxis::atTop)->setTickLabels(false);
        rect->axis(QCPAxis::atTop)->setTicks(false);
        rect->axis(QCPAxis::atTop)->setLabel(panel_title);
      }
      draw_panel(plot.get(), rect, panel, columns, csv);
    }
    plot->replot(QCustomPlot::rpImmediateRefresh);
    const QString base = dir.filePath(QStringLiteral("figures/") + name);
    for (const auto& [format, suffix] :
         {std::pair{PlotFormat::Png, QStringLiteral(".png")}, std::pair{PlotFormat::Pdf, QStringLiteral(".pdf")}}) {
      if (!export_plot(plot.get(), base + suffix, format, figure[QStringLiteral("title")].toString()))
        fail(base + suffix, QStringLiteral("could not be written"));
      result.written << base + suffix;
    }
    result.figures << name;
  }
  return result;
}

ReportFigureResult render_report_figures_offscreen(const QString& report_dir) {
  if (QApplication::instance() != nullptr) return render_report_figures(report_dir);
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  // Without XDG_RUNTIME_DIR Qt makes /tmp/runtime-$USER and leaves it: use a private folder that
  // goes away with this call instead.
  std::unique_ptr<QTemporaryDir> runtime;
  if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
    runtime = std::make_unique<QTemporaryDir>();
    if (runtime->isValid()) qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime->path()));
  }
  static int argc = 1;
  static char name[] = "diffuscope-cli";
  static char* argv[] = {name, nullptr};
  ReportFigureResult result;
  {
    QApplication app(argc, argv);
    result = render_report_figures(report_dir);
  }
  if (runtime) qunsetenv("XDG_RUNTIME_DIR");
  return result;
}

}  // namespace dsui
