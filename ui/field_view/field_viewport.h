// The 2D field view: a GL_R32F texture through a colour map, with the "Cosmology" ImGui panel
// drawn on top. The widget only displays and reports edits; the workspace computes the fields.
#pragma once

#include <QMetaObject>
#include <QMetaType>
#include <QOpenGLBuffer>
#include <QOpenGLExtraFunctions>
#include <QOpenGLShaderProgram>
#include <QOpenGLVertexArrayObject>
#include <QOpenGLWidget>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QTimer>
#include <memory>

#include "diffuscope/registries.h"
#include "ui/field_view/field_controls_panel.h"
#include "ui/field_view/field_image.h"
#include "ui/field_view/imgui_layer.h"

namespace dsui {

// Parts of the panel whose on-screen place panelItemRect() reports.
enum class FieldPanelItem {
  Window,
  OmegaMSlider,
  Sigma8Slider,
  SeedInput,
  NewSeedButton,
  ColormapCombo,
  ScalingCombo
};

// Needs a 3.3 core (or 3.2+) default QSurfaceFormat, set before QApplication exists.
// Mouse: wheel zooms about the cursor, left-drag pans, double-click resets the view; events over
// the panel (or while ImGui holds the mouse) go to ImGui instead.
class FieldViewport : public QOpenGLWidget, protected QOpenGLExtraFunctions {
  Q_OBJECT

 public:
  explicit FieldViewport(QWidget* parent = nullptr);
  ~FieldViewport() override;

  // Uploaded as a texture on the next paint; the snapshot is kept, not copied.
  void setImage(std::shared_ptr<const FieldImage> image);
  std::shared_ptr<const FieldImage> image() const { return image_; }

  // Programmatic: moves the panel's controls without emitting parametersEdited.
  void setParameters(const FieldParameters& parameters);
  FieldParameters parameters() const { return controls_.parameters; }

  // Emit colormapChanged / scalingChanged when the value actually changes (Qt property style).
  void setColormap(ds::Colormap colormap);
  ds::Colormap colormap() const { return controls_.colormap; }
  void setScaling(ds::FieldScaling scaling);
  ds::FieldScaling scaling() const { return controls_.scaling; }

  void setStatusText(const QString& text);
  // Scale of the Cosmology panel's text and widgets (1: normal; teaching mode uses more).
  void setPanelScale(float scale);
  float panelScale() const {
    return imgui_.fontScale();
  }  // the panel's last line, e.g. "64x64 GRF, 12 ms"

  // zoom 1 = the field fills the shorter side of the widget; pan in widget pixels.
  void resetView();
  double zoom() const { return zoom_; }
  QPointF pan() const { return pan_; }

  // True once a frame showing the current image has been drawn (false again after setImage).
  bool hasRenderedImage() const { return rendered_image_; }

  // Where the panel part was drawn in the last frame, in widget pixels; empty before the first
  // frame or while the panel is collapsed. For tests and tutorials that point at a control.
  QRectF panelItemRect(FieldPanelItem item) const;

 Q_SIGNALS:
  void parametersEdited(const dsui::FieldParameters& parameters);  // by the user, in the panel
  void colormapChanged(ds::Colormap colormap);
  void scalingChanged(ds::FieldScaling scaling);
  void frameRendered();  // after each paintGL, delivered through the event loop

 protected:
  void initializeGL() override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void focusInEvent(QFocusEvent* event) override;
  void focusOutEvent(QFocusEvent* event) override;

 private:
  bool buildProgram();
  void releaseGl();  // with the context current; safe to call twice
  void uploadTexture();
  bool drawField();
  FieldControlsChanges drawPanel();
  void updateDisplayRange();
  QRectF fieldRect() const;  // where the square field lies, widget pixels
  bool mouseBelongsToPanel(QPointF pos) const;

  ImGuiLayer imgui_;
  FieldControlsState controls_;
  FieldControlsLayout panel_layout_;

  std::shared_ptr<const FieldImage> image_;
  DisplayRange range_;
  bool texture_dirty_ = true;
  bool rendered_image_ = false;

  bool gl_initialized_ = false;
  QMetaObject::Connection context_destroyed_;
  std::unique_ptr<QOpenGLShaderProgram> program_;
  QOpenGLVertexArrayObject vao_;
  QOpenGLBuffer corners_{QOpenGLBuffer::VertexBuffer};
  GLuint texture_ = 0;
  bool has_texture_ = false;

  double zoom_ = 1.0;
  QPointF pan_;
  bool panning_ = false;
  QPointF last_drag_pos_;
  Qt::MouseButtons imgui_buttons_;  // presses given to ImGui, whose releases must follow them
  QTimer animation_timer_;          // paces frames ImGui wants for itself (cursor blink)
};

}  // namespace dsui

Q_DECLARE_METATYPE(dsui::FieldParameters)
