// Helpers shared by the GUI tests.
#pragma once

#include <QDir>
#include <QImage>
#include <QSet>
#include <QString>

namespace dstest {

inline int distinct_colours(const QImage& image) {
  QSet<QRgb> colours;
  const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < rgb.height(); ++y)
    for (int x = 0; x < rgb.width(); ++x) colours.insert(rgb.pixel(x, y));
  return colours.size();
}

// Saves a screenshot under the test output directory; returns its path.
inline QString save_screenshot(const QImage& image, const QString& name) {
  QDir().mkpath(QStringLiteral(DS_TEST_OUTPUT_DIR));
  const QString path = QStringLiteral(DS_TEST_OUTPUT_DIR) + QLatin1Char('/') + name + ".png";
  image.save(path);
  return path;
}

}  // namespace dstest
