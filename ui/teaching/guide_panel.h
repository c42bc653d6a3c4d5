// Teaching mode's side panel: a short explanation of whatever view the mouse is over (what P(k)
// is, what the VLB measures, what a leapfrog step is), and a guided tour of the method in a few
// steps, each of which drives the application itself (fields -> statistics -> likelihood ->
// chains) while the panel explains what appears.
#pragma once

#include <QHash>
#include <QPointer>
#include <QString>
#include <QWidget>
#include <functional>
#include <vector>

class QLabel;
class QPushButton;
class QTextBrowser;

namespace dsui {

struct GuideTopic {
  QString key;  // "field", "power_spectrum", ...
  QString title;
  QString text;  // rich text
};
// Every explanation the guide knows, in tour order.
const std::vector<GuideTopic>& guide_topics();
const GuideTopic* find_guide_topic(const QString& key);

struct TourStep {
  QString topic;              // the explanation shown at this step
  std::function<void()> act;  // what the application does when the step is reached
};

class GuidePanel : public QWidget {
  Q_OBJECT
 public:
  explicit GuidePanel(QWidget* parent = nullptr);

  void showTopic(const QString& key);
  QString topic() const { return topic_; }
  QString text() const;  // the explanation shown, as plain text
  // The widget explains itself with topic `key` when the mouse enters it.
  void explainOnHover(QWidget* widget, const QString& key);

  void setTour(std::vector<TourStep> steps);
  void startTour();  // step 0
  void next();
  void back();
  void stopTour();
  int tourStep() const { return step_; }  // -1: no tour running
  int tourLength() const { return int(steps_.size()); }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void goTo(int step);
  QLabel* title_;
  QTextBrowser* body_;
  QLabel* progress_;
  QPushButton *start_, *back_, *next_;
  QString topic_;
  QHash<QObject*, QString> hover_topics_;
  std::vector<TourStep> steps_;
  int step_ = -1;
};

}  // namespace dsui
