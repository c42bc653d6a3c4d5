#include "ui/jobs/job_runner.h"

#include "diffuscope/runtime.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QMetaObject>
#include <QThread>
#include <algorithm>
#include <exception>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace dsui {

namespace {
// Workers run at a lower scheduling priority than the UI thread, so that on a machine with few
// cores drawing and input handling win the CPU over number crunching (Linux: per-thread nice).
void lower_worker_priority() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
#ifdef __linux__
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
#endif
}
}  // namespace

Companion::Companion(std::function<void()> fn)
    : thread_([fn = std::move(fn)] {
        lower_worker_priority();
        ds::set_calling_thread_count(1);
        try {
          fn();
        } catch (...) {
        }
      }) {}

Companion::~Companion() {
  if (thread_.joinable()) thread_.join();
}

JobRunner::JobRunner(QObject* parent, int max_threads) : QObject(parent) {
  pool_.setMaxThreadCount(max_threads);
  exclusive_.setMaxThreadCount(1);
}

JobRunner::~JobRunner() {
  cancelAll();
  pool_.waitForDone();
  exclusive_.waitForDone();
  // The jobs are deleted with the runner (they are its children). Their owners listen to
  // `destroyed` to start queued work (the latest slider position): during shutdown that would
  // start a job on this half-destroyed runner. Nobody hears about jobs deleted from here on.
  for (Job* job : findChildren<Job*>(Qt::FindDirectChildrenOnly)) job->disconnect();
}

void JobRunner::post(QObject* receiver, std::function<void()> fn) {
  QPointer<QObject> guard(receiver);
  QMetaObject::invokeMethod(
      receiver,
      [guard, fn = std::move(fn)] {
        if (guard) fn();
      },
      Qt::QueuedConnection);
}

Job* JobRunner::start(const QString& title, Work work, Cores cores) {
  return submit(title, std::move(work), pool_, 0, cores);
}

Job* JobRunner::startExclusive(const QString& title, Urgency urgency, Work work) {
  return submit(title, std::move(work), exclusive_, int(urgency), Cores::All);
}

Job* JobRunner::submit(const QString& title, Work work, QThreadPool& pool, int priority,
                       Cores cores) {
  auto* job = new Job(next_id_++, title, this);
  active_.append(job);
  Q_EMIT jobStarted(job);
  Q_EMIT activeCountChanged(activeCount());
  QPointer<Job> handle(job);
  const ds::CancellationToken token = job->token();
  // Progress may arrive far faster than the UI can draw: keep at most one queued update.
  auto pending = std::make_shared<std::atomic<bool>>(false);
  ds::ProgressCallback progress = [this, handle, pending](const ds::Progress& p) {
    if (pending->exchange(true)) return;
    const double fraction = p.fraction();
    const QString message = QString::fromStdString(p.message);
    post(this, [this, handle, pending, fraction, message] {
      pending->store(false);
      if (!handle) return;
      handle->fraction_ = fraction;
      handle->message_ = message;
      Q_EMIT handle->progressed(fraction, message);
      Q_EMIT jobProgressed(handle);
    });
  };
  pool.start(
      [this, handle, token, progress, cores, work = std::move(work)] {
        lower_worker_priority();
        // Counted while it runs, so that the all-cores jobs running together share the cores.
        struct AllCores {
          std::atomic<int>* running;
          ~AllCores() {
            if (running) --*running;
          }
        } counted{cores == Cores::All ? &all_cores_running_ : nullptr};
        if (counted.running) ++*counted.running;
        ds::set_calling_thread_count(cores == Cores::All ? coresPerAllCoresJob() : 1);
        // Code deep in the job (a likelihood's network chunks) sees its token too.
        const ds::CancellationScope scope(token);
        const ds::JobContext context(progress, token);
        Publish publish;
        QString error;
        bool cancelled = false;
        try {
          context.check_cancelled();  // cancelled while it waited in its queue: never runs
          publish = work(context);
        } catch (const ds::Cancelled&) {
          cancelled = true;
        } catch (const std::exception& e) {
          error = QString::fromUtf8(e.what());
        } catch (...) {
          error = QStringLiteral("unknown error");
        }
        post(this, [this, handle, publish = std::move(publish), error, cancelled] {
          if (!handle) return;
          if (cancelled || handle->token().requested()) {
            Q_EMIT jobCancelled(handle);
          } else if (!error.isEmpty()) {
            Q_EMIT jobFailed(handle->title(), error);
          } else if (publish) {
            try {
              publish();
            } catch (const std::exception& e) {
              Q_EMIT jobFailed(handle->title(), QString::fromUtf8(e.what()));
            }
          }
          finish(handle);
        });
      },
      priority);
  return job;
}

int JobRunner::coresPerAllCoresJob() const {
  const int running = std::max(1, all_cores_running_.load());
  return std::max(1, ds::thread_count() / running);
}

void JobRunner::finish(Job* job) {
  active_.removeOne(job);
  Q_EMIT jobFinished(job);
  Q_EMIT activeCountChanged(activeCount());
  job->deleteLater();
}

void JobRunner::cancelAll() {
  for (Job* job : active_) job->cancel();
}

bool JobRunner::waitForIdle(int timeout_ms) {
  QElapsedTimer timer;
  timer.start();
  while (!active_.isEmpty() && timer.elapsed() < timeout_ms) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QThread::msleep(2);
  }
  return active_.isEmpty();
}

}  // namespace dsui
