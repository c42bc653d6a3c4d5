#include "ui/models/model_record.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "diffuscope/error.h"
#include "diffuscope/model/model.h"
#include "ui/emulator/emulator_model.h"

namespace dsui {

namespace {

double number(const QJsonObject& o, const char* key) {
  return o.value(QLatin1String(key)).toDouble();
}

}  // namespace

QString model_kind_label(ModelKind kind) {
  return kind == ModelKind::Field2d ? QStringLiteral("field 2D") : QStringLiteral("halo catalogue");
}

ModelRecord model_record(const ds::Model& model, const QString& path, bool embedded) {
  const ds::ModelDescription& d = model.description();
  const auto text = [](const std::string& s) { return QString::fromStdString(s); };
  ModelRecord r;
  r.kind = d.modality == ds::Modality::PointCloud ? ModelKind::HaloCatalogue : ModelKind::Field2d;
  r.name = QFileInfo(path).completeBaseName();
  r.path = path;
  r.embedded = embedded;
  r.format = text(d.format);
  r.architecture = text(d.architecture);
  r.parameter_count = d.trainable_numbers;
  r.size = text(d.size);
  r.training_data = text(d.training_data);
  r.transform = text(d.transform);
  r.schedule = text(d.schedule);
  return r;
}

ModelRecord field_model_record(const EmulatorModel& model) {
  ModelRecord r = model_record(*model.handle, model.path, model.embedded);
  r.name = model.name;
  if (model.embedded) r.report = QString::fromLatin1(kEmbeddedModelReport);
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
  s.likelihood = report.value(QStringLiteral("settings"))
                     .toObject()
                     .value(QStringLiteral("likelihood"))
                     .toString();
  const QJsonObject statistics = emulator.value(QStringLiteral("statistics")).toObject();
  for (const char* key : {"knn", "xi", "hmf", "v12"}) {  // the report's order
    const QJsonObject o = statistics.value(QLatin1String(key)).toObject();
    if (o.isEmpty()) continue;
    ReportSummary::Statistic st;
    st.title = o.value(QStringLiteral("title")).toString();
    st.reduced_chi2_mean = number(o, "reduced_chi2_mean");
    st.loo_reduced_chi2_mean = number(o, "loo_reduced_chi2_mean");
    s.statistics.push_back(st);
  }
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
  s.chi2_figure = figure(s.statistics.isEmpty() ? "emulator_chi2" : "halo_chi2");
  return s;
}

QString report_command(const ModelRecord& record) {
  if (record.kind != ModelKind::Field2d)
    return QStringLiteral(
               "diffuscope-cli report --model '%1' --fields 20 --elbo-steps 10 --draws 1 "
               "--max-levels 6 --out '%2-report'")
        .arg(record.path, record.name);
  return QStringLiteral("diffuscope-cli report --model '%1' --fields 30 --out '%2-report'")
      .arg(record.path, record.name);
}

}  // namespace dsui
