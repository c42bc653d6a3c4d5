#include "ui/plots/plot_export.h"

#include <qcustomplot.h>

#include <QFile>
#include <QSaveFile>
#include <QSvgGenerator>
#include <algorithm>

namespace dsui {

bool export_plot(QCustomPlot* plot, const QString& path, PlotFormat format, const QString& title) {
  const QString part = path + QStringLiteral(".part");
  QFile::remove(part);
  bool ok = false;
  switch (format) {
    case PlotFormat::Png:
      ok = plot->savePng(part, 0, 0, 2.0);
      break;
    case PlotFormat::Pdf:
      ok = plot->savePdf(part, 0, 0, QCP::epAllowCosmetic, QStringLiteral("Diffuscope"), title);
      break;
    case PlotFormat::Svg: {
      QSvgGenerator svg;
      svg.setFileName(part);
      svg.setSize(plot->size());
      svg.setViewBox(QRect(QPoint(0, 0), plot->size()));
      svg.setTitle(title);
      QCPPainter painter;
      if (painter.begin(&svg)) {
        plot->toPainter(&painter, plot->width(), plot->height());
        ok = painter.end();
      }
      break;
    }
  }
  if (!ok) {
    QFile::remove(part);
    return false;
  }
  QFile::remove(path);
  return QFile::rename(part, path);
}

QStringList export_plot_all(QCustomPlot* plot, const QString& base, const QString& title) {
  QStringList written;
  const std::pair<PlotFormat, const char*> formats[] = {
      {PlotFormat::Png, ".png"}, {PlotFormat::Pdf, ".pdf"}, {PlotFormat::Svg, ".svg"}};
  for (const auto& [format, suffix] : formats) {
    const QString path = base + QLatin1String(suffix);
    if (export_plot(plot, path, format, title)) written << path;
  }
  return written;
}

bool write_csv(const QString& path, const QStringList& header,
               const std::vector<std::vector<double>>& columns) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  QByteArray text = header.join(QLatin1Char(',')).toUtf8() + '\n';
  std::size_t rows = 0;
  for (const auto& c : columns) rows = std::max(rows, c.size());
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c) text += ',';
      if (r < columns[c].size()) text += QByteArray::number(columns[c][r], 'g', 17);
    }
    text += '\n';
  }
  file.write(text);
  return file.commit();
}

}  // namespace dsui
