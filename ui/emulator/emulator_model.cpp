#include "ui/emulator/emulator_model.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>

#include "diffuscope/error.h"

// Resources compiled into a static library are dropped by the linker unless referenced.
static void InitModelResources() {
  Q_INIT_RESOURCE(models);
}

namespace dsui {

namespace {

QJsonObject config_object(const ds::DiffusionModel2d& model) {
  const QByteArray text = QByteArray::fromStdString(model.net.config());
  const QJsonDocument doc = QJsonDocument::fromJson(text);
  return doc.isObject() ? doc.object() : QJsonObject();
}

// The mock a model imitates: the generator of its training set when that is one of ours.
ds::MockFieldKind reference_kind_of(const QJsonObject& config) {
  const QString generator = config.value("dataset").toObject().value("generator").toString();
  try {
    return ds::kFieldKinds.from_string(generator.toStdString());
  } catch (const ds::InvalidArgument&) {
    return ds::MockFieldKind::Zeldovich;  // CAMELS-like projected densities
  }
}

}  // namespace

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
    auto model = std::make_shared<ds::DiffusionModel2d>(ds::DiffusionModel2d::load(file, device));
    if (model->net.info().has_ema) {  // training checkpoints: sample with the averaged weights
      job.check_cancelled();
      model =
          std::make_shared<ds::DiffusionModel2d>(ds::DiffusionModel2d::load(file, device, true));
      emulator->ema = true;
    }
    emulator->model = model;
  } catch (const ds::FileError&) {
    throw;
  } catch (const ds::Error& e) {
    throw ds::FileError(file, e.what());
  }
  job.report(1, 2, "checking " + file);
  const ds::DiffusionModel2d& model = *emulator->model;
  if (model.parameter_count() != 2)
    throw ds::FileError(file, "the model takes " + std::to_string(model.parameter_count()) +
                                  " parameters; the field view sets (Omega_m, sigma_8)");
  if (model.channels() != 1)
    throw ds::FileError(file, "the model draws " + std::to_string(model.channels()) +
                                  " channels; the field view shows one");

  const QJsonObject config = config_object(model);
  const int factor = std::max(1, model.net.info().downsampling_factor);
  int resolution = config.value("resolution").toInt(config.value("image_size").toInt(0));
  if (resolution <= 0) resolution = std::max(factor, fallback_resolution / factor * factor);
  try {
    ds::require_field_size(model, resolution);
  } catch (const ds::InvalidArgument& e) {
    throw ds::FileError(file, e.what());
  }
  emulator->resolution = resolution;
  emulator->box_size = config.value("box_size").toDouble(fallback_box_size);
  if (!(emulator->box_size > 0.0)) throw ds::FileError(file, "config box_size is not positive");
  emulator->is_contrast = config.value("field_kind").toString() == QLatin1String("contrast") ||
                          model.transform.kind == ds::FieldTransformKind::Affine;
  emulator->reference_kind = reference_kind_of(config);
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
