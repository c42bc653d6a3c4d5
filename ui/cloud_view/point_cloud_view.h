#pragma once

// A VTK 3D view of a point set (e.g. a halo catalogue) inside its periodic cubic box: points
// coloured by a chosen quantity with a colour bar, optionally sized by mass, velocity arrows on
// demand, the box with labelled axes in Mpc/h, and camera presets along the axes.
//
// Debian's VTK Qt module is built against Qt5, so VTK is embedded here by hand: the widget owns
// a vtkGenericOpenGLRenderWindow that renders into its own framebuffer inside the widget's GL
// context, and paintGL blits the result into the widget's framebuffer. VTK headers stay in the
// .cpp so that users of this header need neither VTK include paths nor VTK link flags.

#include <QOpenGLWidget>
#include <QString>
#include <QStringList>
#include <QSurfaceFormat>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsui {

struct PointSet {
  double box_size = 0;  // side L of the periodic box [0, L]^3
  std::vector<std::array<float, 3>> positions;
  // Optional per-point colour value (e.g. log10 mass), one per position; empty = uniform colour.
  // Shown as the quantity "value" when the set has no named features.
  std::vector<float> scalars;
  // Named per-point quantities in physical units (a catalogue's features: x y z [vx vy vz
  // log10_mass], DESIGN.md units): features[i] holds one value per position for feature_names[i].
  std::vector<std::string> feature_names;
  std::vector<std::vector<float>> features;

  // The column named `name` when it has one value per position; null otherwise.
  const std::vector<float>* feature(const std::string& name) const;
  bool hasVelocities() const;  // vx, vy, vz columns
};

// A sampler's path to a point set (the halo model's probability-flow ODE): the set after each
// stored step, the last one the final set. What the panel's step scrubber shows.
struct PointTrajectory {
  std::vector<std::shared_ptr<const PointSet>> frames;
  std::vector<int> steps;  // the sampler step of each frame (1 .. total_steps)
  int total_steps = 0;
};

// The unit of a catalogue feature by its name (x/y/z: Mpc/h, vx/vy/vz/speed: km/s, log10_mass:
// log10(Msun/h)); empty when unknown.
QString featureUnit(const QString& name);
// "name [unit]", or the name alone when the unit is unknown.
QString featureTitle(const QString& name);

// How the optional features are drawn (the arrow length, the glyph sizes), see the .cpp.
inline constexpr char kSpeedQuantity[] = "speed";     // |v| from vx, vy, vz
inline constexpr char kScalarsQuantity[] = "value";   // PointSet::scalars without features
inline constexpr char kMassFeature[] = "log10_mass";  // what "size by mass" reads

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

  // Colouring. The quantities of the current set: its features, "speed" when it has velocities,
  // "value" for legacy scalars. Until a quantity is chosen the points are coloured by log10_mass
  // (or "value"), as they always were; a chosen quantity stays chosen across sets while it exists.
  QStringList colourQuantities() const;
  void setColourQuantity(const QString& name);  // empty: one uniform colour, no colour bar
  QString colourQuantity() const;               // the quantity in use; empty: none
  // The colour bar (shown exactly when the points are coloured): its range is the quantity's
  // finite min and max over the set, its title the quantity with its unit.
  bool colourBarVisible() const;
  std::array<double, 2> colourBarRange() const;
  QString colourBarTitle() const;

  // Points as shaded spheres whose radius follows the halo mass (needs log10_mass).
  void setSizeByMass(bool on);
  bool sizeByMass() const { return size_by_mass_; }
  bool canSizeByMass() const;
  bool massSizesShown() const { return size_by_mass_ && canSizeByMass(); }

  // Velocity arrows (off by default); drawn only when asked and the set has vx, vy, vz.
  void setShowVelocities(bool on);
  bool showVelocities() const { return show_velocities_; }
  bool hasVelocities() const;
  bool velocityArrowsShown() const { return show_velocities_ && hasVelocities(); }
  // World length (Mpc/h) of an arrow per km/s: 6% of the box side for the 95th-percentile speed.
  double arrowScale() const { return arrow_scale_; }

  void setShowAxes(bool on);  // labelled box axes in Mpc/h and the orientation marker
  bool showAxes() const { return show_axes_; }

  // Camera presets, in parallel projection: AlongX looks down -x (y right, z up), AlongY down +y
  // (x right, z up), AlongZ down -z (x right, y up), Isometric down -(1, 1, 1) (z up).
  // resetCamera is the oblique perspective default.
  enum class CameraPreset { AlongX, AlongY, AlongZ, Isometric };
  void setCameraPreset(CameraPreset preset);
  std::array<double, 3> cameraDirection() const;  // the unit direction of projection
  bool parallelProjection() const;

 Q_SIGNALS:
  void frameRendered();
  // A new set (its quantities may differ) or a display option changed: controls re-sync.
  void displayChanged();

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
  void applyColouring();
  void applyVisibility();
  void placeCamera(const double direction[3], const double view_up[3], bool parallel,
                   int hidden_axis);
  void showAllAxes(int except);  // except: 0/1/2 hides the x/y/z axis, -1 shows all
  // Feeds a Qt mouse position and modifiers to the interactor; returns false before setup.
  bool forwardPointer(const QPointF& pos, Qt::KeyboardModifiers mods);

  std::unique_ptr<Vtk> vtk_;
  std::shared_ptr<const PointSet> points_;
  double point_size_ = 4.0;
  std::optional<QString> colour_request_;  // nullopt: automatic (mass, else value)
  QString colour_quantity_;                // in use
  std::array<double, 2> colour_range_{0, 1};
  bool size_by_mass_ = false;
  bool show_velocities_ = false;
  bool show_axes_ = true;
  double arrow_scale_ = 0;
  bool camera_initialised_ = false;
  bool in_paint_ = false;
  std::uint64_t points_generation_ = 0;    // bumped by setPoints
  std::uint64_t rendered_generation_ = 0;  // generation shown by the last frame
  int wheel_remainder_ = 0;                // partial wheel steps (high-resolution wheels)
};

}  // namespace dsui
