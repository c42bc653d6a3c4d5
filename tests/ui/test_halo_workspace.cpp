// The 3D slice: the embedded default halo emulator draws catalogues at the slider cosmology on a
// worker (fixed noise through the probability-flow ODE, preview then refined), the main window's
// 3D view shows them, and bad model files are refused with a message naming them.
#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <cstring>

#include "gui_test_support.h"
#include "ui/application.h"
#include "ui/cloud_view/point_cloud_panel.h"
#include "ui/cloud_view/point_cloud_view.h"
#include "ui/emulator/emulator_model.h"
#include "ui/field_view/field_image.h"
#include "ui/halo_workspace.h"
#include "ui/jobs/job_runner.h"
#include "ui/main_window.h"

using namespace dsui;

namespace {

// Few ODE steps keep each cloud fast; the schedule and the wiring are what is tested.
const HaloSchedule kFast{2, 4, 100, 0};

std::shared_ptr<const HaloSnapshot> wait_for_refined(HaloWorkspace& w, double omega_m,
                                                     double sigma_8, int timeout_ms = 60000) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < timeout_ms) {
    const auto s = w.snapshot();
    if (s && s->refined && s->omega_m == omega_m && s->sigma_8 == sigma_8 && !w.isComputing())
      return s;
    QTest::qWait(10);
  }
  return nullptr;
}

bool same_positions(const PointSet& a, const PointSet& b) {
  return a.positions.size() == b.positions.size() &&
         std::memcmp(a.positions.data(), b.positions.data(),
                     a.positions.size() * sizeof(a.positions[0])) == 0;
}

}  // namespace

class HaloWorkspaceTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QSettings().clear(); }

  void embeddedModelDrawsCataloguesInTheBoxAtTheSliderCosmology() {
    JobRunner runner;
    HaloWorkspace w(&runner);
    w.setSchedule(kFast);
    QSignalSpy loaded(&w, &HaloWorkspace::modelLoaded);
    w.loadModel();
    QVERIFY(loaded.wait(60000));
    QVERIFY(w.model());
    QCOMPARE(w.model()->features(), 7);
    w.setCosmology(0.3, 0.8);
    const auto a = wait_for_refined(w, 0.3, 0.8);
    QVERIFY(a);
    QCOMPARE(a->steps, kFast.refined_steps);
    const PointSet& p = *a->points;
    QCOMPARE(int(p.positions.size()), 1000);         // the training size, from the model's /config
    QCOMPARE(p.scalars.size(), p.positions.size());  // log10 mass
    for (std::size_t i = 0; i < p.positions.size(); ++i) {
      for (float x : p.positions[i]) QVERIFY(x >= 0.0f && x < float(p.box_size));
      QVERIFY(std::isfinite(p.scalars[i]));
    }
    QCOMPARE(p.box_size, 1000.0);
    // The catalogue's columns by name, for the 3D view's colouring and sizes.
    const std::vector<std::string> names = {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
    QCOMPARE(p.feature_names, names);
    QCOMPARE(int(p.features.size()), 7);
    for (std::size_t i = 0; i < p.positions.size(); ++i)
      for (std::size_t j = 0; j < 7; ++j) QCOMPARE(p.features[j][i], (*a->cloud)[i * 7 + j]);
    QVERIFY(p.hasVelocities());

    // Another cosmology on the same noise: a different cloud; back again: the same bits.
    w.setCosmology(0.3, 0.95);
    const auto b = wait_for_refined(w, 0.3, 0.95);
    QVERIFY(b);
    QVERIFY(!same_positions(*a->points, *b->points));
    w.setCosmology(0.3, 0.8);
    const auto c = wait_for_refined(w, 0.3, 0.8);
    QVERIFY(c);
    QVERIFY(same_positions(*a->points, *c->points));
    // A new seed draws another catalogue at the same cosmology.
    w.setSeed(w.seed() + 1);
    QTest::qWait(50);
    const auto d = wait_for_refined(w, 0.3, 0.8);
    QVERIFY(d && d->seed == c->seed + 1);
    QVERIFY(!same_positions(*c->points, *d->points));
  }

  void badModelFilesAreRefusedWithTheirName() {
    JobRunner runner;
    HaloWorkspace w(&runner);
    QTemporaryDir dir;
    const QString junk = dir.filePath("junk.h5");
    {
      QFile f(junk);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("not a model");
    }
    QSignalSpy failed(&w, &HaloWorkspace::modelLoadFailed);
    w.loadModel(junk);
    QVERIFY(failed.wait(30000));
    QCOMPARE(failed.at(0).at(0).toString(), junk);
    QVERIFY(failed.at(0).at(1).toString().contains(junk));
    // A 2D field model is a model, but not of halos.
    const QString field_model = extract_embedded_model();
    w.loadModel(field_model);
    QVERIFY(failed.wait(30000));
    QVERIFY(failed.at(1).at(1).toString().contains(field_model));
    QVERIFY(!w.model());
  }

  void mainWindowShowsEmulatedHalosAndFollowsTheSliders() {
    MainWindow window;
    window.haloWorkspace()->setSchedule(kFast);
    window.resize(1200, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    FieldParameters p;
    p.omega_m = 0.25;
    p.sigma_8 = 0.85;
    QElapsedTimer timer;
    timer.start();
    while (!window.haloWorkspace()->model() && timer.elapsed() < 60000) QTest::qWait(20);
    QVERIFY(window.haloWorkspace()->model());
    window.setFieldParameters(p);
    const auto s = wait_for_refined(*window.haloWorkspace(), 0.25, 0.85);
    QVERIFY(s);
    QTest::qWait(50);
    QVERIFY(window.pointCloudView()->points() == s->points);
    auto* dock = window.findChild<QDockWidget*>(QStringLiteral("pointCloudDock"));
    QVERIFY(dock && dock->windowTitle().contains(QStringLiteral("0.250")));
    // The dock holds the view with its control strip; the view colours by mass until told.
    QVERIFY(qobject_cast<PointCloudPanel*>(dock->widget()));
    QCOMPARE(window.pointCloudView()->colourQuantity(), QStringLiteral("log10_mass"));
    QVERIFY(window.pointCloudView()->hasVelocities());
    // Export views writes the catalogue as .vtp beside .npy and .h5.
    QTemporaryDir out;
    const QStringList written = window.exportViews(out.path());
    for (const char* name : {"catalogue.npy", "catalogue.h5", "catalogue.vtp"})
      QVERIFY2(written.contains(out.filePath(name)), name);
    QFile vtp(out.filePath("catalogue.vtp"));
    QVERIFY(vtp.open(QIODevice::ReadOnly));
    QVERIFY(vtp.read(200).contains("type=\"PolyData\""));
    QVERIFY(window.lastErrorMessage().isEmpty());

    // The refined catalogue keeps its ODE path; the panel's scrubber shows the stored steps.
    PointCloudPanel* panel = window.pointCloudPanel();
    QVERIFY(s->trajectory);
    const auto& path = *s->trajectory;
    QCOMPARE(path.total_steps, s->steps);
    QCOMPARE(int(path.frames.size()), s->steps);
    QCOMPARE(path.steps.front(), 1);
    QCOMPARE(path.steps.back(), s->steps);
    QVERIFY(path.frames.back() == s->points);  // the last frame is the catalogue
    QCOMPARE(panel->trajectory(), s->trajectory);
    QVERIFY(panel->stepSlider()->isVisible());
    QCOMPARE(panel->frame(), s->steps - 1);
    QCOMPARE(panel->stepText(), QStringLiteral("ODE step %1 / %1").arg(s->steps));
    // Scrubbing to the first step shows that stored frame (no recomputation: the same object),
    // in which the halos are elsewhere than in the catalogue.
    QElapsedTimer scrub;
    scrub.start();
    panel->stepSlider()->setValue(0);
    const qint64 scrub_ms = scrub.elapsed();
    QVERIFY(window.pointCloudView()->points() == path.frames.front());
    QCOMPARE(panel->stepText(), QStringLiteral("ODE step 1 / %1").arg(s->steps));
    double moved = 0.0;
    const auto& first = path.frames.front()->positions;
    const auto& last = s->points->positions;
    QCOMPARE(first.size(), last.size());
    for (std::size_t i = 0; i < first.size(); ++i)
      for (int d = 0; d < 3; ++d)
        moved += std::abs(first[i][std::size_t(d)] - last[i][std::size_t(d)]);
    moved /= double(3 * first.size());
    qInfo(
        "halo ODE scrubber: %d stored steps; step 1 -> catalogue mean |dx| %.2f Mpc/h; one "
        "scrub %lld ms",
        s->steps, moved, scrub_ms);
    QVERIFY(moved > 0.5);
    // Play runs to the last frame, the catalogue again.
    panel->play();
    QVERIFY(panel->playing());
    QVERIFY(dstest::wait_for([&] { return !panel->playing(); }, 20000));
    QCOMPARE(panel->frame(), s->steps - 1);
    QVERIFY(window.pointCloudView()->points() == s->points);

    window.jobRunner()->cancelAll();
    QVERIFY(window.jobRunner()->waitForIdle(20000));
  }
};

int main(int argc, char** argv) {
  QStandardPaths::setTestModeEnabled(true);  // QSettings and the model cache go to test locations
  configure_platform();
  QApplication app(argc, argv);
  configure_application();
  HaloWorkspaceTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_halo_workspace.moc"
