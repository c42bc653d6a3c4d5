#include "ui/jobs/job_status_widget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include "ui/jobs/job_runner.h"

namespace dsui {

JobStatusWidget::JobStatusWidget(JobRunner* runner, QWidget* parent)
    : QWidget(parent), runner_(runner) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  label_ = new QLabel(this);
  bar_ = new QProgressBar(this);
  bar_->setRange(0, 1000);
  bar_->setMaximumWidth(180);
  bar_->setTextVisible(false);
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setToolTip(tr("Cancel the running computation"));
  cancel_->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
  label_->setMinimumWidth(220);
  layout->addWidget(label_);
  layout->addWidget(bar_);
  layout->addWidget(cancel_);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    if (shown_) shown_->cancel();
  });
  connect(runner_, &JobRunner::jobStarted, this, [this](Job* job) {
    shown_ = job;
    refresh();
  });
  connect(runner_, &JobRunner::jobProgressed, this, [this](Job* job) {
    // Any repaint of a window holding GL views recomposes the whole window, which costs tens of
    // milliseconds under software rendering: show progress at most every 200 ms.
    if (job != shown_ || (since_refresh_.isValid() && since_refresh_.elapsed() < 200)) return;
    refresh();
  });
  connect(runner_, &JobRunner::jobFinished, this, [this](Job* job) {
    if (job != shown_) return;
    // Show the newest job that is still running, if any.
    shown_ = runner_->activeJobs().isEmpty() ? nullptr : runner_->activeJobs().back();
    refresh();
  });
  refresh();
}

void JobStatusWidget::refresh() {
  since_refresh_.start();
  // Enable/disable rather than show/hide: a status bar that changes height relayouts the whole
  // window, and resizing the GL views is expensive under software rendering.
  bar_->setEnabled(shown_ != nullptr);
  cancel_->setEnabled(shown_ != nullptr);
  if (!shown_) {
    label_->setText(tr("Idle"));
    bar_->setValue(0);
    return;
  }
  QString text = shown_->title();
  if (!shown_->message().isEmpty()) text += QStringLiteral(": ") + shown_->message();
  label_->setText(text);
  bar_->setValue(int(shown_->fraction() * 1000));
}

}  // namespace dsui
