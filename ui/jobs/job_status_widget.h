// Status-bar widget: the running job's title and progress, and a Cancel button.
#pragma once

#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace dsui {

class Job;
class JobRunner;

class JobStatusWidget : public QWidget {
  Q_OBJECT
 public:
  JobStatusWidget(JobRunner* runner, QWidget* parent = nullptr);
  QPushButton* cancelButton() const { return cancel_; }

 private:
  void refresh();

  JobRunner* runner_;
  Job* shown_ = nullptr;
  QLabel* label_;
  QProgressBar* bar_;
  QPushButton* cancel_;
  QElapsedTimer since_refresh_;
};

}  // namespace dsui
