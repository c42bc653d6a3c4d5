// Small pieces every QCustomPlot view of the app shares.
#pragma once

#include <qcustomplot.h>

#include <QString>
#include <QVector>
#include <vector>

namespace dsui {

inline QVector<double> to_qvector(const std::vector<double>& v) {
  return QVector<double>(v.begin(), v.end());
}

// A log10 axis with ticks at powers of ten ("1e-2" style labels when `powers` is true).
inline void set_log_axis(QCPAxis* axis, const QString& label = QString(), bool powers = true) {
  axis->setScaleType(QCPAxis::stLogarithmic);
  axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog));
  if (powers) {
    axis->setNumberFormat("eb");
    axis->setNumberPrecision(0);
  }
  if (!label.isEmpty()) axis->setLabel(label);
}

}  // namespace dsui
