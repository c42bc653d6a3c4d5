#include "ui/field_view/field_controls_panel.h"

#include <cstdint>
#include <random>

#include <imgui.h>

namespace dsui {
namespace {

// The window starts in the top-left corner at a fixed place (tests aim at its sliders through
// FieldControlsLayout, so the exact numbers only need to keep it on screen); the user may move it.
constexpr float kPanelLeft = 10.0f;
constexpr float kPanelTop = 10.0f;
constexpr float kControlWidth = 180.0f;

PanelRect LastItemRect() {
  const ImVec2 lo = ImGui::GetItemRectMin();
  const ImVec2 hi = ImGui::GetItemRectMax();
  return {lo.x, lo.y, hi.x, hi.y};
}

// ImGui's item rectangle of a labelled control includes the label on its right; a click there
// does nothing, so report the frame (the clickable part) alone.
PanelRect LastFrameRect() {
  const ImVec2 lo = ImGui::GetItemRectMin();
  return {lo.x, lo.y, lo.x + kControlWidth, lo.y + ImGui::GetFrameHeight()};
}

// Fills a combo from a registry so that adding a colour map or scaling is one row in
// registries.h, never a second list of names here.
template <class Enum, std::size_t N>
bool RegistryCombo(const char* label, const ds::Registry<Enum, N>& registry, Enum& value) {
  bool changed = false;
  if (ImGui::BeginCombo(label, registry.label(value))) {
    for (const auto& entry : registry.entries()) {
      const bool selected = entry.value == value;
      if (ImGui::Selectable(entry.label, selected) && !selected) {
        value = entry.value;
        changed = true;
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", entry.description);
      if (selected) ImGui::SetItemDefaultFocus();
    }
    ImGui::EndCombo();
  }
  return changed;
}

bool ParameterSlider(const char* label, double& value, const ds::Interval& range) {
  // Rounded to the displayed precision by ImGui, so an edit reads back exactly as shown.
  return ImGui::SliderScalar(label, ImGuiDataType_Double, &value, &range.lo, &range.hi, "%.3f");
}

std::uint64_t FreshSeed() {
  std::random_device device;
  return (std::uint64_t(device()) << 32) ^ std::uint64_t(device());
}

}  // namespace

FieldControlsChanges DrawFieldControlsPanel(FieldControlsState& state, const ds::Prior& prior,
                                            FieldControlsLayout* layout) {
  FieldControlsChanges changes;
  ImGui::SetNextWindowPos(ImVec2(kPanelLeft, kPanelTop), ImGuiCond_FirstUseEver);
  const bool expanded = ImGui::Begin("Cosmology", nullptr, ImGuiWindowFlags_AlwaysAutoResize);
  if (layout) {
    *layout = FieldControlsLayout{};
    const ImVec2 pos = ImGui::GetWindowPos();
    const ImVec2 size = ImGui::GetWindowSize();
    layout->window = {pos.x, pos.y, pos.x + size.x, pos.y + size.y};
  }
  if (expanded) {
    ImGui::PushItemWidth(kControlWidth);
    FieldParameters& p = state.parameters;

    changes.parameters |= ParameterSlider("Omega_m", p.omega_m, prior.omega_m);
    if (layout) layout->omega_m_slider = LastFrameRect();
    changes.parameters |= ParameterSlider("sigma_8", p.sigma_8, prior.sigma_8);
    if (layout) layout->sigma_8_slider = LastFrameRect();

    const std::uint64_t step = 1;
    const std::uint64_t fast_step = 100;
    changes.parameters |= ImGui::InputScalar("Seed", ImGuiDataType_U64, &p.seed, &step, &fast_step);
    if (layout) layout->seed_input = LastFrameRect();
    if (ImGui::Button("New seed")) {
      p.seed = FreshSeed();
      changes.parameters = true;
    }
    if (layout) layout->new_seed_button = LastItemRect();

    ImGui::Separator();
    changes.colormap = RegistryCombo("Colour map", ds::kColormaps, state.colormap);
    if (layout) layout->colormap_combo = LastFrameRect();
    changes.scaling = RegistryCombo("Scaling", ds::kFieldScalings, state.scaling);
    if (layout) layout->scaling_combo = LastFrameRect();

    ImGui::Separator();
    ImGui::TextUnformatted(state.status.empty() ? "ready" : state.status.c_str());
    ImGui::PopItemWidth();
  }
  ImGui::End();
  return changes;
}

}  // namespace dsui
