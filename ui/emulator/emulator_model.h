// A trained 2D diffusion model as the field slice uses it: the core model plus what the GUI must
// know to draw and judge its fields (resolution, box, units, which mock it imitates). Loading runs
// on a worker thread; the UI keeps the result as an immutable shared object.
#pragma once

#include <QString>
#include <memory>

#include "diffuscope/data/field.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/model/model.h"
#include "diffuscope/registries.h"

namespace dsui {

// The default emulator compiled into the application (assets/models.qrc).
inline constexpr char kEmbeddedModelResource[] = ":/assets/models/zeldovich64.h5";

struct EmulatorModel {
  std::shared_ptr<const ds::Model> handle;  // what the model is (core's one model interface)
  std::shared_ptr<const ds::DiffusionModel2d> model;  // handle->field_model(): its sampler
  QString name;           // shown in the toolbar: the file's base name, e.g. "zeldovich64"
  QString path;           // the file that was loaded (the cache copy for the embedded model)
  bool embedded = false;  // the built-in default rather than a file the user opened
  int resolution = 64;    // pixels per side the fields are drawn at (the training resolution)
  double box_size = ds::kDefaultFieldBoxSize;  // Mpc/h
  bool is_contrast = false;  // signed density contrasts rather than positive densities
  // The built-in mock the model was trained on (or imitates): its P(k) is the reference curve.
  ds::MockFieldKind reference_kind = ds::MockFieldKind::Zeldovich;
  bool ema = false;  // the EMA weights of a checkpoint that has them

  // One line for tooltips and the status bar, e.g. "zeldovich64: 0.61 M parameters, 64², ...".
  QString describe() const;
};

// Loads a 2D field model with ds::Model::load (Diffuscope .h5, Diffusion-HMC .pt, TorchScript),
// preferring EMA weights when the file has them. Resolution, box size, contrast and the mock it
// imitates come from the model's description; what the file does not record falls back to
// `fallback_resolution` (rounded to the network's downsampling) and `fallback_box_size`. Throws
// ds::FileError naming the path when the file cannot be read or the model does not take exactly
// (Omega_m, sigma_8) or draws more than one channel.
std::shared_ptr<const EmulatorModel> load_emulator_model(const QString& path,
                                                         int fallback_resolution,
                                                         double fallback_box_size,
                                                         const ds::JobContext& job = {},
                                                         ds::Device device = ds::Device::Cpu);

// The embedded default model as a file DiffusionModel2d::load can open: a copy under
// QStandardPaths::CacheLocation, written atomically the first time and rewritten only when its
// bytes differ from the resource (a new application version). Throws ds::FileError.
QString extract_embedded_model(
    const QString& resource = QString::fromLatin1(kEmbeddedModelResource));

}  // namespace dsui
