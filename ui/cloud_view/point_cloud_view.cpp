#include "ui/cloud_view/point_cloud_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QWheelEvent>

#include <vtkActor.h>
#include <vtkArrowSource.h>
#include <vtkAxesActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCommand.h>
#include <vtkCubeAxesActor.h>
#include <vtkFloatArray.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkGlyph3D.h>
#include <vtkIdTypeArray.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkLookupTable.h>
#include <vtkNew.h>
#include <vtkOpenGLState.h>
#include <vtkOrientationMarkerWidget.h>
#include <vtkOutlineSource.h>
#include <vtkPointData.h>
#include <vtkPointGaussianMapper.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkScalarBarActor.h>
#include <vtkTextProperty.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>

namespace dsui {

const std::vector<float>* PointSet::feature(const std::string& name) const {
  for (std::size_t i = 0; i < feature_names.size() && i < features.size(); ++i)
    if (feature_names[i] == name && features[i].size() == positions.size()) return &features[i];
  return nullptr;
}

bool PointSet::hasVelocities() const {
  return !positions.empty() && feature("vx") && feature("vy") && feature("vz");
}

QString featureUnit(const QString& name) {
  if (name == QLatin1String("x") || name == QLatin1String("y") || name == QLatin1String("z"))
    return QStringLiteral("Mpc/h");
  if (name == QLatin1String("vx") || name == QLatin1String("vy") || name == QLatin1String("vz") ||
      name == QLatin1String(kSpeedQuantity))
    return QStringLiteral("km/s");
  if (name == QLatin1String(kMassFeature)) return QStringLiteral("log10(Msun/h)");
  return QString();
}

QString featureTitle(const QString& name) {
  const QString unit = featureUnit(name);
  return unit.isEmpty() ? name : QStringLiteral("%1 [%2]").arg(name, unit);
}

namespace {

// Size by mass: a halo's radius grows as M^(1/3) (a virial radius at fixed overdensity), so a
// sphere's radius is kMaxRadius * L * 10^((log10 M - max log10 M) / 3), exaggerated for
// visibility and floored at a quarter of the largest so the lightest halos stay visible.
constexpr double kMaxRadiusFraction = 0.014;
constexpr double kMinRadiusRatio = 0.25;
// Arrow length: |v| * scale, with the scale making the 95th-percentile speed 6% of the box side
// (a percentile, so one fast halo does not shrink all the other arrows).
constexpr double kArrowFraction = 0.06;

// Sphere imposters for vtkPointGaussianMapper: the default Gaussian splat shows dark corners
// when opaque (gui-stack pitfall 8); this discards outside the unit disc and shades like a ball.
constexpr char kSphereSplat[] =
    "//VTK::Color::Impl\n"
    "float dist2 = dot(offsetVCVSOutput.xy, offsetVCVSOutput.xy);\n"
    "if (dist2 > 1.0) { discard; } else {\n"
    "  float shade = 0.35 + 0.65 * sqrt(1.0 - dist2);\n"
    "  ambientColor *= shade;\n"
    "  diffuseColor *= shade;\n"
    "}\n";

// Finite min and max of values; {0, 1} when none is finite, widened when constant.
std::array<double, 2> finiteRange(const std::vector<float>& values) {
  double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
  for (float v : values)
    if (std::isfinite(v)) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
  if (!(lo <= hi)) return {0, 1};
  return {lo, hi};
}

vtkSmartPointer<vtkFloatArray> floatArray(const char* name, const std::vector<float>& values,
                                          int components = 1) {
  auto array = vtkSmartPointer<vtkFloatArray>::New();
  array->SetName(name);
  array->SetNumberOfComponents(components);
  array->SetNumberOfTuples(vtkIdType(values.size() / std::size_t(components)));
  std::copy(values.begin(), values.end(), array->GetPointer(0));
  return array;
}

// vtkCommand that runs a std::function, so observers can be lambdas capturing the widget.
class LambdaCommand : public vtkCommand {
 public:
  static LambdaCommand* New() { return new LambdaCommand; }
  std::function<void(void*)> fn;
  void Execute(vtkObject*, unsigned long, void* call_data) override {
    if (fn) fn(call_data);
  }
};

// Bright anchors for the scalar colour map: the dark ends of perceptual maps vanish
// on the dark background, so the ramp runs blue -> cyan -> pale yellow -> orange -> red.
constexpr double kRamp[][3] = {{0.25, 0.45, 0.95},
                               {0.35, 0.85, 0.95},
                               {0.95, 0.95, 0.55},
                               {1.0, 0.55, 0.2},
                               {0.95, 0.25, 0.3}};
constexpr int kRampSegments = int(std::size(kRamp)) - 1;
constexpr double kUniformColour[3] = {0.55, 0.8, 1.0};

void fillRamp(vtkLookupTable* lut) {
  constexpr int kEntries = 256;
  lut->SetNumberOfTableValues(kEntries);
  for (int i = 0; i < kEntries; ++i) {
    const double t = double(i) / (kEntries - 1) * kRampSegments;
    const int s = std::min(int(t), kRampSegments - 1);
    const double f = t - s;
    const double* a = kRamp[s];
    const double* b = kRamp[s + 1];
    lut->SetTableValue(i, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f,
                       a[2] + (b[2] - a[2]) * f, 1.0);
  }
}

// Calls the interactor's handler for a Qt button; false for buttons the camera style ignores.
bool forwardButton(vtkRenderWindowInteractor* iren, Qt::MouseButton button, bool press) {
  using Handler = void (vtkRenderWindowInteractor::*)();
  Handler handler = nullptr;
  if (button == Qt::LeftButton) {
    handler = press ? &vtkRenderWindowInteractor::LeftButtonPressEvent
                    : &vtkRenderWindowInteractor::LeftButtonReleaseEvent;
  } else if (button == Qt::MiddleButton) {
    handler = press ? &vtkRenderWindowInteractor::MiddleButtonPressEvent
                    : &vtkRenderWindowInteractor::MiddleButtonReleaseEvent;
  } else if (button == Qt::RightButton) {
    handler = press ? &vtkRenderWindowInteractor::RightButtonPressEvent
                    : &vtkRenderWindowInteractor::RightButtonReleaseEvent;
  }
  if (handler) (iren->*handler)();
  return handler != nullptr;
}

// Key press or release; VTK wants the key as a character and an X11-style key symbol.
void forwardKey(vtkRenderWindowInteractor* iren, const QKeyEvent* event) {
  const QByteArray text = event->text().toLatin1();
  const Qt::KeyboardModifiers mods = event->modifiers();
  iren->SetKeyEventInformation((mods & Qt::ControlModifier) ? 1 : 0,
                               (mods & Qt::ShiftModifier) ? 1 : 0, text.isEmpty() ? 0 : text[0],
                               event->isAutoRepeat() ? 1 : 0, text.constData());
  // Only KeyPress/KeyRelease, not Char: the style's Char handlers toggle stereo or quit.
  if (event->type() == QEvent::KeyPress) {
    iren->KeyPressEvent();
  } else {
    iren->KeyReleaseEvent();
  }
}

}  // namespace

struct PointCloudView::Vtk {
  vtkNew<vtkGenericOpenGLRenderWindow> window;
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkGenericRenderWindowInteractor> interactor;
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  vtkNew<vtkPolyData> cloud;
  vtkNew<vtkPolyDataMapper> cloud_mapper;
  vtkNew<vtkActor> cloud_actor;
  vtkNew<vtkLookupTable> lut;
  vtkNew<vtkPointGaussianMapper> sphere_mapper;  // size by mass
  vtkNew<vtkActor> sphere_actor;
  vtkNew<vtkArrowSource> arrow;
  vtkNew<vtkGlyph3D> arrows;  // runs only while its actor is visible
  vtkNew<vtkPolyDataMapper> arrow_mapper;
  vtkNew<vtkActor> arrow_actor;
  vtkNew<vtkScalarBarActor> colour_bar;
  vtkNew<vtkOutlineSource> outline;
  vtkNew<vtkPolyDataMapper> outline_mapper;
  vtkNew<vtkActor> outline_actor;
  vtkNew<vtkCubeAxesActor> cube_axes;
  vtkNew<vtkAxesActor> marker_axes;
  vtkNew<vtkOrientationMarkerWidget> marker;
  std::vector<std::pair<QString, std::array<double, 2>>> quantities;  // name, finite range
  bool has_mass = false, has_velocities = false;
  bool gl_ready = false;

  void observe(vtkObject* subject, unsigned long event, std::function<void(void*)> fn) {
    vtkNew<LambdaCommand> command;
    command->fn = std::move(fn);
    subject->AddObserver(event, command);
  }
};

QSurfaceFormat PointCloudView::recommendedFormat() {
  QSurfaceFormat format;
  format.setRenderableType(QSurfaceFormat::OpenGL);
  format.setVersion(3, 2);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(8);
  format.setAlphaBufferSize(8);
  format.setSamples(0);
  return format;
}

PointCloudView::PointCloudView(QWidget* parent) : QOpenGLWidget(parent), vtk_(new Vtk) {
  // VTK 9.1 needs 3.2 core; respect an application-wide default that already provides it.
  const QSurfaceFormat app_format = QSurfaceFormat::defaultFormat();
  if (app_format.version() < qMakePair(3, 2)) setFormat(recommendedFormat());
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(160, 120);

  Vtk& v = *vtk_;
  v.window->SetOwnContext(false);
  // Nothing may render before initializeGL has a context to hand VTK.
  v.window->SetReadyForRendering(false);
  v.window->SetFrameBlitModeToNoBlit();
  v.window->SetMultiSamples(0);  // software GL pays per sample; points are imposters anyway
  v.window->SetForceMaximumHardwareLineWidth(1);
  v.window->AddRenderer(v.renderer);
  v.interactor->SetRenderWindow(v.window);
  v.interactor->SetInteractorStyle(v.style);
  // Interaction only changes the camera; the frame itself is drawn in paintGL.
  v.interactor->EnableRenderOff();
  v.interactor->Initialize();

  // Making Qt's framebuffer current as well (QOpenGLWidget::makeCurrent) would rebind it behind
  // VTK's cached GL state and leave a black pane, so only the context is made current.
  v.observe(v.window, vtkCommand::WindowMakeCurrentEvent, [this](void*) {
    if (QOpenGLContext* ctx = context()) ctx->makeCurrent(ctx->surface());
  });
  v.observe(v.window, vtkCommand::WindowIsCurrentEvent, [this](void* data) {
    *static_cast<bool*>(data) = context() && QOpenGLContext::currentContext() == context();
  });
  // A render requested outside paintGL (e.g. by a VTK filter) still has to reach the screen.
  v.observe(v.window, vtkCommand::WindowFrameEvent, [this](void*) {
    if (!in_paint_) update();
  });
  v.observe(v.interactor, vtkCommand::RenderEvent, [this](void*) { update(); });

  v.renderer->GradientBackgroundOn();
  v.renderer->SetBackground(0.015, 0.015, 0.03);
  v.renderer->SetBackground2(0.10, 0.11, 0.16);

  fillRamp(v.lut);
  v.cloud_mapper->SetInputData(v.cloud);
  v.cloud_mapper->SetLookupTable(v.lut);
  v.cloud_mapper->UseLookupTableScalarRangeOn();  // the colour bar and the points share one range
  v.cloud_mapper->SetColorModeToMapScalars();
  v.cloud_mapper->SetScalarModeToUsePointData();
  v.cloud_actor->SetMapper(v.cloud_mapper);
  vtkProperty* prop = v.cloud_actor->GetProperty();
  prop->SetRepresentationToPoints();
  prop->SetRenderPointsAsSpheres(true);
  prop->SetColor(kUniformColour[0], kUniformColour[1], kUniformColour[2]);
  prop->SetSpecular(0.3);
  prop->SetSpecularPower(20);
  v.renderer->AddActor(v.cloud_actor);

  v.sphere_mapper->SetInputData(v.cloud);
  v.sphere_mapper->SetLookupTable(v.lut);
  v.sphere_mapper->UseLookupTableScalarRangeOn();
  v.sphere_mapper->SetColorModeToMapScalars();
  v.sphere_mapper->SetScalarModeToUsePointData();
  v.sphere_mapper->SetScaleArray("radius");
  v.sphere_mapper->SetScaleFactor(1.0);
  v.sphere_mapper->SetSplatShaderCode(kSphereSplat);
  v.sphere_mapper->EmissiveOff();
  v.sphere_actor->SetMapper(v.sphere_mapper);
  v.sphere_actor->GetProperty()->SetColor(kUniformColour[0], kUniformColour[1], kUniformColour[2]);
  v.sphere_actor->SetVisibility(false);
  v.renderer->AddActor(v.sphere_actor);

  v.arrow->SetTipResolution(8);
  v.arrow->SetShaftResolution(6);
  v.arrow->SetTipLength(0.3);
  v.arrow->SetTipRadius(0.12);
  v.arrow->SetShaftRadius(0.04);
  v.arrows->SetInputData(v.cloud);
  v.arrows->SetSourceConnection(v.arrow->GetOutputPort());
  v.arrows->SetVectorModeToUseVector();
  v.arrows->SetScaleModeToScaleByVector();
  v.arrows->OrientOn();
  v.arrows->SetInputArrayToProcess(1, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "velocity");
  v.arrow_mapper->SetInputConnection(v.arrows->GetOutputPort());
  v.arrow_mapper->ScalarVisibilityOff();
  v.arrow_actor->SetMapper(v.arrow_mapper);
  v.arrow_actor->GetProperty()->SetColor(0.92, 0.92, 0.88);
  v.arrow_actor->SetVisibility(false);
  v.renderer->AddActor(v.arrow_actor);

  v.colour_bar->SetLookupTable(v.lut);
  v.colour_bar->SetOrientationToVertical();
  v.colour_bar->SetNumberOfLabels(5);
  v.colour_bar->SetLabelFormat("%.4g");
  v.colour_bar->SetPosition(0.86, 0.1);
  v.colour_bar->SetWidth(0.12);
  v.colour_bar->SetHeight(0.74);
  v.colour_bar->SetBarRatio(0.3);
  v.colour_bar->UnconstrainedFontSizeOn();
  v.colour_bar->GetTitleTextProperty()->SetFontSize(13);
  v.colour_bar->GetTitleTextProperty()->SetJustificationToCentered();
  v.colour_bar->GetLabelTextProperty()->SetFontSize(12);
  v.colour_bar->GetLabelTextProperty()->ItalicOff();
  v.colour_bar->GetTitleTextProperty()->ItalicOff();
  v.colour_bar->SetVisibility(false);
  v.renderer->AddActor2D(v.colour_bar);

  v.outline_mapper->SetInputConnection(v.outline->GetOutputPort());
  v.outline_actor->SetMapper(v.outline_mapper);
  v.outline_actor->GetProperty()->SetColor(0.6, 0.62, 0.7);
  v.outline_actor->GetProperty()->SetLighting(false);
  v.renderer->AddActor(v.outline_actor);

  // Labelled box edges in Mpc/h; the labels follow the camera.
  v.cube_axes->SetCamera(v.renderer->GetActiveCamera());
  v.cube_axes->SetXTitle("x");
  v.cube_axes->SetYTitle("y");
  v.cube_axes->SetZTitle("z");
  v.cube_axes->SetXUnits("Mpc/h");
  v.cube_axes->SetYUnits("Mpc/h");
  v.cube_axes->SetZUnits("Mpc/h");
  v.cube_axes->SetXLabelFormat("%.0f");
  v.cube_axes->SetYLabelFormat("%.0f");
  v.cube_axes->SetZLabelFormat("%.0f");
  v.cube_axes->SetFlyModeToOuterEdges();
  v.cube_axes->SetScreenSize(11);
  v.cube_axes->SetLabelOffset(12);
  v.cube_axes->SetTitleOffset(16);
  for (int a = 0; a < 3; ++a) {
    v.cube_axes->GetTitleTextProperty(a)->SetColor(0.85, 0.87, 0.92);
    v.cube_axes->GetLabelTextProperty(a)->SetColor(0.7, 0.72, 0.8);
  }
  v.cube_axes->GetXAxesLinesProperty()->SetColor(0.6, 0.62, 0.7);
  v.cube_axes->GetYAxesLinesProperty()->SetColor(0.6, 0.62, 0.7);
  v.cube_axes->GetZAxesLinesProperty()->SetColor(0.6, 0.62, 0.7);
  v.cube_axes->SetVisibility(false);
  v.renderer->AddActor(v.cube_axes);

  // Which way x, y, z point, in the lower left corner.
  v.marker_axes->SetTotalLength(1, 1, 1);
  v.marker_axes->SetShaftTypeToCylinder();
  v.marker->SetOrientationMarker(v.marker_axes);
  v.marker->SetInteractor(v.interactor);
  v.marker->SetViewport(0.0, 0.0, 0.16, 0.22);
  v.marker->SetEnabled(1);
  v.marker->InteractiveOff();

  setPointSize(point_size_);
  rebuildScene();
}

PointCloudView::~PointCloudView() {
  // The context outlives this object's members (pitfall 7): release VTK's GL objects now, with
  // the context current, and stop the context from calling back into a dead widget.
  if (QOpenGLContext* ctx = context()) {
    disconnect(ctx, &QOpenGLContext::aboutToBeDestroyed, this, &PointCloudView::releaseGraphics);
  }
  releaseGraphics();
  const bool current = context() && context()->makeCurrent(context()->surface());
  vtk_.reset();
  if (current) context()->doneCurrent();
}

void PointCloudView::releaseGraphics() {
  if (!vtk_ || !vtk_->gl_ready) return;
  QOpenGLContext* ctx = context();
  if (ctx) ctx->makeCurrent(ctx->surface());
  vtk_->window->Finalize();
  vtk_->window->SetReadyForRendering(false);
  vtk_->gl_ready = false;
  if (ctx) ctx->doneCurrent();
}

void PointCloudView::initializeGL() {
  // Reparenting to another top-level window destroys the context; initializeGL runs again.
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &PointCloudView::releaseGraphics,
          Qt::UniqueConnection);
  Vtk& v = *vtk_;
  v.window->SetReadyForRendering(true);
  v.window->InitializeFromCurrentContext();
  v.gl_ready = true;
}

void PointCloudView::resizeGL(int, int) {
  const qreal dpr = devicePixelRatioF();
  const int w = std::max(1, int(std::lround(width() * dpr)));
  const int h = std::max(1, int(std::lround(height() * dpr)));
  vtk_->window->SetSize(w, h);
  vtk_->interactor->UpdateSize(w, h);
  // Moving to a screen with another pixel ratio resizes too; keep points the same logical size.
  vtk_->cloud_actor->GetProperty()->SetPointSize(float(point_size_ * dpr));
}

void PointCloudView::paintGL() {
  Vtk& v = *vtk_;
  if (!v.gl_ready) return;
  in_paint_ = true;
  vtkOpenGLState* state = v.window->GetState();
  // Qt touched GL state (framebuffer, viewport) since VTK last looked; drop VTK's cache.
  state->Reset();
  // Arrows and axis labels may reach past the box: keep them inside the clipping range.
  v.renderer->ResetCameraClippingRange();
  v.window->Render();

  // VTK rendered into its own framebuffer (NoBlit); copy it into the widget's framebuffer.
  state->PushFramebufferBindings();
  state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  state->vtkglDrawBuffer(GL_COLOR_ATTACHMENT0);
  {
    vtkOpenGLState::ScopedglEnableDisable scissor(state, GL_SCISSOR_TEST);
    state->vtkglDisable(GL_SCISSOR_TEST);
    const int* size = v.window->GetSize();
    v.window->BlitDisplayFramebuffer(0, 0, 0, size[0], size[1], 0, 0, size[0], size[1],
                                     GL_COLOR_BUFFER_BIT, GL_NEAREST);
    // The compositor blends the widget by alpha; VTK's background alpha is 0, so force 1.
    vtkOpenGLState::ScopedglColorMask mask(state);
    vtkOpenGLState::ScopedglClearColor clear(state);
    state->vtkglColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
    state->vtkglClearColor(0, 0, 0, 1);
    state->vtkglClear(GL_COLOR_BUFFER_BIT);
  }
  state->PopFramebufferBindings();
  in_paint_ = false;

  rendered_generation_ = points_generation_;
  Q_EMIT frameRendered();
}

void PointCloudView::setPoints(std::shared_ptr<const PointSet> points) {
  points_ = std::move(points);
  ++points_generation_;
  rebuildScene();
  if (!camera_initialised_ && points_ && !points_->positions.empty()) {
    resetCamera();
    camera_initialised_ = true;
  }
  update();
  Q_EMIT displayChanged();
}

std::shared_ptr<const PointSet> PointCloudView::points() const {
  return points_;
}

bool PointCloudView::hasRenderedPoints() const {
  return points_ && !points_->positions.empty() && rendered_generation_ == points_generation_;
}

void PointCloudView::setPointSize(double pixels) {
  point_size_ = std::max(1.0, pixels);
  vtk_->cloud_actor->GetProperty()->SetPointSize(float(point_size_ * devicePixelRatioF()));
  update();
}

void PointCloudView::rebuildScene() {
  Vtk& v = *vtk_;
  const std::size_t n = points_ ? points_->positions.size() : 0;

  vtkNew<vtkPoints> pts;
  pts->SetDataTypeToFloat();
  pts->SetNumberOfPoints(vtkIdType(n));
  vtkNew<vtkIdTypeArray> ids;
  ids->SetNumberOfValues(vtkIdType(n));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = points_->positions[i];
    pts->SetPoint(vtkIdType(i), p[0], p[1], p[2]);
    ids->SetValue(vtkIdType(i), vtkIdType(i));
  }
  vtkNew<vtkCellArray> verts;
  verts->SetData(1, ids);  // one vertex cell per point
  v.cloud->SetPoints(pts);
  v.cloud->SetVerts(verts);

  // Every quantity the points can be coloured by is a named point array; the colouring picks
  // the active one. Columns that do not match the points one to one are ignored.
  vtkPointData* data = v.cloud->GetPointData();
  data->Initialize();
  v.quantities.clear();
  const auto add = [&](const QString& name, const std::vector<float>& values) {
    data->AddArray(floatArray(name.toUtf8().constData(), values));
    v.quantities.emplace_back(name, finiteRange(values));
  };
  if (n > 0) {
    for (std::size_t f = 0; f < points_->feature_names.size(); ++f) {
      const std::string& name = points_->feature_names[f];
      if (const auto* column = points_->feature(name)) add(QString::fromStdString(name), *column);
    }
    if (points_->feature_names.empty() && points_->scalars.size() == n)
      add(QString::fromLatin1(kScalarsQuantity), points_->scalars);
  }
  v.has_velocities = points_ && points_->hasVelocities();
  arrow_scale_ = 0;
  if (v.has_velocities) {
    const auto &vx = *points_->feature("vx"), &vy = *points_->feature("vy"),
               &vz = *points_->feature("vz");
    std::vector<float> velocity(3 * n), speed(n);
    for (std::size_t i = 0; i < n; ++i) {
      velocity[3 * i] = vx[i], velocity[3 * i + 1] = vy[i], velocity[3 * i + 2] = vz[i];
      speed[i] = std::sqrt(vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    }
    add(QString::fromLatin1(kSpeedQuantity), speed);
    data->SetVectors(floatArray("velocity", velocity, 3));
    std::vector<float> sorted;
    for (float s : speed)
      if (std::isfinite(s)) sorted.push_back(s);
    if (!sorted.empty()) {
      const std::size_t k = std::min(sorted.size() - 1, std::size_t(0.95 * double(sorted.size())));
      std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(k), sorted.end());
      const double side = points_->box_size > 0 ? points_->box_size : 1.0;
      if (sorted[k] > 0) arrow_scale_ = kArrowFraction * side / sorted[k];
    }
    v.arrows->SetScaleFactor(arrow_scale_);
  }
  const std::vector<float>* mass = points_ ? points_->feature(kMassFeature) : nullptr;
  v.has_mass = mass != nullptr;
  if (mass) {
    const auto range = finiteRange(*mass);
    const double side = points_->box_size > 0 ? points_->box_size : 1.0;
    const double r_max = kMaxRadiusFraction * side;
    std::vector<float> radius(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double m = std::isfinite((*mass)[i]) ? (*mass)[i] : range[0];
      radius[i] = float(r_max * std::max(kMinRadiusRatio, std::pow(10.0, (m - range[1]) / 3.0)));
    }
    data->AddArray(floatArray("radius", radius));
  }
  v.cloud->Modified();

  double bounds[6] = {0, 1, 0, 1, 0, 1};
  if (points_ && points_->box_size > 0) {
    for (int a = 0; a < 3; ++a) bounds[2 * a + 1] = points_->box_size;
  } else if (n > 0) {
    v.cloud->GetBounds(bounds);
  }
  v.outline->SetBounds(bounds);
  v.cube_axes->SetBounds(bounds);
  applyColouring();
  applyVisibility();
}

void PointCloudView::applyColouring() {
  Vtk& v = *vtk_;
  // The chosen quantity while this set has it; otherwise the automatic choice.
  QString name;
  const auto has = [&](const QString& q) {
    return std::any_of(v.quantities.begin(), v.quantities.end(),
                       [&](const auto& entry) { return entry.first == q; });
  };
  if (colour_request_ && (colour_request_->isEmpty() || has(*colour_request_))) {
    name = *colour_request_;
  } else if (has(QString::fromLatin1(kMassFeature))) {
    name = QString::fromLatin1(kMassFeature);
  } else if (has(QString::fromLatin1(kScalarsQuantity))) {
    name = QString::fromLatin1(kScalarsQuantity);
  }
  colour_quantity_ = name;
  const bool coloured = !name.isEmpty();
  vtkPointData* data = v.cloud->GetPointData();
  if (coloured) {
    for (const auto& [q, range] : v.quantities)
      if (q == name) colour_range_ = range;
    data->SetActiveScalars(name.toUtf8().constData());
    // A constant quantity still gets one colour (and a bar that says its value).
    double lo = colour_range_[0], hi = colour_range_[1];
    if (hi - lo < 1e-6 * std::max(1.0, std::abs(lo))) hi = lo + std::max(1e-6, std::abs(lo) * 1e-6);
    v.lut->SetRange(lo, hi);
    v.cloud_mapper->SetScalarRange(lo, hi);
    v.sphere_mapper->SetScalarRange(lo, hi);
    // Name and unit on two lines: one line would run past the right edge of the view.
    const QString unit = featureUnit(name);
    const QString title = unit.isEmpty() ? name : QStringLiteral("%1\n[%2]").arg(name, unit);
    v.colour_bar->SetTitle(title.toUtf8().constData());
  } else {
    data->SetActiveScalars(nullptr);
  }
  v.cloud_mapper->SetScalarVisibility(coloured);
  v.sphere_mapper->SetScalarVisibility(coloured);
  v.colour_bar->SetVisibility(coloured);
  v.cloud->Modified();
}

void PointCloudView::applyVisibility() {
  Vtk& v = *vtk_;
  const bool any = points_ && !points_->positions.empty();
  const bool box = any || (points_ && points_->box_size > 0);
  v.sphere_actor->SetVisibility(any && massSizesShown());
  v.cloud_actor->SetVisibility(any && !massSizesShown());
  v.arrow_actor->SetVisibility(any && velocityArrowsShown() && arrow_scale_ > 0);
  v.outline_actor->SetVisibility(box);
  v.cube_axes->SetVisibility(box && show_axes_);
  v.marker->SetEnabled(show_axes_ ? 1 : 0);
  if (show_axes_) v.marker->InteractiveOff();
}

QStringList PointCloudView::colourQuantities() const {
  QStringList names;
  for (const auto& entry : vtk_->quantities) names << entry.first;
  return names;
}

void PointCloudView::setColourQuantity(const QString& name) {
  colour_request_ = name;
  applyColouring();
  ++points_generation_;  // the next frame shows it
  update();
  Q_EMIT displayChanged();
}

QString PointCloudView::colourQuantity() const {
  return colour_quantity_;
}

bool PointCloudView::colourBarVisible() const {
  return vtk_->colour_bar->GetVisibility() != 0;
}

std::array<double, 2> PointCloudView::colourBarRange() const {
  const double* range = vtk_->colour_bar->GetLookupTable()->GetRange();
  return {range[0], range[1]};
}

QString PointCloudView::colourBarTitle() const {
  const char* title = vtk_->colour_bar->GetTitle();
  return title ? QString::fromUtf8(title) : QString();
}

bool PointCloudView::canSizeByMass() const {
  return vtk_->has_mass;
}

void PointCloudView::setSizeByMass(bool on) {
  size_by_mass_ = on;
  applyVisibility();
  ++points_generation_;
  update();
  Q_EMIT displayChanged();
}

bool PointCloudView::hasVelocities() const {
  return vtk_->has_velocities;
}

void PointCloudView::setShowVelocities(bool on) {
  show_velocities_ = on;
  applyVisibility();
  ++points_generation_;
  update();
  Q_EMIT displayChanged();
}

void PointCloudView::setShowAxes(bool on) {
  show_axes_ = on;
  applyVisibility();
  ++points_generation_;
  update();
  Q_EMIT displayChanged();
}

void PointCloudView::placeCamera(const double direction[3], const double view_up[3], bool parallel,
                                 int hidden_axis) {
  Vtk& v = *vtk_;
  showAllAxes(hidden_axis);
  double bounds[6];
  v.outline->Update();
  v.outline->GetOutput()->GetBounds(bounds);
  const double centre[3] = {(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2,
                            (bounds[4] + bounds[5]) / 2};
  vtkCamera* camera = v.renderer->GetActiveCamera();
  camera->SetFocalPoint(centre);
  // The camera sits against the direction of projection; ResetCamera keeps the direction.
  camera->SetPosition(centre[0] - direction[0], centre[1] - direction[1], centre[2] - direction[2]);
  camera->SetViewUp(view_up[0], view_up[1], view_up[2]);
  camera->SetParallelProjection(parallel);
  v.renderer->ResetCamera(bounds);
  // ResetCamera fits the box tightly; the presets leave room for the axis labels around it.
  if (parallel) camera->Zoom(0.9);
  update();
}

void PointCloudView::resetCamera() {
  // An oblique view shows the box as a cube rather than a square.
  const double direction[3] = {-0.9, -0.6, -1.3};
  const double up[3] = {0, 1, 0};
  placeCamera(direction, up, /*parallel=*/false, -1);
}

void PointCloudView::setCameraPreset(CameraPreset preset) {
  // Parallel projection: a view along an axis is a projection of the box onto a face (no
  // perspective inset of the far face), and the axis along the line of sight, which would
  // collapse to a point, is hidden until the camera is turned by hand.
  const double s = 1.0 / std::sqrt(3.0);
  switch (preset) {
    case CameraPreset::AlongX: {
      const double d[3] = {-1, 0, 0}, up[3] = {0, 0, 1};
      return placeCamera(d, up, true, 0);
    }
    case CameraPreset::AlongY: {
      const double d[3] = {0, 1, 0}, up[3] = {0, 0, 1};
      return placeCamera(d, up, true, 1);
    }
    case CameraPreset::AlongZ: {
      const double d[3] = {0, 0, -1}, up[3] = {0, 1, 0};
      return placeCamera(d, up, true, 2);
    }
    case CameraPreset::Isometric: {
      const double d[3] = {-s, -s, -s}, up[3] = {0, 0, 1};
      return placeCamera(d, up, true, -1);
    }
  }
}

void PointCloudView::showAllAxes(int except) {
  vtkCubeAxesActor* axes = vtk_->cube_axes;
  axes->SetXAxisVisibility(except != 0);
  axes->SetYAxisVisibility(except != 1);
  axes->SetZAxisVisibility(except != 2);
}

bool PointCloudView::parallelProjection() const {
  return vtk_->renderer->GetActiveCamera()->GetParallelProjection() != 0;
}

std::array<double, 3> PointCloudView::cameraDirection() const {
  const double* d = vtk_->renderer->GetActiveCamera()->GetDirectionOfProjection();
  return {d[0], d[1], d[2]};
}

bool PointCloudView::forwardPointer(const QPointF& pos, Qt::KeyboardModifiers mods) {
  if (!vtk_) return false;
  const qreal dpr = devicePixelRatioF();
  vtk_->interactor->SetEventInformationFlipY(int(pos.x() * dpr), int(pos.y() * dpr),
                                             (mods & Qt::ControlModifier) ? 1 : 0,
                                             (mods & Qt::ShiftModifier) ? 1 : 0);
  vtk_->interactor->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
  return true;
}

void PointCloudView::mousePressEvent(QMouseEvent* event) {
  if (!forwardPointer(event->position(), event->modifiers())) return;
  showAllAxes(-1);  // turning away from an axis preset brings back its hidden axis
  if (!forwardButton(vtk_->interactor, event->button(), true)) {
    return QOpenGLWidget::mousePressEvent(event);
  }
  event->accept();
  update();
}

void PointCloudView::mouseMoveEvent(QMouseEvent* event) {
  if (!forwardPointer(event->position(), event->modifiers())) return;
  vtk_->interactor->MouseMoveEvent();
  event->accept();
  update();
}

void PointCloudView::mouseReleaseEvent(QMouseEvent* event) {
  if (!forwardPointer(event->position(), event->modifiers())) return;
  if (!forwardButton(vtk_->interactor, event->button(), false)) {
    return QOpenGLWidget::mouseReleaseEvent(event);
  }
  event->accept();
  update();
}

void PointCloudView::wheelEvent(QWheelEvent* event) {
  if (!forwardPointer(event->position(), event->modifiers())) return;
  // VTK zooms by whole notches (120 units); touchpads send fractions, so accumulate them.
  wheel_remainder_ += event->angleDelta().y();
  for (; wheel_remainder_ >= 120; wheel_remainder_ -= 120) {
    vtk_->interactor->MouseWheelForwardEvent();
  }
  for (; wheel_remainder_ <= -120; wheel_remainder_ += 120) {
    vtk_->interactor->MouseWheelBackwardEvent();
  }
  event->accept();
  update();
}

void PointCloudView::keyPressEvent(QKeyEvent* event) {
  // The trackball style's own 'r' fits the current props; ours restores the canonical view.
  if (event->key() == Qt::Key_R && event->modifiers() == Qt::NoModifier) {
    resetCamera();
    return event->accept();
  }
  forwardKey(vtk_->interactor, event);
  QOpenGLWidget::keyPressEvent(event);
  update();
}

void PointCloudView::keyReleaseEvent(QKeyEvent* event) {
  forwardKey(vtk_->interactor, event);
  QOpenGLWidget::keyReleaseEvent(event);
}

}  // namespace dsui
