// A Dear ImGui 1.86 context living inside one QOpenGLWidget: Qt input in, GL draw calls out.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QPoint>
#include <QPointF>
#include <QSize>
#include <QString>
#include <Qt>
#include <deque>

struct ImGuiContext;
class QKeyEvent;

namespace dsui {

// Several viewports may exist at once, so every layer owns its own ImGui context and makes it
// current around each call; nothing here assumes it is the only ImGui user in the process.
//
// ImGui 1.86 reads input as a state snapshot per frame (io.MouseDown[], io.MousePos, ...). Qt
// delivers events whenever they come, so a press and its release can both land between two frames
// and the click would vanish. The layer therefore queues the events and feeds them to ImGui a bit
// at a time: at most one button change per frame, and a release never in the same frame as a
// move, so a slider sees where the drag ended before the button goes up.
class ImGuiLayer {
 public:
  ImGuiLayer();
  ~ImGuiLayer();
  ImGuiLayer(const ImGuiLayer&) = delete;
  ImGuiLayer& operator=(const ImGuiLayer&) = delete;

  // The OpenGL3 renderer backend. Call both with the widget's GL context current; the ImGui
  // context (window positions, widget state) outlives a GL context that Qt recreates.
  void initializeGl();
  void releaseGl();
  bool glInitialized() const { return gl_initialized_; }

  // Input, in device-independent widget pixels. Each returns nothing: whether ImGui wants an
  // event is known only after the next frame (wantsMouse / wantsKeyboard).
  void queueMouseMove(QPointF pos);
  void queueMouseButton(Qt::MouseButton button,
                        bool down);  // other than left/right/middle: ignored
  void queueMouseLeave();
  void queueWheel(QPoint angle_delta);  // QWheelEvent::angleDelta(), 120 per notch
  void queueKey(const QKeyEvent& event, bool down);
  void queueFocus(bool focused);
  bool hasQueuedInput() const { return !queue_.empty(); }

  // One frame: beginFrame makes this context current and applies the next slice of queued input;
  // draw ImGui windows in between; endFrame renders into the bound framebuffer and restores the
  // previously current ImGui context.
  void beginFrame(QSize logical_size, qreal device_pixel_ratio);
  void endFrame();
  // Text and widget scale of the panels (teaching mode: larger), from the next frame on.
  void setFontScale(float scale) { font_scale_ = scale; }
  float fontScale() const { return font_scale_; }

  // From the last frame: ImGui owns the mouse (hovering or dragging one of its windows, a popup
  // open) or the keyboard (a text field is active).
  bool wantsMouse() const;
  bool wantsKeyboard() const;
  // True while ImGui still animates something (a new window appearing, a blinking text cursor).
  bool wantsAnotherFrame() const;

 private:
  struct InputEvent {
    enum class Kind { MouseMove, MouseButton, Wheel, Key, Text, Focus };
    explicit InputEvent(Kind k, QPointF v = {}) : kind(k), value(v) {}
    Kind kind;
    QPointF value;  // position or wheel steps
    int index = 0;  // button or key slot
    bool down = false;
    Qt::KeyboardModifiers modifiers = Qt::NoModifier;
    QString text;
  };

  void applyQueuedInput();

  ImGuiContext* context_ = nullptr;
  ImGuiContext* previous_context_ = nullptr;
  bool gl_initialized_ = false;
  bool in_frame_ = false;
  std::deque<InputEvent> queue_;
  QElapsedTimer clock_;
  QByteArray clipboard_;  // keeps the text ImGui borrows from GetClipboardTextFn alive
  float font_scale_ = 1.0f;
};

}  // namespace dsui
