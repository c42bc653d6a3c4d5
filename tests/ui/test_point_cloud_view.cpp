// GUI tests of dsui::PointCloudView under Xvfb + Mesa llvmpipe. They look at the pixels, because
// the classic failure of embedding VTK in a QOpenGLWidget is a black or empty pane that no API
// call reports.

#include "ui/cloud_view/point_cloud_view.h"

#include "gui_test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QMouseEvent>
#include <QSurfaceFormat>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QWheelEvent>

#include <vtkAbstractArray.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>
#include <vtkStringArray.h>
#include <vtkXMLPolyDataReader.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "diffuscope/error.h"
#include "ui/cloud_view/catalogue_vtp.h"
#include "ui/cloud_view/point_cloud_panel.h"
#include "ui/halo_workspace.h"

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

// A catalogue like the halo emulator's: features x y z vx vy vz log10_mass in physical units
// (Mpc/h, km/s, log10 Msun/h), heavier halos rarer, velocities ~300 km/s per axis.
std::shared_ptr<dsui::PointSet> catalogueSet(unsigned seed, int n_points, bool velocities = true,
                                             bool mass = true) {
  auto set = clusteredSet(seed, n_points, 40);
  set->scalars.clear();
  std::mt19937 rng(seed + 1);
  std::normal_distribution<float> velocity(0.f, 300.f);
  std::exponential_distribution<float> excess(2.5f);
  std::vector<std::vector<float>> columns(7, std::vector<float>(std::size_t(n_points)));
  for (int i = 0; i < n_points; ++i) {
    for (int a = 0; a < 3; ++a) columns[a][i] = set->positions[i][a];
    for (int a = 3; a < 6; ++a) columns[a][i] = velocity(rng);
    columns[6][i] = 13.f + std::min(2.f, excess(rng));
  }
  const char* names[] = {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
  for (int j = 0; j < 7; ++j) {
    if (!velocities && j >= 3 && j < 6) continue;
    if (!mass && j == 6) continue;
    set->feature_names.push_back(names[j]);
    set->features.push_back(columns[j]);
  }
  return set;
}

std::array<double, 2> minMax(const std::vector<float>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return {double(*lo), double(*hi)};
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

// Waits until `view` has rendered its current state (options bump the rendered generation).
bool waitRendered(dsui::PointCloudView* view) {
  return QTest::qWaitFor([&] { return view->hasRenderedPoints(); }, 10000);
}

bool near(double a, double b, double tolerance = 1e-9) {
  return std::abs(a - b) <= tolerance * std::max(1.0, std::abs(b));
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

  void coloursByAChosenFeatureWithItsRangeOnTheColourBar() {
    auto set = catalogueSet(21, 2000);
    auto view = shownView(set);
    QVERIFY(view);
    const QStringList expected = {"x", "y", "z", "vx", "vy", "vz", "log10_mass", "speed"};
    QCOMPARE(view->colourQuantities(), expected);
    // Until something is chosen: mass, as before.
    QCOMPARE(view->colourQuantity(), QStringLiteral("log10_mass"));
    QVERIFY(view->colourBarVisible());
    QCOMPARE(view->colourBarTitle(), QStringLiteral("log10_mass\n[log10(Msun/h)]"));
    const auto check_range = [&](const QString& name, std::array<double, 2> want) {
      const auto got = view->colourBarRange();
      qInfo("%s: colour bar [%.6g, %.6g], data [%.6g, %.6g]", qPrintable(name), got[0], got[1],
            want[0], want[1]);
      QVERIFY2(near(got[0], want[0], 1e-6) && near(got[1], want[1], 1e-6), qPrintable(name));
    };
    check_range("log10_mass", minMax(*set->feature("log10_mass")));
    const QImage by_mass = view->grabFramebuffer();

    view->setColourQuantity("vx");
    QVERIFY(waitRendered(view.get()));
    QCOMPARE(view->colourQuantity(), QStringLiteral("vx"));
    QCOMPARE(view->colourBarTitle(), QStringLiteral("vx\n[km/s]"));
    check_range("vx", minMax(*set->feature("vx")));
    const QImage by_vx = view->grabFramebuffer();
    const double recoloured = changedFraction(by_mass, by_vx);
    qInfo("changed fraction mass -> vx colouring %.3f", recoloured);
    QVERIFY(recoloured > 0.005);

    view->setColourQuantity("speed");
    std::vector<float> speed;
    for (std::size_t i = 0; i < set->positions.size(); ++i) {
      const float vx = (*set->feature("vx"))[i], vy = (*set->feature("vy"))[i],
                  vz = (*set->feature("vz"))[i];
      speed.push_back(std::sqrt(vx * vx + vy * vy + vz * vz));
    }
    check_range("speed", minMax(speed));
    QCOMPARE(view->colourBarTitle(), QStringLiteral("speed\n[km/s]"));

    // The choice survives a new catalogue; the range follows the new data.
    auto next = catalogueSet(22, 1500);
    view->setColourQuantity("z");
    view->setPoints(next);
    QVERIFY(waitRendered(view.get()));
    QCOMPARE(view->colourQuantity(), QStringLiteral("z"));
    check_range("z of the next set", minMax(*next->feature("z")));

    view->setColourQuantity(QString());  // none: one colour, no bar
    QVERIFY(waitRendered(view.get()));
    QVERIFY(!view->colourBarVisible());
    QVERIFY(view->colourQuantity().isEmpty());
  }

  void panelControlsDriveTheView() {
    dsui::PointCloudPanel panel;
    panel.resize(800, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto set = catalogueSet(5, 1000);
    panel.view()->setPoints(set);
    QVERIFY(waitRendered(panel.view()));
    QComboBox* box = panel.colourBox();
    QCOMPARE(box->count(), 9);  // None + 7 features + speed
    QCOMPARE(box->currentData().toString(), QStringLiteral("log10_mass"));
    const int vy = box->findData(QStringLiteral("vy"));
    QVERIFY(vy > 0);
    box->setCurrentIndex(vy);
    Q_EMIT box->activated(vy);
    QCOMPARE(panel.view()->colourQuantity(), QStringLiteral("vy"));
    auto* arrows = panel.findChild<QCheckBox*>(QStringLiteral("cloudVelocities"));
    QVERIFY(arrows && arrows->isEnabled() && !arrows->isChecked());
    arrows->setChecked(true);
    QVERIFY(panel.view()->velocityArrowsShown());
    // A set without velocities disables the check box (and shows no arrows).
    panel.view()->setPoints(catalogueSet(6, 1000, /*velocities=*/false));
    QVERIFY(!arrows->isEnabled());
    QVERIFY(!panel.view()->velocityArrowsShown());
    auto* z = panel.findChild<QToolButton*>(QStringLiteral("cloudViewZ"));
    QVERIFY(z);
    z->click();
    const auto d = panel.view()->cameraDirection();
    QVERIFY(near(d[2], -1.0, 1e-9));
  }

  void sizeByMassChangesTheImage() {
    auto view = shownView(catalogueSet(31, 2000));
    QVERIFY(view);
    QVERIFY(view->canSizeByMass());
    QVERIFY(!view->sizeByMass());
    const QImage fixed = view->grabFramebuffer();
    view->setSizeByMass(true);
    QVERIFY(view->massSizesShown());
    QVERIFY(waitRendered(view.get()));
    const QImage sized = view->grabFramebuffer();
    save(sized, "point_cloud_size_by_mass");
    const double changed = changedFraction(fixed, sized);
    const Stats s = imageStats(sized);
    qInfo("size by mass: changed fraction %.3f, bright fraction %.3f (fixed size %.3f)", changed,
          s.bright_fraction, imageStats(fixed).bright_fraction);
    QVERIFY(changed > 0.01);
    QVERIFY(s.bright_fraction > 0.02);
    view->setSizeByMass(false);
    QVERIFY(waitRendered(view.get()));
    const double back = changedFraction(fixed, view->grabFramebuffer());
    qInfo("size by mass off again: changed fraction %.4f", back);
    QVERIFY(back < 0.001);

    // Without a mass column the option has nothing to read: the image stays.
    view->setPoints(catalogueSet(31, 2000, true, /*mass=*/false));
    QVERIFY(waitRendered(view.get()));
    QVERIFY(!view->canSizeByMass());
    const QImage massless = view->grabFramebuffer();
    view->setSizeByMass(true);
    QVERIFY(!view->massSizesShown());
    QVERIFY(waitRendered(view.get()));
    QVERIFY(changedFraction(massless, view->grabFramebuffer()) < 0.001);
  }

  void velocityArrowsOnlyWhenAskedAndOnlyWithVelocities() {
    auto set = catalogueSet(41, 1500);
    auto view = shownView(set);
    QVERIFY(view);
    QVERIFY(view->hasVelocities());
    QVERIFY(!view->showVelocities());  // off by default
    QVERIFY(!view->velocityArrowsShown());
    const QImage plain = view->grabFramebuffer();
    // The scale: 6% of the box side for the 95th-percentile speed.
    std::vector<double> speed;
    for (std::size_t i = 0; i < set->positions.size(); ++i) {
      const double vx = (*set->feature("vx"))[i], vy = (*set->feature("vy"))[i],
                   vz = (*set->feature("vz"))[i];
      speed.push_back(std::sqrt(vx * vx + vy * vy + vz * vz));
    }
    std::sort(speed.begin(), speed.end());
    const double p95 = speed[std::size_t(0.95 * double(speed.size()))];
    qInfo("arrow scale %.5f Mpc/h per km/s (95th-percentile speed %.1f km/s)", view->arrowScale(),
          p95);
    QVERIFY(near(view->arrowScale(), 0.06 * 100.0 / p95, 1e-5));

    view->setShowVelocities(true);
    QVERIFY(view->velocityArrowsShown());
    QVERIFY(waitRendered(view.get()));
    const QImage arrows = view->grabFramebuffer();
    save(arrows, "point_cloud_arrows");
    const double changed = changedFraction(plain, arrows);
    qInfo("arrows on: changed fraction %.3f", changed);
    QVERIFY(changed > 0.01);

    // Asked for, but the set has no velocities: nothing is drawn.
    auto still = catalogueSet(41, 1500, /*velocities=*/false);
    view->setShowVelocities(false);
    view->setPoints(still);
    QVERIFY(waitRendered(view.get()));
    const QImage without = view->grabFramebuffer();
    view->setShowVelocities(true);
    QVERIFY(view->showVelocities());
    QVERIFY(!view->hasVelocities());
    QVERIFY(!view->velocityArrowsShown());
    QVERIFY(waitRendered(view.get()));
    const double unchanged = changedFraction(without, view->grabFramebuffer());
    qInfo("arrows asked without velocities: changed fraction %.4f", unchanged);
    QVERIFY(unchanged < 0.001);
  }

  void cameraPresetsLookAlongTheAxes() {
    auto view = shownView(catalogueSet(51, 1000));
    QVERIFY(view);
    using Preset = dsui::PointCloudView::CameraPreset;
    const double s = 1.0 / std::sqrt(3.0);
    const struct {
      Preset preset;
      const char* name;
      std::array<double, 3> direction;
    } cases[] = {{Preset::AlongX, "x", {-1, 0, 0}},
                 {Preset::AlongY, "y", {0, 1, 0}},
                 {Preset::AlongZ, "z", {0, 0, -1}},
                 {Preset::Isometric, "isometric", {-s, -s, -s}}};
    QImage previous;
    for (const auto& c : cases) {
      view->setCameraPreset(c.preset);
      const auto d = view->cameraDirection();
      qInfo("%s: direction of projection (%.6f, %.6f, %.6f)", c.name, d[0], d[1], d[2]);
      for (int a = 0; a < 3; ++a) QVERIFY2(near(d[a], c.direction[a], 1e-9), c.name);
      QVERIFY(view->parallelProjection());
      QTest::qWait(50);
      const QImage img = view->grabFramebuffer();
      save(img, QStringLiteral("point_cloud_along_") + c.name);
      QVERIFY(imageStats(img).bright_fraction > 0.01);
      if (!previous.isNull()) QVERIFY(changedFraction(previous, img) > 0.01);
      previous = img;
    }
    view->resetCamera();
    const auto d = view->cameraDirection();
    QVERIFY(!near(std::abs(d[0]), 1.0, 1e-3) && !near(std::abs(d[2]), 1.0, 1e-3));
    QVERIFY(!view->parallelProjection());
  }

  void vtpExportReadsBackWithVtk() {
    const int n = 800, f = 7;
    auto set = catalogueSet(61, n);
    dsui::HaloSnapshot snapshot;
    snapshot.omega_m = 0.27;
    snapshot.sigma_8 = 0.83;
    snapshot.seed = 12345678901234ULL;
    snapshot.steps = 50;
    snapshot.model_name = QStringLiteral("halos1000");
    snapshot.box_size = 100.0;
    snapshot.n_points = n;
    snapshot.features = f;
    auto cloud = std::make_shared<std::vector<float>>(std::size_t(n * f));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < f; ++j) (*cloud)[std::size_t(i * f + j)] = set->features[j][i];
    snapshot.cloud = cloud;
    snapshot.points = set;

    QTemporaryDir dir;
    const QString path = dir.filePath("catalogue.vtp");
    dsui::write_catalogue_vtp(path.toStdString(), snapshot);
    // Written by rename: nothing but the file is left in the folder.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
             QStringList{QStringLiteral("catalogue.vtp")});

    vtkNew<vtkXMLPolyDataReader> reader;
    reader->SetFileName(path.toUtf8().constData());
    reader->Update();
    vtkPolyData* read = reader->GetOutput();
    QCOMPARE(int(read->GetNumberOfPoints()), n);
    QCOMPARE(int(read->GetNumberOfVerts()), n);
    for (int i = 0; i < n; ++i) {
      double p[3];
      read->GetPoint(i, p);
      for (int a = 0; a < 3; ++a) QCOMPARE(float(p[a]), set->positions[i][a]);
    }
    vtkPointData* data = read->GetPointData();
    for (int j = 0; j < f; ++j) {
      vtkDataArray* column = data->GetArray(set->feature_names[j].c_str());
      QVERIFY2(column, set->feature_names[j].c_str());
      QCOMPARE(int(column->GetNumberOfTuples()), n);
      for (int i = 0; i < n; ++i) QCOMPARE(float(column->GetTuple1(i)), set->features[j][i]);
    }
    vtkDataArray* velocity = data->GetVectors();
    QVERIFY(velocity && QByteArray(velocity->GetName()) == "velocity");
    QCOMPARE(velocity->GetNumberOfComponents(), 3);
    for (int i = 0; i < n; ++i)
      for (int a = 0; a < 3; ++a)
        QCOMPARE(float(velocity->GetComponent(i, a)), set->features[3 + a][i]);

    vtkFieldData* field = read->GetFieldData();
    const auto value = [&](const char* name) {
      vtkDataArray* array = field->GetArray(name);
      return array ? array->GetTuple1(0) : NAN;
    };
    QCOMPARE(value("Omega_m"), 0.27);
    QCOMPARE(value("sigma_8"), 0.83);
    QCOMPARE(value("box_size"), 100.0);
    QCOMPARE(value("steps"), 50.0);
    vtkDataArray* seed = field->GetArray("seed");
    QVERIFY(seed);
    QCOMPARE(seed->GetVariantValue(0).ToTypeUInt64(), snapshot.seed);
    auto* model = vtkStringArray::SafeDownCast(field->GetAbstractArray("model"));
    QVERIFY(model);
    QCOMPARE(QString::fromStdString(model->GetValue(0)), QStringLiteral("halos1000"));
    qInfo("read back %d points, %d point arrays, %d field arrays; %lld bytes",
          int(read->GetNumberOfPoints()), data->GetNumberOfArrays(), field->GetNumberOfArrays(),
          QFileInfo(path).size());

    // A snapshot without a catalogue is refused, naming the file, and leaves the old one whole.
    dsui::HaloSnapshot empty;
    bool refused = false;
    try {
      dsui::write_catalogue_vtp(path.toStdString(), empty);
    } catch (const ds::FileError& e) {
      refused = e.path() == path.toStdString();
    }
    QVERIFY(refused);
    vtkNew<vtkXMLPolyDataReader> again;
    again->SetFileName(path.toUtf8().constData());
    again->Update();
    QCOMPARE(int(again->GetOutput()->GetNumberOfPoints()), n);
  }

  void screenshotColouredByMassWithArrows() {
    dsui::PointCloudPanel panel;
    panel.resize(900, 680);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    dsui::PointCloudView* view = panel.view();
    view->setPoints(catalogueSet(71, 1000));
    view->setSizeByMass(true);
    view->setShowVelocities(true);
    view->setCameraPreset(dsui::PointCloudView::CameraPreset::Isometric);
    QVERIFY(waitRendered(view));
    QCOMPARE(view->colourQuantity(), QStringLiteral("log10_mass"));
    const QImage img = view->grabFramebuffer();
    save(img, "point_cloud_mass_arrows");
    save(panel.grab().toImage(), "point_cloud_panel");
    const Stats s = imageStats(img);
    qInfo("mass + arrows: distinct colours %d, bright fraction %.3f", s.distinct_colours,
          s.bright_fraction);
    QVERIFY(s.distinct_colours > 50);
    QVERIFY(s.bright_fraction > 0.02);
  }
};

QTEST_MAIN(TestPointCloudView)
#include "test_point_cloud_view.moc"
