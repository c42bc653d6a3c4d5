// Drives the first slice of the application as a user would: sliders, file opening, errors,
// cancellation, persistence; checks that views render and the UI thread never stalls.
#include <QApplication>
#include <QElapsedTimer>
#include <QPixmap>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cmath>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "gui_test_support.h"
#include "ui/application.h"
#include "ui/cloud_view/point_cloud_view.h"
#include "ui/emulator/halo_statistics.h"
#include "ui/field_view/field_viewport.h"
#include "ui/field_workspace.h"
#include "ui/halo_workspace.h"
#include "ui/jobs/job_runner.h"
#include "ui/jobs/job_status_widget.h"
#include "ui/main_window.h"
#include "ui/plots/power_spectrum_plot.h"

using namespace dsui;

class MainWindowTest : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<MainWindow> window_;

  std::shared_ptr<const FieldSnapshot> waitForGeneration(int generation, int timeout_ms = 20000) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeout_ms) {
      auto s = window_->fieldWorkspace()->snapshot();
      if (s && s->generation >= generation && !window_->fieldWorkspace()->isComputing()) return s;
      QTest::qWait(10);
    }
    return window_->fieldWorkspace()->snapshot();
  }

 private Q_SLOTS:
  void init() {
    dstest::use_mock_start_settings();
    window_ = std::make_unique<MainWindow>();
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  void cleanup() {
    window_->jobRunner()->cancelAll();
    QVERIFY(window_->jobRunner()->waitForIdle(20000));
    window_.reset();
  }

  void initialFieldAndSpectrumArrive() {
    auto s = waitForGeneration(1);
    QVERIFY(s);
    QCOMPARE(s->image->n, window_->settings().resolution);
    QVERIFY(s->measured.size() > 10);
    QCOMPARE(s->theory.size(), s->measured.size());
    QTRY_VERIFY(window_->powerSpectrumPlot()->updateCount() >= 1);
    QTRY_VERIFY_WITH_TIMEOUT(window_->fieldViewport()->hasRenderedImage(), 10000);
    // The window's icon (a resource of the UI library) renders.
    const QPixmap icon = window_->windowIcon().pixmap(64, 64);
    QVERIFY(!icon.isNull());
    QVERIFY(dstest::distinct_colours(icon.toImage()) > 8);
  }

  void omegaMChangesFieldAndSpectrum() {
    auto before = waitForGeneration(1);
    QVERIFY(before);
    FieldParameters p = before->parameters.value();
    p.omega_m = 0.45;
    window_->setFieldParameters(p);  // as the viewport's slider does
    auto after = waitForGeneration(before->generation + 1);
    QVERIFY(after->generation > before->generation);
    QCOMPARE(after->parameters->omega_m, 0.45);
    QVERIFY(after->image->values != before->image->values);
    QCOMPARE(after->measured.size(), before->measured.size());
    // Same seed: the difference is the spectrum's shape, more small-scale power at higher Omega_m.
    const std::size_t lo = 0, hi = after->measured.size() - 1;
    QVERIFY(after->theory.pk[hi] / after->theory.pk[lo] >
            before->theory.pk[hi] / before->theory.pk[lo]);
    QVERIFY(after->measured.pk[hi] / after->measured.pk[lo] >
            before->measured.pk[hi] / before->measured.pk[lo]);
    QCOMPARE(window_->powerSpectrumPlot()->measured().pk, after->measured.pk);
    QCOMPARE(window_->fieldViewport()->parameters().omega_m, 0.45);
  }

  void sliderSignalDrivesTheWorkspace() {
    auto before = waitForGeneration(1);
    FieldParameters p = before->parameters.value();
    p.sigma_8 = 0.95;
    Q_EMIT window_->fieldViewport()->parametersEdited(p);
    auto after = waitForGeneration(before->generation + 1);
    QCOMPARE(after->parameters->sigma_8, 0.95);
    // Same seed and Omega_m: the field scales exactly with sigma_8.
    QVERIFY(std::abs(after->image->values[123] / before->image->values[123] - 0.95 / 0.8) < 1e-4);
  }

  void fieldKindSwitchesTheSimulator() {
    auto before = waitForGeneration(1);
    window_->setFieldKind(ds::MockFieldKind::Zeldovich);
    auto after = waitForGeneration(before->generation + 1);
    QVERIFY(after->source.startsWith(QStringLiteral("Zel'dovich map")));
    QVERIFY(!after->image->is_contrast);  // a positive surface density
    QVERIFY(*std::min_element(after->image->values.begin(), after->image->values.end()) >= 0.0f);
    QCOMPARE(after->theory.size(), after->measured.size());
    QCOMPARE(window_->settings().field_kind, ds::MockFieldKind::Zeldovich);
    window_->setFieldKind(ds::MockFieldKind::Lognormal);
    auto lognormal = waitForGeneration(after->generation + 1);
    QVERIFY(lognormal->source.startsWith(QStringLiteral("Lognormal field")));
    QVERIFY(*std::min_element(lognormal->image->values.begin(), lognormal->image->values.end()) >
            0.0f);
  }

  void viewsRenderNonBlankImages() {
    waitForGeneration(1);
    QTRY_VERIFY_WITH_TIMEOUT(window_->fieldViewport()->hasRenderedImage(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(window_->pointCloudView()->hasRenderedPoints(), 60000);
    QTest::qWait(100);
    const QImage field = window_->fieldViewport()->grabFramebuffer();
    const QImage cloud = window_->pointCloudView()->grabFramebuffer();
    const QImage whole = window_->grab().toImage();
    dstest::save_screenshot(field, "main_window_field");
    dstest::save_screenshot(cloud, "main_window_cloud");
    dstest::save_screenshot(whole, "main_window");
    QVERIFY2(dstest::distinct_colours(field) > 100, "field viewport looks blank");
    QVERIFY2(dstest::distinct_colours(cloud) > 20, "3D view looks blank");
    QVERIFY2(dstest::distinct_colours(whole) > 100, "main window looks blank");
  }

  void uiThreadNeverStallsWhileFieldsAreComputed() {
    waitForGeneration(1);
    // Fields only: the halo emulator (which follows the same sliders once they rest) gets its
    // first cloud out of the way and then waits, so the two cores are the field jobs' and the UI's.
    HaloWorkspace* halos = window_->haloWorkspace();
    QElapsedTimer settle;
    settle.start();
    while ((!halos->snapshot() || halos->isComputing()) && settle.elapsed() < 60000)
      QTest::qWait(20);
    // ... and its statistics against the lognormal mocks (a few seconds of work) are measured.
    HaloStatistics* stats = window_->haloStatistics();
    while ((!stats->snapshot() || stats->isComputing()) && settle.elapsed() < 120000)
      QTest::qWait(20);
    HaloSchedule quiet;
    quiet.rest_ms = 600000;
    halos->setSchedule(quiet);
    window_->fieldWorkspace()->setResolution(512);
    int field_frames = 0, cloud_frames = 0;
    connect(window_->fieldViewport(), &FieldViewport::frameRendered, [&] { ++field_frames; });
    connect(window_->pointCloudView(), &PointCloudView::frameRendered, [&] { ++cloud_frames; });
    dstest::StallWatch watch;
    const int start_generation = window_->fieldWorkspace()->snapshot()->generation;
    // A slider drag: many requests while 512^2 fields are being made.
    for (int i = 0; i < 12; ++i) {
      FieldParameters p = window_->fieldWorkspace()->parameters();
      p.omega_m = 0.15 + 0.03 * i;
      window_->setFieldParameters(p);
      QTest::qWait(25);
    }
    auto last_snapshot = waitForGeneration(start_generation + 1, 60000);
    watch.stop();
    const qint64 worst = watch.worst();
    QVERIFY(last_snapshot->generation > start_generation);
    QCOMPARE(last_snapshot->parameters->omega_m, 0.15 + 0.03 * 11);  // the last position wins
    QCOMPARE(last_snapshot->image->n, 512);
    qInfo("longest gap between UI timer ticks: %lld ms; %d field frames, %d 3D frames in %lld ms",
          worst, field_frames, cloud_frames, watch.elapsed());
    qInfo("UI watchdog: %s", qPrintable(watch.report()));
    QVERIFY2(watch.longestDelivery() < dstest::StallWatch::kMaxDeliveryMs,
             qPrintable(QStringLiteral("work on the UI thread: ") + watch.report()));
  }

  void badFileShowsAnErrorAndTheAppKeepsRunning() {
    waitForGeneration(1);
    window_->openFieldFile(QStringLiteral("/nonexistent/field.npy"));
    QTRY_VERIFY_WITH_TIMEOUT(!window_->lastErrorMessage().isEmpty(), 10000);
    QVERIFY(window_->lastErrorMessage().contains("/nonexistent/field.npy"));
    QVERIFY(window_->lastErrorMessage().contains("cannot open"));
    const int generation = window_->fieldWorkspace()->snapshot()->generation;
    FieldParameters p = window_->fieldWorkspace()->parameters();
    p.seed += 1;
    window_->setFieldParameters(p);
    QVERIFY(waitForGeneration(generation + 1)->generation > generation);
  }

  void opensAnNpyField() {
    waitForGeneration(1);
    QTemporaryDir dir;
    const QString path = dir.filePath("field.npy");
    const auto golden = ds::read_npy(DS_TESTDATA_DIR "/goldens/pk2d_a_field.npy");
    ds::write_npy(path.toStdString(), golden.shape, golden.data, true);
    const int generation = window_->fieldWorkspace()->snapshot()->generation;
    window_->openFieldFile(path);
    auto s = waitForGeneration(generation + 1);
    QCOMPARE(s->source, QStringLiteral("field.npy"));
    QCOMPARE(s->image->n, 64);
    QVERIFY(!s->parameters.has_value());
    QVERIFY(s->measured.size() > 10);
  }

  // File > Open field reads through core's read_observation: an HDF5 dataset's first field, with
  // the box the file records and the P(k) measured in that box.
  void opensTheFirstFieldOfAnHdf5DatasetInItsBox() {
    waitForGeneration(1);
    QTemporaryDir dir;
    const QString path = dir.filePath("fields.h5");
    const auto golden = ds::read_npy(DS_TESTDATA_DIR "/goldens/pk2d_a_field.npy");
    ds::Dataset d;
    d.kind = ds::SampleKind::Fields;
    d.shape = {2, 64, 64};
    d.samples.assign(golden.data.begin(), golden.data.end());
    d.samples.insert(d.samples.end(), golden.data.begin(), golden.data.end());
    d.param_names = {"Omega_m", "sigma_8"};
    d.params = {0.3, 0.8, 0.3, 0.8};
    d.box_size = 50.0;
    d.units = "density contrast";  // the kind the app reads it as, from the file
    ds::write_dataset_hdf5(path.toStdString(), d);
    const int generation = window_->fieldWorkspace()->snapshot()->generation;
    window_->openFieldFile(path);
    auto s = waitForGeneration(generation + 1);
    QCOMPARE(s->source, QStringLiteral("fields.h5 [0]"));
    QCOMPARE(s->image->n, 64);
    QCOMPARE(s->box_size, 50.0);
    ds::Field2D field;
    field.n = 64;
    field.box_size = 50.0;
    field.kind = ds::FieldKind::Contrast;
    field.values.assign(d.samples.begin(), d.samples.begin() + 64 * 64);
    const auto expected = ds::cut_at_nyquist(ds::power_spectrum_2d(field), 64, 50.0);
    QCOMPARE(s->measured.k.size(), expected.k.size());
    QCOMPARE(s->measured.k.front(), expected.k.front());  // the wavenumbers of a 50 Mpc/h box
    QCOMPARE(s->measured.pk, expected.pk);
  }

  void cancelButtonStopsARunningJob() {
    waitForGeneration(1);
    QSignalSpy cancelled(window_->jobRunner(), &JobRunner::jobCancelled);
    window_->jobRunner()->start("endless", [](const ds::JobContext& job) {
      for (int i = 0;; ++i) {
        job.report(i % 100, 100, "spinning");
        job.check_cancelled();
        QThread::msleep(5);
      }
      return JobRunner::Publish();
    });
    auto* status = window_->findChild<JobStatusWidget*>();
    QVERIFY(status);
    QTRY_VERIFY(status->cancelButton()->isEnabled());
    QTest::mouseClick(status->cancelButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 1, 5000);
    QVERIFY(window_->lastErrorMessage().isEmpty());
  }

  void settingsPersistAcrossWindows() {
    waitForGeneration(1);
    FieldParameters p = window_->fieldWorkspace()->parameters();
    p.omega_m = 0.21;
    p.seed = 77;
    window_->setFieldParameters(p);
    waitForGeneration(2);
    window_->close();
    QVERIFY(QSettings().contains("window/state"));
    QVERIFY(window_->jobRunner()->waitForIdle(20000));
    window_ = std::make_unique<MainWindow>();
    QCOMPARE(window_->settings().field.omega_m, 0.21);
    QCOMPARE(window_->fieldViewport()->parameters().seed, std::uint64_t(77));
    window_->show();
    QCOMPARE(waitForGeneration(1)->parameters->omega_m, 0.21);
  }
};

int main(int argc, char** argv) {
  QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
  configure_platform();
  QApplication app(argc, argv);
  configure_application();
  MainWindowTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_main_window.moc"
