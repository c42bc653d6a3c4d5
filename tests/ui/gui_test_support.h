// Helpers shared by the GUI tests.
#pragma once

#include <QDir>
#include <QElapsedTimer>
#include <QImage>
#include <QObject>
#include <QSet>
#include <QSettings>
#include <QString>
#include <QTest>
#include <QTimer>
#include <functional>

namespace dstest {

// Processes events until done() or the timeout; false on timeout.
inline bool wait_for(const std::function<bool()>& done, int timeout_ms) {
  QElapsedTimer timer;
  timer.start();
  while (!done()) {
    if (timer.elapsed() > timeout_ms) return false;
    QTest::qWait(10);
  }
  return true;
}

// The app starts on the emulator with an ensemble behind it; these tests exercise the mock
// path and keep the cores for themselves: a mock source and the smallest ensemble.
inline void use_mock_start_settings() {
  QSettings store;
  store.clear();
  store.setValue("field/emulator", false);
  store.setValue("ensemble/size", 2);
  store.setValue("ensemble/steps", 2);
}

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

// The UI thread's longest stall while the watch lives: the worst gap between ticks of a 5 ms
// timer on the UI thread (the GUI tests' watchdog).
class StallWatch {
 public:
  StallWatch() {
    ticker_.setInterval(5);
    QObject::connect(&ticker_, &QTimer::timeout, [this] {
      const qint64 now = clock_.elapsed();
      if (now - last_ > worst_) worst_ = now - last_, worst_at_ = now;
      last_ = now;
    });
    clock_.start();
    ticker_.start();
  }
  void stop() { ticker_.stop(); }
  qint64 worst() const { return worst_; }
  qint64 worstAt() const { return worst_at_; }  // ms since the watch started
  qint64 elapsed() const { return clock_.elapsed(); }

 private:
  QTimer ticker_;
  QElapsedTimer clock_;
  qint64 last_ = 0, worst_ = 0, worst_at_ = 0;
};

}  // namespace dstest
