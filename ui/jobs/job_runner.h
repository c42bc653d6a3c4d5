// Runs core work on worker threads. The UI thread never computes: it starts a job, receives
// progress and partial results through queued signals, and publishes the result in a
// continuation that the worker hands back (DESIGN.md, Job).
#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "diffuscope/jobs/job.h"

namespace dsui {

// One running job as the UI sees it. Lives on the UI thread; deleted after it finished.
class Job : public QObject {
  Q_OBJECT
 public:
  Job(int id, QString title, QObject* parent)
      : QObject(parent), id_(id), title_(std::move(title)) {}
  int id() const { return id_; }
  const QString& title() const { return title_; }
  const ds::CancellationToken& token() const { return token_; }
  void cancel() { token_.request(); }
  double fraction() const { return fraction_; }
  const QString& message() const { return message_; }

 Q_SIGNALS:
  void progressed(double fraction, const QString& message);

 private:
  friend class JobRunner;
  int id_;
  QString title_;
  ds::CancellationToken token_;
  double fraction_ = 0.0;
  QString message_;
};

// A second thread for a running job: work that wants a core of its own beside the job's (the halo
// statistics' mock band beside a halo cloud's ODE). It runs at the workers' lowered priority with
// a one-thread OpenMP team, and is joined when the Companion goes out of scope; what it throws is
// dropped (the work must report its own failures).
class Companion {
 public:
  explicit Companion(std::function<void()> fn);
  ~Companion();
  Companion(const Companion&) = delete;
  Companion& operator=(const Companion&) = delete;

 private:
  std::thread thread_;
};

class JobRunner : public QObject {
  Q_OBJECT
 public:
  // What runs on the UI thread when the work succeeded: publishes the result.
  using Publish = std::function<void()>;
  // The work itself, on a worker thread. Long loops call job.report() and job.check_cancelled().
  using Work = std::function<Publish(const ds::JobContext& job)>;

  // How urgent a job of the exclusive lane is: the most urgent queued job runs next.
  enum class Urgency { Statistics = 0, Halos = 1, Ensemble = 2, Field = 3 };

  explicit JobRunner(QObject* parent = nullptr, int max_threads = 2);
  ~JobRunner() override;  // cancels every job and waits for the workers

  // How many cores a job's parallel work uses (ds::set_calling_thread_count). A job of start()
  // uses one unless it asks for all (the Inference workspace's maps and chains, which run beside
  // each other by design); an exclusive job always uses all. So outside the Inference workspace
  // one OpenMP team works at a time, and libgomp keeps spinning instead of sleeping at each of the
  // network's parallel regions (runtime.h: the default ensemble 3.3 s -> 2.1 s).
  enum class Cores { One, All };
  Job* start(const QString& title, Work work, Cores cores = Cores::One);
  // Heavy emulator work that keeps every core busy on its own (network sampling: a refined
  // field, the ensemble, the halo catalogue, their statistics) runs in an exclusive lane: one such
  // job at a time, the most urgent queued one first, beside the jobs of start() (previews, file
  // reads, inference). On two cores, jobs that split the cores through oversubscribed OpenMP
  // threads each took twice as long or more (the default ensemble 6.8 s beside a field and a halo
  // catalogue against 2.9 s alone); one after the other, the first result comes as soon as it
  // can and none comes later than before. A job cancelled while it waits never runs.
  Job* startExclusive(const QString& title, Urgency urgency, Work work);

  // The cores each running all-cores job (Cores::All, the exclusive lane's included) should use
  // now: the hardware threads shared among them, at least one. Two such jobs that kept a full
  // OpenMP team each would outnumber the cores, and libgomp then cuts every team's spin-wait
  // (runtime.h); a job whose work comes in many calls re-reads this before each (CoreSharing).
  int coresPerAllCoresJob() const;

  // Runs fn on the UI thread later, unless receiver was destroyed meanwhile. Safe from any
  // thread: how workers deliver partial results (a heatmap row, a chain draw).
  static void post(QObject* receiver, std::function<void()> fn);

  int activeCount() const { return int(active_.size()); }
  // Running jobs, oldest first (finished jobs leave this list before they are deleted).
  const QList<Job*>& activeJobs() const { return active_; }
  void cancelAll();
  // Processes events until no job runs or the timeout passes; true when idle.
  bool waitForIdle(int timeout_ms);

 Q_SIGNALS:
  void jobStarted(dsui::Job* job);
  void jobProgressed(dsui::Job* job);
  void jobFinished(dsui::Job* job);  // after success, failure or cancellation; job deleted later
  void jobFailed(const QString& title, const QString& message);
  void jobCancelled(dsui::Job* job);
  void activeCountChanged(int count);

 private:
  void finish(Job* job);

  Job* submit(const QString& title, Work work, QThreadPool& pool, int priority, Cores cores);

  QThreadPool pool_;
  QThreadPool exclusive_;  // one thread: the exclusive lane
  std::atomic<int> all_cores_running_{0};
  int next_id_ = 1;
  QList<Job*> active_;
};

}  // namespace dsui
