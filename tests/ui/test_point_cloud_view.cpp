// GUI tests of dsui::PointCloudView under Xvfb + Mesa llvmpipe. They look at the pixels, because
// the classic failure of embedding VTK in a QOpenGLWidget is a black or empty pane that no API
// call reports.

#include "ui/cloud_view/point_cloud_view.h"

#include "gui_test_support.h"

#include <QFileInfo>
#include <QImage>
#include <QMouseEvent>
#include <QSurfaceFormat>
#include <QTest>
#include <QWheelEvent>

#include <cmath>
#include <memory>
#include <random>

namespace {

// Halo-like clusters: Gaussian blobs around random centres, wrapped into the periodic box.
std::shared_ptr<dsui::PointSet> clusteredSet(unsigned seed, int n_points, int n_centres) {
  auto set = std::make_shared<dsui::PointSet>();
  set->box_size = 100;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.f, 100.f);
  std::normal_distribution<float> scatter(0.f, 3.f);
  std::vector<std::array<float, 3>> centres(n_centres);
  for (auto& c : centres) c = {uniform(rng), uniform(rng), uniform(rng)};
  for (int i = 0; i < n_points; ++i) {
    const auto& c = centres[i % n_centres];
    std::array<float, 3> p;
    for (int a = 0; a < 3; ++a) p[a] = std::fmod(c[a] + scatter(rng) + 100.f, 100.f);
    set->positions.push_back(p);
    set->scalars.push_back(12.f + float(i % n_centres) / n_centres * 3.f);  // "log10 mass"
  }
  return set;
}

struct Stats {
  int distinct_colours = 0;
  double bright_fraction = 0;  // pixels well above the dark background
  bool all_black = true;
};

Stats imageStats(const QImage& raw) {
  const QImage img = raw.convertToFormat(QImage::Format_RGB32);
  Stats s;
  s.distinct_colours = dstest::distinct_colours(img);
  qint64 bright = 0;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      const QRgb c = img.pixel(x, y) & 0xffffff;
      if (c != 0) s.all_black = false;
      if (qGray(c) > 70) ++bright;
    }
  }
  s.bright_fraction = double(bright) / (double(img.width()) * img.height());
  return s;
}

// Fraction of pixels whose colour changed noticeably between two grabs.
double changedFraction(const QImage& a_raw, const QImage& b_raw) {
  const QImage a = a_raw.convertToFormat(QImage::Format_RGB32);
  const QImage b = b_raw.convertToFormat(QImage::Format_RGB32);
  if (a.size() != b.size()) return 1.0;
  qint64 changed = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      const QRgb p = a.pixel(x, y), q = b.pixel(x, y);
      const int d = std::abs(qRed(p) - qRed(q)) + std::abs(qGreen(p) - qGreen(q)) +
                    std::abs(qBlue(p) - qBlue(q));
      if (d > 40) ++changed;
    }
  }
  return double(changed) / (double(a.width()) * a.height());
}

void save(const QImage& img, const QString& name) {
  QVERIFY(QFileInfo::exists(dstest::save_screenshot(img, name)));
}

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button,
               Qt::MouseButtons buttons) {
  QMouseEvent event(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QCoreApplication::sendEvent(w, &event);
}

}  // namespace

class TestPointCloudView : public QObject {
  Q_OBJECT

 public:
  // Runs before QTEST_MAIN creates the application, as the app's main() does (gui-stack notes).
  static void initMain() {
    qputenv("QT_QPA_PLATFORM", "xcb");
    qputenv("QT_XCB_GL_INTEGRATION", "xcb_glx");
    QSurfaceFormat::setDefaultFormat(dsui::PointCloudView::recommendedFormat());
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
  }

 private:
  // A shown 640x480 view that has rendered `set` at least once.
  std::unique_ptr<dsui::PointCloudView> shownView(std::shared_ptr<dsui::PointSet> set) {
    auto view = std::make_unique<dsui::PointCloudView>();
    view->resize(640, 480);
    view->show();
    if (!QTest::qWaitForWindowExposed(view.get())) return nullptr;
    view->setPoints(std::move(set));
    if (!QTest::qWaitFor([&] { return view->hasRenderedPoints(); }, 10000)) return nullptr;
    return view;
  }

 private Q_SLOTS:
  void rendersClusteredPoints() {
    auto view = std::make_unique<dsui::PointCloudView>();
    view->resize(640, 480);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view.get()));
    QVERIFY(!view->hasRenderedPoints());
    view->setPoints(clusteredSet(7, 3000, 60));
    QTRY_VERIFY_WITH_TIMEOUT(view->hasRenderedPoints(), 10000);
    QCOMPARE(view->points()->positions.size(), std::size_t(3000));

    const QImage img = view->grabFramebuffer();
    save(img, "point_cloud_clusters");
    QCOMPARE(img.width(), 640);
    const Stats s = imageStats(img);
    qInfo("distinct colours %d, bright fraction %.3f", s.distinct_colours, s.bright_fraction);
    QVERIFY2(!s.all_black, "the pane is black: VTK's frame never reached the widget");
    QVERIFY(s.distinct_colours > 20);
    QVERIFY(s.bright_fraction > 0.02);
  }

  void dragRotatesCamera() {
    auto view = shownView(clusteredSet(7, 3000, 60));
    QVERIFY(view);
    const QImage before = view->grabFramebuffer();
    sendMouse(view.get(), QEvent::MouseButtonPress, {320, 240}, Qt::LeftButton, Qt::LeftButton);
    for (int step = 1; step <= 10; ++step) {
      sendMouse(view.get(), QEvent::MouseMove, {320.0 + 15 * step, 240.0 + 4 * step}, Qt::NoButton,
                Qt::LeftButton);
    }
    sendMouse(view.get(), QEvent::MouseButtonRelease, {470, 280}, Qt::LeftButton, Qt::NoButton);
    const QImage after = view->grabFramebuffer();
    save(after, "point_cloud_rotated");
    const double changed = changedFraction(before, after);
    qInfo("changed fraction after drag %.3f", changed);
    QVERIFY(changed > 0.03);
    QVERIFY(imageStats(after).bright_fraction > 0.02);
  }

  void wheelZooms() {
    auto view = shownView(clusteredSet(7, 3000, 60));
    QVERIFY(view);
    const QImage before = view->grabFramebuffer();
    const QPointF centre(320, 240);
    for (int notch = 0; notch < 3; ++notch) {
      QWheelEvent wheel(centre, view->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton,
                        Qt::NoModifier, Qt::NoScrollPhase, false);
      QCoreApplication::sendEvent(view.get(), &wheel);
    }
    const QImage after = view->grabFramebuffer();
    save(after, "point_cloud_zoomed");
    const double changed = changedFraction(before, after);
    qInfo("changed fraction after zoom %.3f", changed);
    QVERIFY(changed > 0.03);
  }

  void replacingPointsChangesImage() {
    auto view = shownView(clusteredSet(7, 3000, 60));
    QVERIFY(view);
    const QImage before = view->grabFramebuffer();
    auto other = clusteredSet(12345, 2000, 25);
    other->scalars.clear();  // uniform colour path
    view->setPoints(other);
    QVERIFY(!view->hasRenderedPoints());
    QTRY_VERIFY_WITH_TIMEOUT(view->hasRenderedPoints(), 10000);
    QCOMPARE(view->points(), std::shared_ptr<const dsui::PointSet>(other));
    const QImage after = view->grabFramebuffer();
    save(after, "point_cloud_replaced");
    const double changed = changedFraction(before, after);
    qInfo("changed fraction after replacement %.3f", changed);
    QVERIFY(changed > 0.03);
    QVERIFY(imageStats(after).bright_fraction > 0.01);
  }

  void recreateWidget() {
    for (int round = 0; round < 2; ++round) {
      auto view = shownView(clusteredSet(100 + round, 1500, 30));
      QVERIFY(view);
      const Stats s = imageStats(view->grabFramebuffer());
      QVERIFY(!s.all_black);
      QVERIFY(s.bright_fraction > 0.01);
      view.reset();  // releases VTK's GL resources with the context current
      QCoreApplication::processEvents();
    }
  }
};

QTEST_MAIN(TestPointCloudView)
#include "test_point_cloud_view.moc"
