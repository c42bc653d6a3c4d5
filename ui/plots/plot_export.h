// The one export path of every plot: PNG (2x), PDF and SVG written atomically (a temporary name,
// then a rename: never half a file), and CSV tables of the data behind a plot.
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

class QCustomPlot;

namespace dsui {

enum class PlotFormat { Png, Pdf, Svg };
inline constexpr PlotFormat kPlotFormats[] = {PlotFormat::Png, PlotFormat::Pdf, PlotFormat::Svg};

// Writes `plot` to `path` in `format`; false (and no file) when it cannot be written.
bool export_plot(QCustomPlot* plot, const QString& path, PlotFormat format, const QString& title);
// base + ".png", ".pdf" and ".svg"; returns the paths written.
QStringList export_plot_all(QCustomPlot* plot, const QString& base, const QString& title);

// A CSV file: one header line, then rows of numbers (full precision); written atomically.
// Columns of unequal length are padded with empty cells. False when it cannot be written.
bool write_csv(const QString& path, const QStringList& header,
               const std::vector<std::vector<double>>& columns);

}  // namespace dsui
