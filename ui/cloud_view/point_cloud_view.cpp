#include "ui/cloud_view/point_cloud_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QWheelEvent>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCommand.h>
#include <vtkFloatArray.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkIdTypeArray.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkLookupTable.h>
#include <vtkNew.h>
#include <vtkOpenGLState.h>
#include <vtkOutlineSource.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>

namespace dsui {
namespace {

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
  vtkNew<vtkOutlineSource> outline;
  vtkNew<vtkPolyDataMapper> outline_mapper;
  vtkNew<vtkActor> outline_actor;
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

  v.outline_mapper->SetInputConnection(v.outline->GetOutputPort());
  v.outline_actor->SetMapper(v.outline_mapper);
  v.outline_actor->GetProperty()->SetColor(0.6, 0.62, 0.7);
  v.outline_actor->GetProperty()->SetLighting(false);
  v.renderer->AddActor(v.outline_actor);

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

  // Colour by scalars only when they match the points one to one.
  const bool coloured = n > 0 && points_->scalars.size() == n;
  if (coloured) {
    vtkNew<vtkFloatArray> values;
    values->SetName("value");
    values->SetNumberOfValues(vtkIdType(n));
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (std::size_t i = 0; i < n; ++i) {
      const float s = points_->scalars[i];
      values->SetValue(vtkIdType(i), s);
      if (std::isfinite(s)) lo = std::min(lo, s), hi = std::max(hi, s);
    }
    if (!(lo <= hi)) lo = hi = 0;
    if (hi - lo < 1e-6f) hi = lo + 1;  // a constant field still gets one colour
    v.cloud->GetPointData()->SetScalars(values);
    v.cloud_mapper->SetScalarRange(lo, hi);
  } else {
    v.cloud->GetPointData()->SetScalars(nullptr);
  }
  v.cloud_mapper->SetScalarVisibility(coloured);
  v.cloud->Modified();

  double bounds[6] = {0, 1, 0, 1, 0, 1};
  if (points_ && points_->box_size > 0) {
    for (int a = 0; a < 3; ++a) bounds[2 * a + 1] = points_->box_size;
  } else if (n > 0) {
    v.cloud->GetBounds(bounds);
  }
  v.outline->SetBounds(bounds);
  v.outline_actor->SetVisibility(n > 0 || (points_ && points_->box_size > 0));
}

void PointCloudView::resetCamera() {
  Vtk& v = *vtk_;
  double bounds[6];
  v.outline->Update();
  v.outline->GetOutput()->GetBounds(bounds);
  const double centre[3] = {(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2,
                            (bounds[4] + bounds[5]) / 2};
  // An oblique view shows the box as a cube rather than a square.
  const double dir[3] = {0.9, 0.6, 1.3};
  vtkCamera* camera = v.renderer->GetActiveCamera();
  camera->SetFocalPoint(centre);
  camera->SetPosition(centre[0] + dir[0], centre[1] + dir[1], centre[2] + dir[2]);
  camera->SetViewUp(0, 1, 0);
  v.renderer->ResetCamera(bounds);
  update();
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
