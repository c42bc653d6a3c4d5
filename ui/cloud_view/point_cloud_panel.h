// The 3D view with its control strip: colour by (none, a catalogue feature, speed), size by mass,
// velocity arrows, axes, and camera presets (x, y, z, isometric, reset). The strip only forwards
// to PointCloudView and re-syncs from its displayChanged signal, so the view stays the one model.
#pragma once

#include <QTimer>
#include <QWidget>
#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QToolButton;

namespace dsui {

class PointCloudView;
struct PointSet;
struct PointTrajectory;

class PointCloudPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PointCloudPanel(QWidget* parent = nullptr);

  PointCloudView* view() const { return view_; }
  QComboBox* colourBox() const { return colour_box_; }

  // The sampler's stored path to the set shown (nullptr: none; the step strip hides). A new
  // trajectory shows its last frame, the final set. Scrubbing shows a stored frame: nothing is
  // recomputed.
  void setTrajectory(std::shared_ptr<const PointTrajectory> trajectory);
  std::shared_ptr<const PointTrajectory> trajectory() const { return trajectory_; }
  void setFrame(int index);  // 0 .. frames - 1, clamped
  int frame() const { return frame_; }
  void play();  // from the first frame to the last, about 20 frames a second
  void pause();
  bool playing() const { return timer_.isActive(); }
  QSlider* stepSlider() const { return step_slider_; }
  QString stepText() const;

 private:
  void syncControls();
  void showFrame();

  PointCloudView* view_;
  QComboBox* colour_box_;
  QCheckBox* size_by_mass_;
  QCheckBox* velocities_;
  QCheckBox* axes_;
  QWidget* step_strip_;
  QSlider* step_slider_;
  QLabel* step_label_;
  QToolButton* play_;
  QTimer timer_;
  std::shared_ptr<const PointTrajectory> trajectory_;
  int frame_ = 0;
};

}  // namespace dsui
