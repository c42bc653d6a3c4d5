#pragma once

// A VTK 3D view of a point set (e.g. a halo catalogue) inside its periodic cubic box.
//
// Debian's VTK Qt module is built against Qt5, so VTK is embedded here by hand: the widget owns
// a vtkGenericOpenGLRenderWindow that renders into its own framebuffer inside the widget's GL
// context, and paintGL blits the result into the widget's framebuffer. VTK headers stay in the
// .cpp so that users of this header need neither VTK include paths nor VTK link flags.

#include <QOpenGLWidget>
#include <QSurfaceFormat>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace dsui {

struct PointSet {
  double box_size = 0;  // side L of the periodic box [0, L]^3
  std::vector<std::array<float, 3>> positions;
  // Optional per-point colour value (e.g. log10 mass), one per position; empty = uniform colour.
  std::vector<float> scalars;
};

class PointCloudView : public QOpenGLWidget {
  Q_OBJECT

 public:
  explicit PointCloudView(QWidget* parent = nullptr);
  ~PointCloudView() override;

  // The context format VTK 9.1 needs (OpenGL 3.2 core, no multisampling in the default
  // framebuffer: VTK renders into its own framebuffer objects). Applications that mix several
  // GL widgets should install it with QSurfaceFormat::setDefaultFormat before QApplication.
  static QSurfaceFormat recommendedFormat();

  // Replaces the displayed set; the camera is reset the first time a non-empty set arrives.
  void setPoints(std::shared_ptr<const PointSet> points);
  std::shared_ptr<const PointSet> points() const;

  void resetCamera();
  void setPointSize(double pixels);
  double pointSize() const { return point_size_; }

  // True once a frame showing the current (non-empty) point set has been rendered.
  bool hasRenderedPoints() const;

 Q_SIGNALS:
  void frameRendered();

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;

  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;

 private:
  struct Vtk;  // VTK objects, defined in the .cpp

  void releaseGraphics();
  void rebuildScene();
  // Feeds a Qt mouse position and modifiers to the interactor; returns false before setup.
  bool forwardPointer(const QPointF& pos, Qt::KeyboardModifiers mods);

  std::unique_ptr<Vtk> vtk_;
  std::shared_ptr<const PointSet> points_;
  double point_size_ = 4.0;
  bool camera_initialised_ = false;
  bool in_paint_ = false;
  std::uint64_t points_generation_ = 0;    // bumped by setPoints
  std::uint64_t rendered_generation_ = 0;  // generation shown by the last frame
  int wheel_remainder_ = 0;                // partial wheel steps (high-resolution wheels)
};

}  // namespace dsui
