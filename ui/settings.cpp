#include "ui/settings.h"

#include <algorithm>

namespace dsui {

namespace {
template <class Registry, class Enum>
Enum load_choice(QSettings& store, const char* key, const Registry& registry, Enum fallback) {
  const QString name = store.value(key, QString::fromLatin1(registry.name(fallback))).toString();
  try {
    return registry.from_string(name.toStdString());
  } catch (const ds::InvalidArgument&) {
    return fallback;  // a stale or hand-edited value: keep the default
  }
}
}  // namespace

AppSettings AppSettings::load(QSettings& store) {
  AppSettings s;
  const AppSettings defaults;
  const ds::Prior prior;
  s.field.omega_m = std::clamp(store.value("field/omega_m", defaults.field.omega_m).toDouble(),
                               prior.omega_m.lo, prior.omega_m.hi);
  s.field.sigma_8 = std::clamp(store.value("field/sigma_8", defaults.field.sigma_8).toDouble(),
                               prior.sigma_8.lo, prior.sigma_8.hi);
  s.field.seed = store.value("field/seed", quint64(defaults.field.seed)).toULongLong();
  s.resolution = std::clamp(store.value("field/resolution", defaults.resolution).toInt(), 16, 512);
  s.box_size = store.value("field/box_size", defaults.box_size).toDouble();
  if (!(s.box_size > 0.0)) s.box_size = defaults.box_size;
  s.field_kind = load_choice(store, "field/kind", ds::kFieldKinds, defaults.field_kind);
  s.use_emulator = store.value("field/emulator", defaults.use_emulator).toBool();
  s.ancestral_refinement =
      store.value("field/ancestral_refinement", defaults.ancestral_refinement).toBool();
  s.model_path = store.value("field/model_path").toString();
  s.ensemble_size = std::clamp(store.value("ensemble/size", defaults.ensemble_size).toInt(), 2, 32);
  s.ensemble_steps =
      std::clamp(store.value("ensemble/steps", defaults.ensemble_steps).toInt(), 2, 1000);
  s.colormap = load_choice(store, "view/colormap", ds::kColormaps, defaults.colormap);
  s.scaling = load_choice(store, "view/scaling", ds::kFieldScalings, defaults.scaling);
  s.teaching = store.value("view/teaching", defaults.teaching).toBool();
  s.window_geometry = store.value("window/geometry").toByteArray();
  s.window_state = store.value("window/state").toByteArray();
  s.last_open_directory = store.value("files/last_open_directory").toString();
  return s;
}

void AppSettings::save(QSettings& store) const {
  store.setValue("field/omega_m", field.omega_m);
  store.setValue("field/sigma_8", field.sigma_8);
  store.setValue("field/seed", quint64(field.seed));
  store.setValue("field/resolution", resolution);
  store.setValue("field/box_size", box_size);
  store.setValue("field/kind", QString::fromLatin1(ds::kFieldKinds.name(field_kind)));
  store.setValue("field/emulator", use_emulator);
  store.setValue("field/ancestral_refinement", ancestral_refinement);
  store.setValue("field/model_path", model_path);
  store.setValue("ensemble/size", ensemble_size);
  store.setValue("ensemble/steps", ensemble_steps);
  store.setValue("view/colormap", QString::fromLatin1(ds::kColormaps.name(colormap)));
  store.setValue("view/scaling", QString::fromLatin1(ds::kFieldScalings.name(scaling)));
  store.setValue("view/teaching", teaching);
  store.setValue("window/geometry", window_geometry);
  store.setValue("window/state", window_state);
  store.setValue("files/last_open_directory", last_open_directory);
}

}  // namespace dsui
