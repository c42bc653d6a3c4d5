// The emulator's optional faithful refinement, computed without a window: the ancestral sampler
// through all T steps keeps the small-scale power that a few DDIM steps smooth away
// (assets/models/README.md). A test of its own, offscreen and beside other tests, because a
// 1000-step field is ~13 s of work that needs no display (the window tests run one at a time).
#include <QApplication>
#include <QStandardPaths>
#include <QTest>
#include <QThread>
#include <cmath>

#include "ui/application.h"
#include "ui/emulator/emulator_model.h"
#include "ui/emulator/field_ensemble.h"
#include "ui/field_workspace.h"

using namespace dsui;

namespace {

constexpr int kRefinedSteps = 6;  // the DDIM refinement it is compared with

}  // namespace

class EmulatorComputeTest : public QObject {
  Q_OBJECT

 private:
  std::shared_ptr<const EmulatorModel> model_;

 private Q_SLOTS:
  void initTestCase() { model_ = load_emulator_model(extract_embedded_model(), 256, 25.0); }

  // The default ensemble (8 DDIM-25 fields of the default 64^2 model and 8 mocks) as the app's
  // exclusive lane computes it, without a window: first the mocks, then one member, then the
  // other seven in one batch. Logs its time (ctest runs this test with one thread beside others).
  void defaultEnsembleComputesProgressivelyWithoutAWindow() {
    const auto model = load_emulator_model(extract_embedded_model(), 64, 25.0);
    FieldParameters p;
    p.omega_m = 0.3;
    p.sigma_8 = 0.8;
    p.seed = 1;
    std::vector<std::shared_ptr<const EnsembleSnapshot>> seen;
    compute_field_ensemble(
        model, p, EnsembleSettings{},
        [&](std::shared_ptr<const EnsembleSnapshot> s) { seen.push_back(std::move(s)); }, {});
    QCOMPARE(int(seen.size()), 3);
    QCOMPARE(int(seen[0]->emulated.size()), 0);
    QCOMPARE(int(seen[1]->emulated.size()), 1);
    const auto& last = *seen.back();
    QVERIFY(last.complete);
    QCOMPARE(int(last.emulated.size()), 8);
    QCOMPARE(int(last.mocks.size()), 8);
    QCOMPARE(last.nonfinite_members, 0);
    QVERIFY(std::isfinite(last.comparison.reduced_chi2));
    qInfo("default ensemble without a window (%d threads): mocks %.0f ms, first member %.0f ms, "
          "all %.0f ms",
          QThread::idealThreadCount(), seen[0]->compute_ms, seen[1]->compute_ms, last.compute_ms);
  }

  void ancestralRefinementRunsAllStepsAndKeepsSmallScalePower() {
    FieldParameters p;
    p.omega_m = 0.3;
    p.sigma_8 = 0.8;
    p.seed = 5;
    const auto ddim =
        compute_emulated_snapshot(model_, p, kRefinedSteps, true, false, nullptr, 1, {}, {});
    const auto ancestral =
        compute_emulated_snapshot(model_, p, kRefinedSteps, true, true, ddim->reference, 1, {}, {});
    QCOMPARE(ancestral->sampler_steps, model_->model->schedule.steps());
    QVERIFY(ancestral->refined);
    QVERIFY2(ancestral->source.contains(QStringLiteral("ancestral 1000")),
             qPrintable(ancestral->source));
    QVERIFY2(ddim->source.contains(QStringLiteral("DDIM 6")), qPrintable(ddim->source));
    QCOMPARE(ancestral->nonfinite_pixels, 0);
    const auto& a = ancestral->measured;
    const auto& d = ddim->measured;
    QCOMPARE(a.size(), d.size());
    double power_a = 0.0, power_d = 0.0;
    for (std::size_t i = a.size() / 2; i < a.size(); ++i) {
      power_a += a.pk[i];
      power_d += d.pk[i];
    }
    qInfo("upper half of the k bins: P ancestral / P DDIM %d = %.2f", kRefinedSteps,
          power_a / power_d);
    QVERIFY2(power_a > 1.2 * power_d,
             qPrintable(QStringLiteral("%1 vs %2").arg(power_a).arg(power_d)));
  }
};

int main(int argc, char** argv) {
  QStandardPaths::setTestModeEnabled(true);  // the model cache goes to a test location
  configure_platform();                      // QT_QPA_PLATFORM=offscreen from CTest stays
  QApplication app(argc, argv);
  configure_application();
  EmulatorComputeTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_emulator_compute.moc"
