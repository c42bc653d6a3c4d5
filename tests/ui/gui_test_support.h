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
//
// Tests assert on longestDelivery(), not on worst(): work done on the UI thread shows as one
// long delivery (a slot, a timer, a metacall), whereas a repaint of the whole window under a
// loaded X server is many short ones (one per widget) that can add up to a long gap without
// anything being wrong. worst() is logged, as the latency a user feels.
class StallWatch : public QObject {
 public:
  // A single delivery longer than this is work on the UI thread, not drawing: the slowest
  // per-widget paint or replot measured on a loaded 2-core machine under Xvfb is ~35 ms (CI,
  // stop 23: a 122 ms gap made of 21, 20, 19, 18 and 17 ms paints of five widgets).
  static constexpr qint64 kMaxDeliveryMs = 200;

  StallWatch() {
    ticker_.setInterval(5);
    QObject::connect(&ticker_, &QTimer::timeout, [this] {
      const qint64 now = clock_.elapsed();
      if (now - last_ > worst_) {
        worst_ = now - last_, worst_at_ = now;
        worst_events_ = events_;
        worst_events_.push_back({now, -1, "the watchdog tick", QString()});
      }
      for (std::size_t i = 0; i < events_.size(); ++i) {
        const qint64 end = i + 1 < events_.size() ? events_[i + 1].at : now;
        if (end - events_[i].at > longest_) {
          longest_ = end - events_[i].at;
          longest_what_ =
              QStringLiteral("event %1 to %2").arg(events_[i].type).arg(events_[i].receiver());
        }
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
  // The longest single event delivery on the UI thread while the watch ran, and what it was.
  qint64 longestDelivery() const { return longest_; }
  QString longestDeliveryWhat() const { return longest_what_; }
  // The watchdog assertion's message: both figures and where the worst gap went.
  QString report() const {
    return QStringLiteral(
               "longest single delivery %1 ms (%2); longest gap between ticks %3 ms, where it "
               "went: %4")
        .arg(longest_)
        .arg(longest_what_)
        .arg(worst_)
        .arg(culprits());
  }
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
  qint64 last_ = 0, worst_ = 0, worst_at_ = 0, longest_ = 0;
  QString longest_what_;
  std::vector<Delivery> events_, worst_events_;
};

}  // namespace dstest
