#include "ui/field_view/imgui_layer.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QKeyEvent>
#include <algorithm>
#include <array>
#include <cfloat>
#include <utility>

#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

namespace dsui {
namespace {

// ImGui 1.86 indexes io.KeysDown[] by the application's own key codes through io.KeyMap[]; Qt key
// codes exceed 512, so a key's slot is its position in this table.
constexpr std::array<std::pair<ImGuiKey, int>, ImGuiKey_COUNT> kKeySlots{{
    {ImGuiKey_Tab, Qt::Key_Tab},
    {ImGuiKey_LeftArrow, Qt::Key_Left},
    {ImGuiKey_RightArrow, Qt::Key_Right},
    {ImGuiKey_UpArrow, Qt::Key_Up},
    {ImGuiKey_DownArrow, Qt::Key_Down},
    {ImGuiKey_PageUp, Qt::Key_PageUp},
    {ImGuiKey_PageDown, Qt::Key_PageDown},
    {ImGuiKey_Home, Qt::Key_Home},
    {ImGuiKey_End, Qt::Key_End},
    {ImGuiKey_Insert, Qt::Key_Insert},
    {ImGuiKey_Delete, Qt::Key_Delete},
    {ImGuiKey_Backspace, Qt::Key_Backspace},
    {ImGuiKey_Space, Qt::Key_Space},
    {ImGuiKey_Enter, Qt::Key_Return},
    {ImGuiKey_Escape, Qt::Key_Escape},
    {ImGuiKey_KeyPadEnter, Qt::Key_Enter},
    {ImGuiKey_A, Qt::Key_A},
    {ImGuiKey_C, Qt::Key_C},
    {ImGuiKey_V, Qt::Key_V},
    {ImGuiKey_X, Qt::Key_X},
    {ImGuiKey_Y, Qt::Key_Y},
    {ImGuiKey_Z, Qt::Key_Z},
}};

int KeySlot(int qt_key) {
  if (qt_key == Qt::Key_Backtab) qt_key = Qt::Key_Tab;  // Shift+Tab arrives as its own key code
  for (std::size_t i = 0; i < kKeySlots.size(); ++i)
    if (kKeySlots[i].second == qt_key) return static_cast<int>(i);
  return -1;
}

// Reading io of a context that is not current (wantsMouse() between frames) needs a switch.
class ContextScope {
 public:
  explicit ContextScope(ImGuiContext* context) : previous_(ImGui::GetCurrentContext()) {
    ImGui::SetCurrentContext(context);
  }
  ~ContextScope() { ImGui::SetCurrentContext(previous_); }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  ImGuiContext* previous_;
};

}  // namespace

ImGuiLayer::ImGuiLayer() {
  ImGuiContext* previous = ImGui::GetCurrentContext();
  context_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the panel's place is the app's business, not a file in the cwd
  io.LogFilename = nullptr;
  for (std::size_t i = 0; i < kKeySlots.size(); ++i)
    io.KeyMap[kKeySlots[i].first] = static_cast<int>(i);
  io.ClipboardUserData = this;
  io.GetClipboardTextFn = [](void* user_data) -> const char* {
    auto* self = static_cast<ImGuiLayer*>(user_data);
    self->clipboard_ = QGuiApplication::clipboard()->text().toUtf8();
    return self->clipboard_.constData();
  };
  io.SetClipboardTextFn = [](void*, const char* text) {
    QGuiApplication::clipboard()->setText(QString::fromUtf8(text));
  };
  ImGui::StyleColorsDark();
  ImGui::SetCurrentContext(previous);
}

ImGuiLayer::~ImGuiLayer() {
  // The owner must have called releaseGl() with its context current; without a current GL
  // context the backend's textures cannot be freed here.
  ImGui::DestroyContext(context_);
}

void ImGuiLayer::initializeGl() {
  if (gl_initialized_) return;
  ContextScope scope(context_);
  ImGui_ImplOpenGL3_Init("#version 150");
  gl_initialized_ = true;
}

void ImGuiLayer::releaseGl() {
  if (!gl_initialized_) return;
  ContextScope scope(context_);
  ImGui_ImplOpenGL3_Shutdown();
  gl_initialized_ = false;
}

void ImGuiLayer::queueMouseMove(QPointF pos) {
  queue_.emplace_back(InputEvent::Kind::MouseMove, pos);
}

void ImGuiLayer::queueMouseButton(Qt::MouseButton button, bool down) {
  int index = -1;
  if (button == Qt::LeftButton) index = 0;
  if (button == Qt::RightButton) index = 1;
  if (button == Qt::MiddleButton) index = 2;
  if (index < 0) return;
  InputEvent e{InputEvent::Kind::MouseButton};
  e.index = index;
  e.down = down;
  queue_.push_back(e);
}

void ImGuiLayer::queueMouseLeave() {
  queue_.emplace_back(InputEvent::Kind::MouseMove, QPointF(-FLT_MAX, -FLT_MAX));
}

void ImGuiLayer::queueWheel(QPoint angle_delta) {
  queue_.emplace_back(InputEvent::Kind::Wheel, QPointF(angle_delta) / 120.0);
}

void ImGuiLayer::queueKey(const QKeyEvent& event, bool down) {
  const int slot = KeySlot(event.key());
  if (slot >= 0) {
    InputEvent e{InputEvent::Kind::Key};
    e.index = slot;
    e.down = down;
    e.modifiers = event.modifiers();
    queue_.push_back(e);
  }
  // Shortcuts (Ctrl+C) carry control characters as text; ImGui wants only printable input.
  const bool shortcut = event.modifiers() & (Qt::ControlModifier | Qt::MetaModifier);
  if (down && !shortcut && !event.text().isEmpty() && event.text().at(0).isPrint()) {
    InputEvent e{InputEvent::Kind::Text};
    e.text = event.text();
    queue_.push_back(e);
  }
}

void ImGuiLayer::queueFocus(bool focused) {
  InputEvent e{InputEvent::Kind::Focus};
  e.down = focused;
  queue_.push_back(e);
}

void ImGuiLayer::applyQueuedInput() {
  ImGuiIO& io = ImGui::GetIO();
  bool moved = false;
  bool button_changed = false;
  std::array<bool, ImGuiKey_COUNT> key_changed{};
  while (!queue_.empty()) {
    const InputEvent& e = queue_.front();
    switch (e.kind) {
      case InputEvent::Kind::MouseMove:
        // After a press, ImGui must see the press at the old position first.
        if (button_changed) return;
        io.MousePos = ImVec2(float(e.value.x()), float(e.value.y()));
        moved = true;
        break;
      case InputEvent::Kind::MouseButton:
        // A release waits for a frame that has seen the last move, or a drag loses its end.
        if (button_changed || (!e.down && moved)) return;
        io.MouseDown[e.index] = e.down;
        button_changed = true;
        break;
      case InputEvent::Kind::Wheel:
        if (button_changed) return;
        io.MouseWheel += float(e.value.y());
        io.MouseWheelH += float(e.value.x());
        break;
      case InputEvent::Kind::Key:
        if (key_changed[e.index]) return;
        io.KeysDown[e.index] = e.down;
        io.KeyCtrl = e.modifiers & Qt::ControlModifier;
        io.KeyShift = e.modifiers & Qt::ShiftModifier;
        io.KeyAlt = e.modifiers & Qt::AltModifier;
        io.KeySuper = e.modifiers & Qt::MetaModifier;
        key_changed[e.index] = true;
        break;
      case InputEvent::Kind::Text:
        for (QChar c : e.text) io.AddInputCharacterUTF16(c.unicode());
        break;
      case InputEvent::Kind::Focus:
        io.AddFocusEvent(e.down);
        break;
    }
    queue_.pop_front();
  }
}

void ImGuiLayer::beginFrame(QSize logical_size, qreal device_pixel_ratio) {
  previous_context_ = ImGui::GetCurrentContext();
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(float(logical_size.width()), float(logical_size.height()));
  io.DisplayFramebufferScale = ImVec2(float(device_pixel_ratio), float(device_pixel_ratio));
  io.FontGlobalScale = font_scale_;
  const double seconds = clock_.isValid() ? double(clock_.nsecsElapsed()) * 1e-9 : 1.0 / 60.0;
  clock_.restart();
  io.DeltaTime = std::max(float(seconds), 1e-6f);  // ImGui asserts on a zero time step
  applyQueuedInput();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui::NewFrame();
  in_frame_ = true;
}

void ImGuiLayer::endFrame() {
  if (!in_frame_) return;
  ImGui::Render();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  in_frame_ = false;
  ImGui::SetCurrentContext(previous_context_);
}

bool ImGuiLayer::wantsMouse() const {
  ContextScope scope(context_);
  return ImGui::GetIO().WantCaptureMouse;
}

bool ImGuiLayer::wantsKeyboard() const {
  ContextScope scope(context_);
  return ImGui::GetIO().WantCaptureKeyboard;
}

bool ImGuiLayer::wantsAnotherFrame() const {
  ContextScope scope(context_);
  // New windows settle their size over the first frames; an active text field blinks its cursor.
  return ImGui::GetFrameCount() < 3 || ImGui::GetIO().WantTextInput;
}

}  // namespace dsui
