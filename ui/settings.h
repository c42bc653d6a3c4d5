// Every persisted user setting in one struct with its default, loaded and saved in one place.
#pragma once

#include <QByteArray>
#include <QSettings>
#include <QString>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/field.h"
#include "diffuscope/registries.h"
#include "ui/field_view/field_image.h"

namespace dsui {

struct AppSettings {
  FieldParameters field;                                  // slider cosmology and seed
  ds::MockFieldKind field_kind = ds::MockFieldKind::Grf;  // which simulator draws the field
  int resolution = 256;                                   // pixels per side of generated fields
  bool use_emulator = true;  // fields from the diffusion model instead of field_kind's mock
  bool ancestral_refinement = false;  // refine emulated fields with all T ancestral steps
  QString model_path;                 // the emulator's model file; empty: the embedded default
  int ensemble_size = 8;              // emulated fields (and mocks) of the ensemble view
  int ensemble_steps = 25;            // DDIM steps of each ensemble member
  double box_size = ds::kDefaultFieldBoxSize;  // Mpc/h, CAMELS maps
  ds::Colormap colormap = ds::Colormap::Viridis;
  ds::FieldScaling scaling = ds::FieldScaling::Linear;
  bool teaching = false;       // teaching mode: larger text, a reduced deck, the guide panel
  QByteArray window_geometry;  // QMainWindow::saveGeometry
  QByteArray window_state;     // QMainWindow::saveState (docks and toolbars)
  QString last_open_directory;

  static AppSettings load(QSettings& store);
  void save(QSettings& store) const;
};

}  // namespace dsui
