// JobRunner's exclusive lane (ui/jobs/job_runner.h): heavy emulator jobs run one at a time, the
// most urgent queued one first, beside ordinary jobs; a job cancelled while it waits never runs.
#include <QCoreApplication>
#include <QSignalSpy>
#include <QTest>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "diffuscope/runtime.h"
#include "ui/jobs/job_runner.h"

using dsui::Job;
using dsui::JobRunner;

namespace {

// Counts jobs running at once; remembers the most.
struct Concurrency {
  std::atomic<int> now{0}, most{0};
  void enter() {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
  }
  void leave() { --now; }
};

// A gate a job waits at until the test opens it.
struct Gate {
  std::atomic<bool> open{false};
  std::atomic<bool> reached{false};
  void wait() {
    reached = true;
    while (!open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
};

}  // namespace

class TestJobRunner : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void exclusiveJobsRunOneAtATimeBesideOrdinaryJobs() {
    JobRunner runner(nullptr, 2);
    Concurrency exclusive;
    std::atomic<bool> ordinary_overlapped{false};
    for (int i = 0; i < 4; ++i)
      runner.startExclusive(QStringLiteral("heavy %1").arg(i), JobRunner::Urgency::Halos,
                            [&](const ds::JobContext&) {
                              exclusive.enter();
                              std::this_thread::sleep_for(std::chrono::milliseconds(60));
                              exclusive.leave();
                              return JobRunner::Publish();
                            });
    // An ordinary job (a preview, a file read) runs while the lane is busy.
    runner.start(QStringLiteral("light"), [&](const ds::JobContext&) {
      for (int i = 0; i < 200 && !ordinary_overlapped; ++i) {
        if (exclusive.now.load() > 0) ordinary_overlapped = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      return JobRunner::Publish();
    });
    QVERIFY(runner.waitForIdle(20000));
    QCOMPARE(exclusive.most.load(), 1);
    QVERIFY(ordinary_overlapped);
  }

  void theMostUrgentQueuedJobRunsNext() {
    JobRunner runner(nullptr, 2);
    Gate gate;
    std::mutex m;
    std::vector<QString> order;
    runner.startExclusive(QStringLiteral("holder"), JobRunner::Urgency::Statistics,
                          [&](const ds::JobContext&) {
                            gate.wait();
                            return JobRunner::Publish();
                          });
    QTRY_VERIFY_WITH_TIMEOUT(gate.reached.load(), 10000);
    const auto record = [&](const QString& name) {
      return [&, name](const ds::JobContext&) {
        const std::lock_guard<std::mutex> lock(m);
        order.push_back(name);
        return JobRunner::Publish();
      };
    };
    // Queued in the order a slider rest queues them at worst.
    runner.startExclusive(QStringLiteral("statistics"), JobRunner::Urgency::Statistics,
                          record(QStringLiteral("statistics")));
    runner.startExclusive(QStringLiteral("halos"), JobRunner::Urgency::Halos,
                          record(QStringLiteral("halos")));
    runner.startExclusive(QStringLiteral("ensemble"), JobRunner::Urgency::Ensemble,
                          record(QStringLiteral("ensemble")));
    runner.startExclusive(QStringLiteral("field"), JobRunner::Urgency::Field,
                          record(QStringLiteral("field")));
    gate.open = true;
    QVERIFY(runner.waitForIdle(20000));
    const std::vector<QString> expected = {QStringLiteral("field"), QStringLiteral("ensemble"),
                                           QStringLiteral("halos"), QStringLiteral("statistics")};
    QCOMPARE(order, expected);
  }

  void aJobCancelledWhileItWaitsNeverRuns() {
    JobRunner runner(nullptr, 2);
    Gate gate;
    runner.startExclusive(QStringLiteral("holder"), JobRunner::Urgency::Field,
                          [&](const ds::JobContext&) {
                            gate.wait();
                            return JobRunner::Publish();
                          });
    QTRY_VERIFY_WITH_TIMEOUT(gate.reached.load(), 10000);
    std::atomic<bool> ran{false};
    QSignalSpy cancelled(&runner, &JobRunner::jobCancelled);
    Job* waiting = runner.startExclusive(QStringLiteral("waiting"), JobRunner::Urgency::Ensemble,
                                         [&](const ds::JobContext&) {
                                           ran = true;
                                           return JobRunner::Publish();
                                         });
    QCOMPARE(runner.activeCount(), 2);
    waiting->cancel();
    gate.open = true;
    QVERIFY(runner.waitForIdle(20000));
    QVERIFY(!ran.load());
    QCOMPARE(cancelled.count(), 1);
  }

  // All-cores jobs running together share the cores; one alone has them all, and a one-core job
  // does not count.
  void allCoresJobsShareTheCoresWhileTheyRunTogether() {
    ds::set_thread_count(4);  // as on a 4-core machine, whatever this one has
    JobRunner runner(nullptr, 3);
    QCOMPARE(runner.coresPerAllCoresJob(), 4);
    Gate first_gate, second_gate;
    std::atomic<int> alone{0}, together{0}, after{0};
    std::atomic<bool> second_started{false};
    runner.start(
        QStringLiteral("map"),
        [&](const ds::JobContext&) {
          alone = runner.coresPerAllCoresJob();
          first_gate.wait();  // the test starts the second job meanwhile
          while (!second_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          together = runner.coresPerAllCoresJob();
          second_gate.open = true;
          return JobRunner::Publish();
        },
        JobRunner::Cores::All);
    runner.start(QStringLiteral("preview"), [&](const ds::JobContext&) {
      return JobRunner::Publish();
    });  // Cores::One: not counted
    while (!first_gate.reached) QTest::qWait(1);
    runner.start(
        QStringLiteral("chains"),
        [&](const ds::JobContext&) {
          second_started = true;
          second_gate.wait();
          return JobRunner::Publish();
        },
        JobRunner::Cores::All);
    first_gate.open = true;
    QVERIFY(runner.waitForIdle(20000));
    runner.start(
        QStringLiteral("map again"),
        [&](const ds::JobContext&) {
          after = runner.coresPerAllCoresJob();
          return JobRunner::Publish();
        },
        JobRunner::Cores::All);
    QVERIFY(runner.waitForIdle(20000));
    QCOMPARE(alone.load(), 4);
    QCOMPARE(together.load(), 2);
    QCOMPARE(after.load(), 4);
    QCOMPARE(runner.coresPerAllCoresJob(), 4);
    ds::set_thread_count(0);
  }
};

QTEST_GUILESS_MAIN(TestJobRunner)
#include "test_job_runner.moc"
