// The "Cosmology" ImGui window of the field viewport: parameters, seed, colour map, scaling.
#pragma once

#include <string>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/registries.h"
#include "ui/field_view/field_image.h"

namespace dsui {

// What the panel shows and edits; the viewport owns it and draws it once per frame.
struct FieldControlsState {
  FieldParameters parameters;
  ds::Colormap colormap = ds::Colormap::Viridis;
  ds::FieldScaling scaling = ds::FieldScaling::Linear;
  std::string status;
};

// Which of the state's fields the user changed during this frame.
struct FieldControlsChanges {
  bool parameters = false;
  bool colormap = false;
  bool scaling = false;
  bool any() const { return parameters || colormap || scaling; }
};

// Screen rectangles (ImGui display coordinates, i.e. widget pixels) of the panel's parts as drawn
// in the last frame, so that the viewport can route mouse presses and tests can aim at a slider.
struct PanelRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
struct FieldControlsLayout {
  PanelRect window;
  PanelRect omega_m_slider;
  PanelRect sigma_8_slider;
  PanelRect seed_input;
  PanelRect new_seed_button;
  PanelRect colormap_combo;
  PanelRect scaling_combo;
};

// Draws the window inside an ImGui frame (between ImGuiLayer::beginFrame and endFrame). The
// sliders span `prior`, the box the emulators were trained on, so the user cannot leave it.
FieldControlsChanges DrawFieldControlsPanel(FieldControlsState& state,
                                            const ds::Prior& prior = ds::kDefaultPrior,
                                            FieldControlsLayout* layout = nullptr);

}  // namespace dsui
