// Helpers shared by the GUI tests.
#pragma once

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEvent>
#include <QImage>
#include <QObject>
#include <QSet>
#include <QSettings>
#include <QString>
#include <QStringList>
#include <QTest>
#include <QTimer>
#include <algorithm>
#include <functional>
#include <vector>

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
// timer on the UI thread (the GUI tests' watchdog). It also says where that time went: an
// application-wide event filter notes when each event's delivery starts, and culprits() lists
// the longest deliveries within the worst gap (event type, receiver class and name, the time
// until the next delivery started; nested deliveries count towards the innermost).
class StallWatch : public QObject {
 public:
  StallWatch() {
    ticker_.setInterval(5);
    QObject::connect(&ticker_, &QTimer::timeout, [this] {
      const qint64 now = clock_.elapsed();
      if (now - last_ > worst_) {
        worst_ = now - last_, worst_at_ = now;
        worst_events_ = events_;
        worst_events_.push_back({now, -1, "the watchdog tick", QString()});
      }
      events_.clear();
      last_ = now;
    });
    clock_.start();
    ticker_.start();
    QCoreApplication::instance()->installEventFilter(this);
  }
  ~StallWatch() override { stop(); }
  void stop() {
    ticker_.stop();
    if (QCoreApplication::instance()) QCoreApplication::instance()->removeEventFilter(this);
  }
  qint64 worst() const { return worst_; }
  qint64 worstAt() const { return worst_at_; }  // ms since the watch started
  qint64 elapsed() const { return clock_.elapsed(); }
  // The longest deliveries in the worst gap, "<ms> ms: event <type> to <receiver>", longest first.
  QString culprits(int count = 6) const {
    std::vector<std::pair<qint64, QString>> spans;
    for (std::size_t i = 0; i + 1 < worst_events_.size(); ++i)
      spans.push_back(
          {worst_events_[i + 1].at - worst_events_[i].at, QStringLiteral("event %1 to %2")
                                                              .arg(worst_events_[i].type)
                                                              .arg(worst_events_[i].receiver())});
    std::stable_sort(spans.begin(), spans.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    QStringList out;
    for (std::size_t i = 0; i < spans.size() && int(i) < count; ++i)
      out << QStringLiteral("%1 ms: %2").arg(spans[i].first).arg(spans[i].second);
    return QStringLiteral("%1 deliveries; ").arg(spans.size()) + out.join(QStringLiteral("; "));
  }

 protected:
  bool eventFilter(QObject* receiver, QEvent* event) override {
    events_.push_back({clock_.elapsed(), int(event->type()), receiver->metaObject()->className(),
                       receiver->objectName()});
    return false;
  }

 private:
  struct Delivery {
    qint64 at;
    int type;
    const char* class_name;  // static, from the meta-object
    QString name;
    QString receiver() const {
      return name.isEmpty() ? QString::fromLatin1(class_name)
                            : QStringLiteral("%1 '%2'").arg(QLatin1String(class_name), name);
    }
  };
  QTimer ticker_;
  QElapsedTimer clock_;
  qint64 last_ = 0, worst_ = 0, worst_at_ = 0;
  std::vector<Delivery> events_, worst_events_;
};

}  // namespace dstest
