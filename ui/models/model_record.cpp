#include "ui/models/model_record.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_model.h"
#include "ui/emulator/emulator_model.h"

namespace dsui {

namespace {

QJsonObject parse_config(const std::string& config_json) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(config_json)).object();
}

QString compact(const QJsonValue& value) {
  if (value.isObject())
    return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
  if (value.isArray())
    return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
  return value.toVariant().toString();
}

// The training set as the file records it (/config "dataset", as `model info` prints it), plus
// the steps trained.
QString training_data(const QJsonObject& config, qint64 steps) {
  QString text;
  const QJsonObject d = config.value(QStringLiteral("dataset")).toObject();
  if (!d.isEmpty()) {
    text = QStringLiteral("%1 (%2 %3 set, %4 samples")
               .arg(d.value(QStringLiteral("path")).toString(QStringLiteral("?")),
                    d.value(QStringLiteral("generator")).toString(QStringLiteral("?")),
                    d.value(QStringLiteral("set_kind")).toString(QStringLiteral("?")),
                    compact(d.value(QStringLiteral("count"))));
    if (d.contains(QStringLiteral("fingerprint")))
      text +=
          QStringLiteral("; fingerprint %1").arg(d.value(QStringLiteral("fingerprint")).toString());
    text += QLatin1Char(')');
  } else {
    text = QStringLiteral("not recorded in the file");
  }
  if (steps > 0) text += QStringLiteral(", %1 training steps").arg(steps);
  return text;
}

QString field_transform_text(const ds::FieldTransform& t) {
  switch (t.kind) {
    case ds::FieldTransformKind::Log10MinMax:
      return QStringLiteral("log10-minmax: log10 in [%1, %2] to [-1, 1]").arg(t.lo).arg(t.hi);
    case ds::FieldTransformKind::Affine:
      return QStringLiteral("affine: offset %1, scale %2").arg(t.offset).arg(t.scale);
    case ds::FieldTransformKind::Identity:
      break;
  }
  return QStringLiteral("identity");
}

double number(const QJsonObject& o, const char* key) {
  return o.value(QLatin1String(key)).toDouble();
}

}  // namespace

QString model_kind_label(ModelKind kind) {
  return kind == ModelKind::Field2d ? QStringLiteral("field 2D") : QStringLiteral("halo catalogue");
}

ModelRecord field_model_record(const EmulatorModel& model) {
  const auto& info = model.model->net.info();
  const QJsonObject config = parse_config(info.config_json);
  ModelRecord r;
  r.kind = ModelKind::Field2d;
  r.name = model.name;
  r.path = model.path;
  r.embedded = model.embedded;
  switch (info.format) {
    case ds::ScoreNetFormat::Diffuscope:
      r.format = QStringLiteral("Diffuscope model (HDF5)");
      break;
    case ds::ScoreNetFormat::TorchScript:
      r.format = QStringLiteral("TorchScript module");
      break;
    case ds::ScoreNetFormat::PytorchCheckpoint:
      r.format = QStringLiteral("PyTorch checkpoint");
      break;
  }
  r.architecture = QString::fromStdString(info.architecture);
  r.parameter_count = info.parameter_count;
  r.size = QStringLiteral("%1x%1 pixels, %2 Mpc/h").arg(model.resolution).arg(model.box_size);
  qint64 steps = info.iteration;
  if (config.contains(QStringLiteral("steps")) && steps < 0)
    steps = qint64(number(config, "steps"));
  r.training_data = training_data(config, steps);
  r.transform = field_transform_text(model.model->transform);
  const auto& schedule = model.model->schedule;
  r.schedule =
      QStringLiteral("%1, T = %2").arg(QString::fromStdString(schedule.name)).arg(schedule.steps());
  if (!schedule.betas.empty())
    r.schedule += QStringLiteral(", beta from %1 to %2")
                      .arg(schedule.betas.front(), 0, 'g', 3)
                      .arg(schedule.betas.back(), 0, 'g', 3);
  if (model.embedded) r.report = QString::fromLatin1(kEmbeddedModelReport);
  return r;
}

ModelRecord halo_model_record(const ds::PointCloudModel& model, const QString& path,
                              bool embedded) {
  const auto& info = model.info();
  const QJsonObject config = parse_config(info.config_json);
  ModelRecord r;
  r.kind = ModelKind::HaloCatalogue;
  r.name = embedded ? QStringLiteral("halos1000") : QFileInfo(path).completeBaseName();
  r.path = path;
  r.embedded = embedded;
  r.format = QStringLiteral("Diffuscope model (HDF5)");
  r.architecture = QString::fromStdString(info.architecture);
  r.parameter_count = info.parameter_count;
  QStringList features;
  for (const auto& f : info.transform.feature_names) features << QString::fromStdString(f);
  const int points = model.training_points();
  r.size = QStringLiteral("%1 halos, %2 features (%3), %4 Mpc/h")
               .arg(points > 0 ? QString::number(points) : QStringLiteral("1000 (not recorded)"))
               .arg(model.features())
               .arg(features.join(QLatin1Char(' ')))
               .arg(info.transform.box_size);
  r.training_data = training_data(config, info.step);
  r.transform = QStringLiteral("per-feature standardisation: %1")
                    .arg(QString::fromStdString(info.transform.to_json()));
  r.schedule = QStringLiteral("learned linear log-SNR, gamma(0) = %1, gamma(1) = %2")
                   .arg(info.gamma0, 0, 'g', 4)
                   .arg(info.gamma1, 0, 'g', 4);
  return r;
}

ReportSummary read_report_summary(const QString& folder) {
  const QString path = QDir(folder).filePath(QStringLiteral("report.json"));
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    throw ds::FileError(path.toStdString(), "cannot be read: " + file.errorString().toStdString());
  QJsonParseError error{};
  const QJsonObject report = QJsonDocument::fromJson(file.readAll(), &error).object();
  if (error.error != QJsonParseError::NoError ||
      report.value(QStringLiteral("format")).toString() != QLatin1String("diffuscope-report"))
    throw ds::FileError(path.toStdString(),
                        "is not a Diffuscope report (format diffuscope-report)");
  ReportSummary s;
  const QJsonObject emulator = report.value(QStringLiteral("emulator")).toObject();
  const QJsonObject summary = emulator.value(QStringLiteral("summary")).toObject();
  s.reduced_chi2_mean = number(summary, "reduced_chi2_mean");
  s.loo_reduced_chi2_mean = number(summary, "loo_reduced_chi2_mean");
  s.cosmologies = int(emulator.value(QStringLiteral("cosmologies")).toArray().size());
  const QJsonArray calibration = report.value(QStringLiteral("calibration"))
                                     .toObject()
                                     .value(QStringLiteral("summary"))
                                     .toArray();
  for (const auto& entry : calibration) {
    const QJsonObject p = entry.toObject();
    ReportSummary::Coverage c;
    c.parameter = p.value(QStringLiteral("name")).toString();
    c.fields = p.value(QStringLiteral("fields")).toInt();
    c.coverage_68 = number(p, "coverage_68");
    c.coverage_95 = number(p, "coverage_95");
    c.nominal_se_68 = number(p, "coverage_68_nominal_se");
    c.nominal_se_95 = number(p, "coverage_95_nominal_se");
    c.mean_abs_z = number(p, "mean_abs_z");
    s.coverage.push_back(c);
  }
  const auto figure = [&](const char* name) {
    const QString png =
        QDir(folder).filePath(QStringLiteral("figures/%1.png").arg(QLatin1String(name)));
    return QFileInfo::exists(png) ? png : QString();
  };
  s.coverage_figure = figure("calibration_coverage");
  s.chi2_figure = figure("emulator_chi2");
  return s;
}

QString report_command(const ModelRecord& record) {
  if (record.kind != ModelKind::Field2d) return QString();
  return QStringLiteral("diffuscope-cli report --model '%1' --fields 30 --out '%2-report'")
      .arg(record.path, record.name);
}

}  // namespace dsui
