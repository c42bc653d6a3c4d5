#include "ui/emulator/emulator_model.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

#include "diffuscope/error.h"

// Resources compiled into a static library are dropped by the linker unless referenced.
static void InitModelResources() {
  Q_INIT_RESOURCE(models);
}

namespace dsui {

QString EmulatorModel::describe() const {
  const double millions = double(model->net.parameter_count()) * 1e-6;
  return QStringLiteral("%1: %2 M parameters%3, %4x%4 pixels, %5 Mpc/h, %6 timesteps")
      .arg(name)
      .arg(millions, 0, 'f', 2)
      .arg(ema ? QStringLiteral(" (EMA)") : QString())
      .arg(resolution)
      .arg(box_size, 0, 'g', 4)
      .arg(model->schedule.steps());
}

std::shared_ptr<const EmulatorModel> load_emulator_model(const QString& path,
                                                         int fallback_resolution,
                                                         double fallback_box_size,
                                                         const ds::JobContext& job,
                                                         ds::Device device) {
  const std::string file = path.toStdString();
  auto emulator = std::make_shared<EmulatorModel>();
  emulator->path = path;
  emulator->name = QFileInfo(path).completeBaseName();
  job.report(0, 2, "reading " + file);
  try {
    auto handle = ds::Model::load(file, device);
    if (handle->description().has_ema) {  // training checkpoints: sample with the averaged weights
      job.check_cancelled();
      handle = ds::Model::load(file, device, true);
      emulator->ema = true;
    }
    emulator->handle = handle;
    emulator->model = handle->field_model();
  } catch (const ds::FileError&) {
    throw;
  } catch (const ds::Error& e) {
    throw ds::FileError(file, e.what());
  }
  if (!emulator->model)
    throw ds::FileError(file, "is a " + emulator->handle->description().kind +
                                  "; the field view draws 2D field models (open it in Halos)");
  job.report(1, 2, "checking " + file);
  const ds::DiffusionModel2d& model = *emulator->model;
  const ds::ModelDescription& d = emulator->handle->description();
  if (model.parameter_count() != 2)
    throw ds::FileError(file, "the model takes " + std::to_string(model.parameter_count()) +
                                  " parameters; the field view sets (Omega_m, sigma_8)");
  if (model.channels() != 1)
    throw ds::FileError(file, "the model draws " + std::to_string(model.channels()) +
                                  " channels; the field view shows one");
  const int factor = d.downsampling;
  const int resolution =
      d.resolution > 0 ? d.resolution : std::max(factor, fallback_resolution / factor * factor);
  try {
    ds::require_field_size(model, resolution);
  } catch (const ds::InvalidArgument& e) {
    throw ds::FileError(file, e.what());
  }
  emulator->resolution = resolution;
  emulator->box_size = d.box_size > 0.0 ? d.box_size : fallback_box_size;
  if (!(emulator->box_size > 0.0)) throw ds::FileError(file, "config box_size is not positive");
  emulator->is_contrast = d.contrast;
  // The mock the model imitates; CAMELS-like projected densities compare best with Zel'dovich.
  emulator->reference_kind =
      d.mock_kind.empty() ? ds::MockFieldKind::Zeldovich : ds::kFieldKinds.from_string(d.mock_kind);
  return emulator;
}

QString extract_embedded_model(const QString& resource) {
  InitModelResources();
  QFile source(resource);
  if (!source.open(QIODevice::ReadOnly))
    throw ds::FileError(resource.toStdString(),
                        "the embedded model is missing from this build (assets/models.qrc)");
  const QByteArray bytes = source.readAll();
  const QString dir =
      QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/models");
  if (!QDir().mkpath(dir))
    throw ds::FileError(dir.toStdString(), "cannot create the model cache directory");
  const QString target = dir + QLatin1Char('/') + QFileInfo(resource).fileName();

  QFile cached(target);
  if (cached.size() == bytes.size() && cached.open(QIODevice::ReadOnly) &&
      cached.readAll() == bytes)
    return target;
  cached.close();
  // QSaveFile writes a temporary file and renames it: a crash or a second instance never sees
  // half a model.
  QSaveFile out(target);
  if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit())
    throw ds::FileError(target.toStdString(), "cannot write: " + out.errorString().toStdString());
  return target;
}

}  // namespace dsui
