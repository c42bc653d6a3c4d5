// The figures of a validation report (core/include/diffuscope/report/report.h): report.json lists
// each figure as panels of series drawn from the columns of a CSV table; this module draws them
// with QCustomPlot and writes DIR/figures/<name>.png and .pdf (atomically, ui/plots/plot_export.h).
// Torch-free and core-free: it reads only the files, so `diffuscope-cli report --figures-only DIR`
// can render the figures of a report computed elsewhere (a cluster node without Qt).
#pragma once

#include <QString>
#include <QStringList>

namespace dsui {

struct ReportFigureResult {
  QStringList written;  // paths of the PNG and PDF files
  QStringList figures;  // names of the figures drawn
};

// Needs a QApplication (QGuiApplication is not enough: QCustomPlot is a widget); see
// render_report_figures_offscreen. Throws std::runtime_error naming the file and the problem
// (missing or malformed report.json / CSV, a column a series names but the CSV lacks, a figure
// that could not be written).
ReportFigureResult render_report_figures(const QString& report_dir);

// The same from a program without a QApplication (the CLI): creates one on the "offscreen"
// platform when none exists (QT_QPA_PLATFORM=offscreen for this process unless already set).
ReportFigureResult render_report_figures_offscreen(const QString& report_dir);

}  // namespace dsui
