#include "ui/field_view/field_viewport.h"

#include <QFile>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QWheelEvent>
#include <QtGlobal>
#include <algorithm>
#include <cmath>
#include <utility>

// Resources compiled into a static library are dropped by the linker unless referenced.
static void InitShaderResources() {
  Q_INIT_RESOURCE(shaders);
}

namespace dsui {
namespace {

constexpr double kMinZoom = 0.25;
constexpr double kMaxZoom = 256.0;
constexpr double kZoomPerWheelNotch = 1.2;
constexpr int kAnimationFrameMs = 33;

QByteArray ReadResource(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    qWarning("FieldViewport: missing resource %s", qPrintable(path));
  return file.readAll();
}

QRectF ToQRect(const PanelRect& r) {
  return QRectF(QPointF(r.x0, r.y0), QPointF(r.x1, r.y1));
}

}  // namespace

FieldViewport::FieldViewport(QWidget* parent) : QOpenGLWidget(parent) {
  static const bool resources_ready = (InitShaderResources(), true);
  Q_UNUSED(resources_ready);
  setMouseTracking(true);  // ImGui highlights what the pointer hovers
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(200, 200);
  animation_timer_.setSingleShot(true);
  animation_timer_.setInterval(kAnimationFrameMs);
  connect(&animation_timer_, &QTimer::timeout, this, qOverload<>(&QWidget::update));
}

FieldViewport::~FieldViewport() {
  // QOpenGLWidget destroys its context only after these members are gone (gui-stack pitfall 7):
  // the aboutToBeDestroyed handler must not run then, and the GL objects go now, while both exist.
  disconnect(context_destroyed_);
  makeCurrent();
  releaseGl();
  doneCurrent();
}

void FieldViewport::setImage(std::shared_ptr<const FieldImage> image) {
  if (image && (image->n <= 0 || image->values.size() != std::size_t(image->n) * image->n)) {
    qWarning("FieldViewport: malformed image (n = %d, %zu values) ignored", image->n,
             image->values.size());
    image.reset();
  }
  image_ = std::move(image);
  texture_dirty_ = true;
  rendered_image_ = false;
  updateDisplayRange();
  update();
}

void FieldViewport::setParameters(const FieldParameters& parameters) {
  controls_.parameters = parameters;
  update();
}

void FieldViewport::setColormap(ds::Colormap colormap) {
  if (colormap == controls_.colormap) return;
  controls_.colormap = colormap;
  updateDisplayRange();
  update();
  Q_EMIT colormapChanged(colormap);
}

void FieldViewport::setScaling(ds::FieldScaling scaling) {
  if (scaling == controls_.scaling) return;
  controls_.scaling = scaling;
  updateDisplayRange();
  update();
  Q_EMIT scalingChanged(scaling);
}

void FieldViewport::setPanelScale(float scale) {
  imgui_.setFontScale(scale);
  update();
}

void FieldViewport::setStatusText(const QString& text) {
  controls_.status = text.toStdString();
  update();
}

void FieldViewport::resetView() {
  zoom_ = 1.0;
  pan_ = QPointF();
  update();
}

QRectF FieldViewport::panelItemRect(FieldPanelItem item) const {
  switch (item) {
    case FieldPanelItem::Window:
      return ToQRect(panel_layout_.window);
    case FieldPanelItem::OmegaMSlider:
      return ToQRect(panel_layout_.omega_m_slider);
    case FieldPanelItem::Sigma8Slider:
      return ToQRect(panel_layout_.sigma_8_slider);
    case FieldPanelItem::SeedInput:
      return ToQRect(panel_layout_.seed_input);
    case FieldPanelItem::NewSeedButton:
      return ToQRect(panel_layout_.new_seed_button);
    case FieldPanelItem::ColormapCombo:
      return ToQRect(panel_layout_.colormap_combo);
    case FieldPanelItem::ScalingCombo:
      return ToQRect(panel_layout_.scaling_combo);
  }
  return {};
}

void FieldViewport::updateDisplayRange() {
  if (!image_) return;
  // A diverging map is only meaningful centred on the mean density.
  const bool symmetric = controls_.colormap == ds::Colormap::RedBlue;
  range_ = DisplayRangeFor(*image_, controls_.scaling, symmetric);
}

QRectF FieldViewport::fieldRect() const {
  const double side = std::min(width(), height()) * zoom_;
  const QPointF centre = QPointF(width() / 2.0, height() / 2.0) + pan_;
  return QRectF(centre.x() - side / 2, centre.y() - side / 2, side, side);
}

bool FieldViewport::mouseBelongsToPanel(QPointF pos) const {
  // The panel rectangle covers presses that arrive before ImGui has seen the pointer hover.
  return imgui_.wantsMouse() || ToQRect(panel_layout_.window).contains(pos);
}

// --- GL ----------------------------------------------------------------------------------------

void FieldViewport::initializeGL() {
  initializeOpenGLFunctions();
  // Qt recreates the context when the widget moves to another window; rebuild from scratch then.
  disconnect(context_destroyed_);
  context_destroyed_ = connect(
      context(), &QOpenGLContext::aboutToBeDestroyed, this,
      [this] {
        makeCurrent();
        releaseGl();
        doneCurrent();
      },
      Qt::DirectConnection);

  buildProgram();
  const GLfloat corners[] = {0, 0, 1, 0, 0, 1, 1, 1};  // a triangle strip over the unit square
  vao_.create();
  vao_.bind();
  corners_.create();
  corners_.bind();
  corners_.allocate(corners, sizeof(corners));
  glEnableVertexAttribArray(0);
  glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, nullptr);
  vao_.release();
  corners_.release();

  imgui_.initializeGl();
  gl_initialized_ = true;
  texture_dirty_ = true;
}

bool FieldViewport::buildProgram() {
  QByteArray fragment = ReadResource(QStringLiteral(":/shaders/field.frag"));
  fragment.replace("#pragma include \"colormaps.glsl\"",
                   ReadResource(QStringLiteral(":/shaders/colormaps.glsl")));
  program_ = std::make_unique<QOpenGLShaderProgram>();
  const bool ok = program_->addShaderFromSourceCode(QOpenGLShader::Vertex,
                                                    ReadResource(":/shaders/field.vert")) &&
                  program_->addShaderFromSourceCode(QOpenGLShader::Fragment, fragment) &&
                  program_->link();
  if (!ok) {
    // The panel still works without the field; the log says which shader line broke.
    qWarning("FieldViewport: field shader failed: %s", qPrintable(program_->log()));
    program_.reset();
  }
  return ok;
}

void FieldViewport::releaseGl() {
  if (!gl_initialized_) return;
  imgui_.releaseGl();
  if (texture_) glDeleteTextures(1, &texture_);
  texture_ = 0;
  has_texture_ = false;
  corners_.destroy();
  vao_.destroy();
  program_.reset();
  gl_initialized_ = false;
  texture_dirty_ = true;
  rendered_image_ = false;
}

void FieldViewport::uploadTexture() {
  texture_dirty_ = false;
  has_texture_ = false;
  if (!image_) return;
  if (!texture_) glGenTextures(1, &texture_);
  glBindTexture(GL_TEXTURE_2D, texture_);
  // Nearest: a field pixel is a measurement, blending neighbours would invent structure.
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, image_->n, image_->n, 0, GL_RED, GL_FLOAT,
               image_->values.data());
  glBindTexture(GL_TEXTURE_2D, 0);
  has_texture_ = true;
}

bool FieldViewport::drawField() {
  if (!program_ || !has_texture_ || width() <= 0 || height() <= 0) return false;
  const QRectF r = fieldRect();
  const float x0 = float(2 * r.left() / width() - 1), x1 = float(2 * r.right() / width() - 1);
  const float y0 = float(1 - 2 * r.bottom() / height()), y1 = float(1 - 2 * r.top() / height());
  program_->bind();
  program_->setUniformValue("u_rect", x0, y0, x1, y1);
  program_->setUniformValue("u_field", 0);
  program_->setUniformValue("u_log_scale", controls_.scaling == ds::FieldScaling::Log ? 1 : 0);
  program_->setUniformValue("u_is_contrast", image_->is_contrast ? 1 : 0);
  program_->setUniformValue("u_log_floor", range_.log_floor);
  program_->setUniformValue("u_lo", range_.lo);
  program_->setUniformValue("u_hi", range_.hi);
  program_->setUniformValue("u_colormap", ds::kColormaps.index(controls_.colormap));
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, texture_);
  vao_.bind();
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  vao_.release();
  glBindTexture(GL_TEXTURE_2D, 0);
  program_->release();
  return true;
}

FieldControlsChanges FieldViewport::drawPanel() {
  imgui_.beginFrame(size(), devicePixelRatioF());
  const FieldControlsChanges changes =
      DrawFieldControlsPanel(controls_, ds::kDefaultPrior, &panel_layout_);
  imgui_.endFrame();
  return changes;
}

void FieldViewport::paintGL() {
  glClearColor(0.11f, 0.11f, 0.12f, 1.0f);  // the letterbox around the square field
  glClear(GL_COLOR_BUFFER_BIT);
  if (texture_dirty_) uploadTexture();
  const bool drew_field = drawField();
  const FieldControlsChanges changes = drawPanel();
  rendered_image_ = rendered_image_ || drew_field;

  if (changes.colormap || changes.scaling) updateDisplayRange();
  // Signals leave through the event loop: a slot that touches another GL widget must not run
  // while this widget's framebuffer is bound mid-paint.
  const FieldControlsState state = controls_;
  QMetaObject::invokeMethod(
      this,
      [this, changes, state] {
        if (changes.parameters) Q_EMIT parametersEdited(state.parameters);
        if (changes.colormap) Q_EMIT colormapChanged(state.colormap);
        if (changes.scaling) Q_EMIT scalingChanged(state.scaling);
        Q_EMIT frameRendered();
      },
      Qt::QueuedConnection);

  // The field was drawn before the panel changed it; queued input needs one frame per step.
  if (changes.any() || imgui_.hasQueuedInput())
    update();
  else if (imgui_.wantsAnotherFrame() && !animation_timer_.isActive())
    animation_timer_.start();
}

// --- input -------------------------------------------------------------------------------------

void FieldViewport::mousePressEvent(QMouseEvent* event) {
  const QPointF pos = event->position();
  imgui_.queueMouseMove(pos);
  if (event->button() == Qt::LeftButton && !panning_ && !mouseBelongsToPanel(pos)) {
    panning_ = true;
    last_drag_pos_ = pos;
    setCursor(Qt::ClosedHandCursor);
  } else {
    imgui_.queueMouseButton(event->button(), true);
    imgui_buttons_ |= event->button();
  }
  update();
}

void FieldViewport::mouseMoveEvent(QMouseEvent* event) {
  const QPointF pos = event->position();
  imgui_.queueMouseMove(pos);
  if (panning_) {
    pan_ += pos - last_drag_pos_;
    last_drag_pos_ = pos;
  }
  update();
}

void FieldViewport::mouseReleaseEvent(QMouseEvent* event) {
  imgui_.queueMouseMove(event->position());
  if (imgui_buttons_ & event->button()) {
    imgui_.queueMouseButton(event->button(), false);
    imgui_buttons_ &= ~event->button();
  } else if (event->button() == Qt::LeftButton && panning_) {
    panning_ = false;
    unsetCursor();
  }
  update();
}

void FieldViewport::mouseDoubleClickEvent(QMouseEvent* event) {
  // Qt replaces the second press of a double-click with this event.
  const QPointF pos = event->position();
  if (event->button() == Qt::LeftButton && !mouseBelongsToPanel(pos)) {
    resetView();
    return;
  }
  mousePressEvent(event);
}

void FieldViewport::wheelEvent(QWheelEvent* event) {
  const QPointF pos = event->position();
  imgui_.queueMouseMove(pos);
  if (mouseBelongsToPanel(pos)) {
    imgui_.queueWheel(event->angleDelta());
  } else if (event->angleDelta().y() != 0) {
    // Scale about the cursor: the field point under it stays under it.
    const double wanted = zoom_ * std::pow(kZoomPerWheelNotch, event->angleDelta().y() / 120.0);
    const double factor = std::clamp(wanted, kMinZoom, kMaxZoom) / zoom_;
    const QPointF widget_centre(width() / 2.0, height() / 2.0);
    const QPointF field_centre = widget_centre + pan_;
    pan_ = pos - (pos - field_centre) * factor - widget_centre;
    zoom_ *= factor;
  }
  event->accept();
  update();
}

void FieldViewport::keyPressEvent(QKeyEvent* event) {
  imgui_.queueKey(*event, true);
  update();
  if (!imgui_.wantsKeyboard()) QOpenGLWidget::keyPressEvent(event);  // let shortcuts through
}

void FieldViewport::keyReleaseEvent(QKeyEvent* event) {
  imgui_.queueKey(*event, false);
  update();
  if (!imgui_.wantsKeyboard()) QOpenGLWidget::keyReleaseEvent(event);
}

void FieldViewport::leaveEvent(QEvent* event) {
  imgui_.queueMouseLeave();
  update();
  QOpenGLWidget::leaveEvent(event);
}

void FieldViewport::focusInEvent(QFocusEvent* event) {
  imgui_.queueFocus(true);
  QOpenGLWidget::focusInEvent(event);
}

void FieldViewport::focusOutEvent(QFocusEvent* event) {
  imgui_.queueFocus(false);  // ImGui releases held keys, or one would stick down
  update();
  QOpenGLWidget::focusOutEvent(event);
}

}  // namespace dsui
