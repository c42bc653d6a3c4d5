// The 3D view with its control strip: colour by (none, a catalogue feature, speed), size by mass,
// velocity arrows, axes, and camera presets (x, y, z, isometric, reset). The strip only forwards
// to PointCloudView and re-syncs from its displayChanged signal, so the view stays the one model.
#pragma once

#include <QWidget>

class QCheckBox;
class QComboBox;

namespace dsui {

class PointCloudView;

class PointCloudPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PointCloudPanel(QWidget* parent = nullptr);

  PointCloudView* view() const { return view_; }
  QComboBox* colourBox() const { return colour_box_; }

 private:
  void syncControls();

  PointCloudView* view_;
  QComboBox* colour_box_;
  QCheckBox* size_by_mass_;
  QCheckBox* velocities_;
  QCheckBox* axes_;
};

}  // namespace dsui
