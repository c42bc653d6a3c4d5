// The denoising scrubber: the stored reverse trajectory of the refined emulated field, step by
// step, with Play / Pause. Shows the sampler's state x_t (model space, noise included), the clean
// field the network predicts from it, or both side by side, with the step and noise level.
// Scrubbing only redraws stored frames: nothing is recomputed.
#pragma once

#include <QTimer>
#include <QWidget>
#include <memory>

#include "ui/field_workspace.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;

namespace dsui {

class DenoisingPanel : public QWidget {
  Q_OBJECT
 public:
  enum class Show { Both, State, Prediction };
  explicit DenoisingPanel(QWidget* parent = nullptr);

  void setTrajectory(std::shared_ptr<const DenoisingTrajectory> trajectory);
  std::shared_ptr<const DenoisingTrajectory> trajectory() const { return trajectory_; }
  void setFrame(int index);  // 0 .. frames - 1, clamped
  int frame() const { return frame_; }
  void setShow(Show show);
  void play();
  void pause();
  bool playing() const { return timer_.isActive(); }

  // What is on screen now (tests): the frame's images and the caption.
  std::shared_ptr<const FieldImage> shownState() const { return shown_state_; }
  std::shared_ptr<const FieldImage> shownPrediction() const { return shown_prediction_; }
  QString caption() const;
  QSlider* slider() const { return slider_; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void redraw();
  QLabel* state_;
  QLabel* prediction_;
  QLabel* caption_;
  QSlider* slider_;
  QPushButton* play_;
  QComboBox* show_box_;
  QTimer timer_;
  Show show_ = Show::Both;
  int frame_ = 0;
  std::shared_ptr<const DenoisingTrajectory> trajectory_;
  std::shared_ptr<const FieldImage> shown_state_, shown_prediction_;
};

}  // namespace dsui
