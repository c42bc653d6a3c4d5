// GUI soak (issue 18, item 6; label `soak`, not in the default run: scripts/soak.sh runs it for N
// minutes, under ASan with --build-dir build-asan). The main window is driven by a seeded
// random sequence of what a user does in a long session: slider drags (runs of parameter
// changes), source and resolution switches, workspace switches, observation mocks, exact-GRF
// maps and chains started and cancelled / paused / reset at random moments, good and bad files
// opened, teaching mode toggled. It must not crash, every bad file must be refused with a message
// naming it, the app must still compute correct results at the end, and the resident memory
// may grow by at most DS_SOAK_MAX_GROWTH_MB (default 300) between the end of the first quarter
// (caches and pools warm) and the end. DS_SOAK_SECONDS sets the duration (default 60),
// DS_SOAK_SEED the sequence (default: from the clock; printed, so a failure can be replayed).
#include <unistd.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>

#include "gui_test_support.h"
#include "ui/field_workspace.h"
#include "ui/halo_workspace.h"
#include "ui/inference/inference_view.h"
#include "ui/inference/inference_workspace.h"
#include "ui/jobs/job_runner.h"
#include "ui/main_window.h"

using namespace dsui;
using dstest::wait_for;

namespace {

double resident_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return double(resident) * double(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

long env_number(const char* name, long fallback) {
  const QByteArray v = qgetenv(name);
  bool ok = false;
  const long n = v.toLong(&ok);
  return ok ? n : fallback;
}

}  // namespace

class SoakTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void randomSessionStaysAliveCorrectAndBounded() {
    dstest::use_mock_start_settings();
    const long seconds = env_number("DS_SOAK_SECONDS", 60);
    const long max_growth_mb = env_number("DS_SOAK_MAX_GROWTH_MB", 300);
    const auto seed = std::uint64_t(
        env_number("DS_SOAK_SEED",
                   long(std::chrono::steady_clock::now().time_since_epoch().count() % 100000)));
    std::printf("soak: %ld s, seed %llu (replay with DS_SOAK_SEED=%llu)\n", seconds,
                (unsigned long long)seed, (unsigned long long)seed);
    std::mt19937_64 rng(seed);
    const auto uniform = [&](double lo, double hi) {
      return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    const auto pick = [&](int n) { return int(std::uniform_int_distribution<int>(0, n - 1)(rng)); };

    QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/diffuscope-test-soak-XXXXXX"));
    QVERIFY(dir.isValid());
    const QString bad_npy = dir.filePath(QStringLiteral("garbage.npy"));
    const QString bad_h5 = dir.filePath(QStringLiteral("truncated.h5"));
    const QString text_h5 = dir.filePath(QStringLiteral("text.h5"));
    const QString missing = dir.filePath(QStringLiteral("missing.npy"));
    {
      QFile f(bad_npy);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("\x93NUMPY\x01\x00garbage that is not a header");
    }
    {
      QFile f(text_h5);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("not an HDF5 file\n");
    }
    const QString grid = dir.filePath(QStringLiteral("map.h5"));
    const QString chains_csv = dir.filePath(QStringLiteral("chains.csv"));

    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    InferenceWorkspace* w = window.inferenceWorkspace();
    QVERIFY(wait_for([&] { return window.fieldWorkspace()->snapshot() != nullptr; }, 120000));

    QElapsedTimer clock;
    clock.start();
    double rss_warm = -1.0;
    int actions = 0, refused = 0, last_report = 0;
    const ds::MockFieldKind kinds[] = {ds::MockFieldKind::Grf, ds::MockFieldKind::Lognormal,
                                       ds::MockFieldKind::Zeldovich};
    while (clock.elapsed() < seconds * 1000) {
      ++actions;
      switch (pick(12)) {
        case 0:  // a slider drag: a run of parameter changes
        case 1: {
          FieldParameters p = window.fieldWorkspace()->parameters();
          for (int k = 0, steps = 3 + pick(10); k < steps; ++k) {
            p.omega_m = std::clamp(p.omega_m + uniform(-0.02, 0.02), 0.1, 0.5);
            p.sigma_8 = std::clamp(p.sigma_8 + uniform(-0.02, 0.02), 0.6, 1.0);
            window.setFieldParameters(p);
            QTest::qWait(15);
          }
          break;
        }
        case 2:
          if (pick(4) == 0)
            window.useEmulator();
          else
            window.setFieldKind(kinds[pick(3)]);
          break;
        case 3:
          window.fieldWorkspace()->setResolution(pick(2) ? 32 : 64);
          break;
        case 4:
          if (pick(2))
            window.showInference();
          else
            window.showFields();
          break;
        case 5: {
          MockRequest r;
          r.kind = ds::MockFieldKind::Grf;
          r.n = pick(2) ? 32 : 64;
          r.truth = {uniform(0.15, 0.45), uniform(0.65, 0.95)};
          r.seed = std::uint64_t(pick(1000));
          w->drawMock(r);
          break;
        }
        case 6: {  // an exact-GRF map, sometimes cancelled at a random moment
          if (!w->observation() || w->observation()->cloud) break;
          LikelihoodSettings l = w->likelihood();
          l.kind = ds::LikelihoodKind::ExactGrf;
          w->setLikelihood(l);
          ds::GridScanSettings g;
          g.n = 8 + pick(20);
          g.full_prior = true;
          w->startMap(g);
          QTest::qWait(pick(400));
          if (pick(3) == 0) w->cancelMap();
          break;
        }
        case 7: {  // chains: started, then paused / stepped / reset / left to run
          if (!w->observation() || w->observation()->cloud) break;
          w->clearStarts();
          w->randomStarts(1 + pick(3), std::uint64_t(pick(1000)));
          ChainSettings c;
          c.sampler = SamplerChoice(pick(4));
          if (c.sampler == SamplerChoice::SurrogateHmc) c.step_size = 0.2;
          c.warmup = 20 + std::size_t(pick(50));
          c.draws = 20 + std::size_t(pick(100));
          if (c.sampler == SamplerChoice::PublishedHmc) c.step_size = 0.01;
          w->startChains(c);
          QTest::qWait(pick(500));
          switch (pick(4)) {
            case 0:
              w->setPaused(true);
              break;
            case 1:
              w->step();
              break;
            case 2:
              w->resetChains();
              break;
            default:
              break;
          }
          break;
        }
        case 8:  // save what there is, then open it again (good files)
          if (w->currentMap() && w->currentMap()->complete && !w->currentMap()->from_file) {
            w->saveGridFile(grid, w->likelihood().kind);
            if (QFile::exists(grid)) window.inferenceView()->openPath(grid);
          } else if (w->chains() && w->chains()->finished && w->chains()->kept.draws > 0) {
            w->exportChains(chains_csv, QStringLiteral("csv"));
            if (QFile::exists(chains_csv)) window.inferenceView()->openPath(chains_csv);
          }
          break;
        case 9: {                     // bad files: refused with a message naming the file
          if (QFile::exists(grid)) {  // a truncated copy of a good grid
            QFile::remove(bad_h5);
            QFile in(grid);
            QVERIFY(in.open(QIODevice::ReadOnly));
            QFile out(bad_h5);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(in.read(in.size() / 3));
          }
          const QString files[] = {bad_npy, text_h5, missing,
                                   QFile::exists(bad_h5) ? bad_h5 : bad_npy};
          // Under a name of its own, so that its message differs from every earlier one.
          const QString& chosen = files[pick(4)];
          const QString bad = dir.filePath(
              QStringLiteral("bad-%1-%2").arg(refused).arg(QFileInfo(chosen).fileName()));
          if (QFile::exists(chosen)) QVERIFY(QFile::copy(chosen, bad));
          const QString before = window.lastErrorMessage();
          if (pick(2))
            window.openFile(bad);
          else
            window.inferenceView()->openPath(bad);
          QVERIFY2(wait_for(
                       [&] {
                         return window.lastErrorMessage() != before &&
                                window.lastErrorMessage().contains(QFileInfo(bad).fileName());
                       },
                       30000),
                   qPrintable(QStringLiteral("%1 was not refused with its name (last message: %2)")
                                  .arg(bad, window.lastErrorMessage())));
          ++refused;
          break;
        }
        case 10:
          window.haloWorkspace()->setCosmology(uniform(0.1, 0.5), uniform(0.6, 1.0));
          break;
        case 11:
          window.setTeachingMode(!window.teachingMode());
          break;
      }
      QTest::qWait(pick(300));
      if (rss_warm < 0 && clock.elapsed() > seconds * 250) rss_warm = resident_mb();
      if (clock.elapsed() / 10000 > last_report) {
        last_report = int(clock.elapsed() / 10000);
        std::printf("soak: %lld s, %d actions, %d bad files refused, resident %.0f MB\n",
                    clock.elapsed() / 1000, actions, refused, resident_mb());
        std::fflush(stdout);
      }
    }

    // Still correct: everything stops, then a fresh exact-GRF map of a 64^2 GRF mock completes
    // and peaks near its truth (the tests of the workspace check the same at two grid cells).
    window.jobRunner()->cancelAll();
    QVERIFY(window.jobRunner()->waitForIdle(60000));
    w->resetChains();
    MockRequest r;
    r.kind = ds::MockFieldKind::Grf;
    r.n = 64;
    r.box_size = 1000.0;
    r.truth = {0.3, 0.8};
    r.seed = 5;
    QSignalSpy observed(w, &InferenceWorkspace::observationChanged);
    w->drawMock(r);
    QVERIFY(observed.wait(60000));
    QVERIFY(w->observation() && w->observation()->truth);
    LikelihoodSettings l = w->likelihood();
    l.kind = ds::LikelihoodKind::ExactGrf;
    l.noise_sigma = 0.0;
    w->setLikelihood(l);
    ds::GridScanSettings g;
    g.n = 21;
    g.full_prior = true;
    w->startMap(g);
    QVERIFY(wait_for([&] { return w->currentMap() && w->currentMap()->complete; }, 120000));
    const auto& max = w->currentMap()->scan.maximum;
    std::printf("soak: final exact-GRF map maximum (%.3f, %.3f), truth (0.3, 0.8)\n", max.omega_m,
                max.sigma_8);
    QVERIFY(std::abs(max.omega_m - 0.3) <= 0.04 + 1e-9);
    QVERIFY(std::abs(max.sigma_8 - 0.8) <= 0.04 + 1e-9);

    const double rss_end = resident_mb();
    std::printf(
        "soak: %d actions in %lld s (%d bad files refused); resident memory %.0f MB after the "
        "first quarter, %.0f MB at the end: growth %.0f MB (bound %ld MB)\n",
        actions, clock.elapsed() / 1000, refused, rss_warm, rss_end, rss_end - rss_warm,
        max_growth_mb);
    QVERIFY(refused > 0 || seconds < 30);
    QVERIFY2(rss_end - rss_warm < double(max_growth_mb),
             qPrintable(QStringLiteral("resident memory grew by %1 MB").arg(rss_end - rss_warm)));
  }
};

QTEST_MAIN(SoakTest)
#include "test_soak.moc"
