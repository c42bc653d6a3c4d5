// The Models dialog (ui/models/model_manager.h): it lists the embedded models with core's
// description, shows the embedded report's calibration, and hands models to the workspaces.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include "diffuscope/nets/score_net.h"
#include "diffuscope/pointcloud/point_model.h"
#include "gui_test_support.h"
#include "ui/emulator/emulator_model.h"
#include "ui/field_workspace.h"
#include "ui/halo_workspace.h"
#include "ui/inference/inference_workspace.h"
#include "ui/jobs/job_runner.h"
#include "ui/models/model_manager.h"

using namespace dsui;

namespace {

bool run_cli(const QStringList& arguments) {
  QProcess p;
  p.start(QStringLiteral(DS_CLI_PATH), arguments);
  if (!p.waitForFinished(180000) || p.exitCode() != 0) {
    qWarning("diffuscope-cli %s failed: %s", qPrintable(arguments.join(' ')),
             p.readAllStandardError().constData());
    return false;
  }
  return true;
}

const ModelRecord* find(const ModelManager& m, ModelKind kind, bool embedded) {
  for (const auto& r : m.records())
    if (r.kind == kind && r.embedded == embedded) return &r;
  return nullptr;
}

}  // namespace

class TestModelManager : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { QSettings().clear(); }
  void listsUsesAndRemovesModels();
};

void TestModelManager::listsUsesAndRemovesModels() {
  // A tiny field model: a few steps on a 16^2 Zel'dovich set (tests/cli/cli_cases.sh).
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString data = dir.filePath(QStringLiteral("d.h5"));
  const QString config = dir.filePath(QStringLiteral("c.json"));
  const QString tiny = dir.filePath(QStringLiteral("tiny.h5"));
  const QString spare = dir.filePath(QStringLiteral("spare.h5"));
  QVERIFY(run_cli({"--quiet", "--threads", "1", "mock", "fields", "--kind", "zeldovich", "--set",
                   "lh", "--n-cosmo", "6", "--res", "16", "--seed", "2", "--out", data}));
  {
    QFile c(config);
    QVERIFY(c.open(QIODevice::WriteOnly));
    c.write(R"({"model": {"dim": 8, "dim_mults": [1, 2]}, "batch_size": 2, "steps": 2,
                "validate_every": 0})");
  }
  QVERIFY(run_cli(
      {"--quiet", "--threads", "1", "train", "--data", data, "--config", config, "--out", tiny}));
  QVERIFY(QFile::copy(tiny, spare));

  JobRunner runner;
  FieldWorkspace fields(&runner);
  HaloWorkspace halos(&runner);
  InferenceWorkspace inference(&runner);
  ModelManager manager(&runner, &fields, &halos, &inference);
  manager.show();

  // Both embedded models, with the parameter counts `model info` prints (the same core calls).
  QVERIFY(dstest::wait_for(
      [&] {
        return find(manager, ModelKind::Field2d, true) &&
               find(manager, ModelKind::HaloCatalogue, true);
      },
      120000));
  const ModelRecord* field = find(manager, ModelKind::Field2d, true);
  const ModelRecord* halo = find(manager, ModelKind::HaloCatalogue, true);
  QCOMPARE(field->parameter_count,
           ds::ScoreNet2d::load(extract_embedded_model().toStdString()).info().parameter_count);
  QCOMPARE(
      halo->parameter_count,
      ds::PointCloudModel::load(
          extract_embedded_model(QString::fromLatin1(kEmbeddedHaloModelResource)).toStdString())
          .info()
          .parameter_count);
  QCOMPARE(field->name, QStringLiteral("zeldovich64"));
  QCOMPARE(halo->name, QStringLiteral("halos1000"));

  // The report's 68% coverage, as report.json has it, in the summary and the details pane.
  manager.select(field->path);
  const ReportSummary* summary = manager.reportSummary(*field);
  QVERIFY(summary);
  QFile json(QStringLiteral(DS_MODEL_REPORT_JSON));
  QVERIFY(json.open(QIODevice::ReadOnly));
  const QJsonArray calibration = QJsonDocument::fromJson(json.readAll())
                                     .object()["calibration"]
                                     .toObject()["summary"]
                                     .toArray();
  QCOMPARE(summary->coverage.size(), calibration.size());
  QVERIFY(calibration.size() == 2);
  for (int i = 0; i < calibration.size(); ++i) {
    const QJsonObject p = calibration[i].toObject();
    const double c68 = p["coverage_68"].toDouble();
    QCOMPARE(summary->coverage[i].parameter, p["name"].toString());
    QCOMPARE(summary->coverage[i].coverage_68, c68);
    QVERIFY2(manager.detailsText().contains(QString::number(c68, 'f', 3)),
             qPrintable(manager.detailsText()));
  }
  QVERIFY(manager.detailsText().contains(QStringLiteral("parameters")));
  QVERIFY(manager.detailsText().contains(QString::number(field->parameter_count)));

  // The halo model's report: each statistic's chi^2 and the ELBO's coverage, as report.json has
  // them.
  manager.select(halo->path);
  const ReportSummary* halo_summary = manager.reportSummary(*halo);
  QVERIFY(halo_summary);
  QFile halo_json(QStringLiteral(DS_HALO_REPORT_JSON));
  QVERIFY(halo_json.open(QIODevice::ReadOnly));
  const QJsonObject halo_report = QJsonDocument::fromJson(halo_json.readAll()).object();
  const QJsonObject statistics = halo_report["emulator"].toObject()["statistics"].toObject();
  QCOMPARE(halo_summary->statistics.size(), statistics.size());
  QVERIFY(statistics.size() == 4);  // kNN-CDF, 2PCF, mass function, pairwise velocity
  for (const auto& key : statistics.keys()) {
    const QJsonObject st = statistics[key].toObject();
    const QString shown = QStringLiteral("%1 %2 (%3)")
                              .arg(st["title"].toString())
                              .arg(st["reduced_chi2_mean"].toDouble(), 0, 'f', 2)
                              .arg(st["loo_reduced_chi2_mean"].toDouble(), 0, 'f', 2);
    QVERIFY2(manager.detailsText().contains(shown), qPrintable(manager.detailsText()));
  }
  const QJsonArray halo_calibration = halo_report["calibration"].toObject()["summary"].toArray();
  QCOMPARE(halo_summary->coverage.size(), halo_calibration.size());
  for (int i = 0; i < halo_calibration.size(); ++i) {
    const double c68 = halo_calibration[i].toObject()["coverage_68"].toDouble();
    QCOMPARE(halo_summary->coverage[i].coverage_68, c68);
    QVERIFY(manager.detailsText().contains(QString::number(c68, 'f', 3)));
  }
  QVERIFY2(manager.detailsText().contains(QStringLiteral("Calibration of the ELBO posterior")),
           qPrintable(manager.detailsText()));
  QTest::qWait(200);
  QVERIFY(QFile::exists(dstest::save_screenshot(manager.grab().toImage(), "model_manager_halo")));
  // Inference's likelihoods start on the embedded defaults.
  QVERIFY(manager.usedBy(*field).contains(QStringLiteral("Inference (VLB)")));
  QVERIFY(manager.usedBy(*halo).contains(QStringLiteral("Inference (ELBO)")));

  // A second field model and a spare copy are added.
  const int before = manager.records().size();
  manager.addModelFile(tiny);
  manager.addModelFile(spare);
  QVERIFY(dstest::wait_for(
      [&] { return manager.indexOf(spare) >= 0 && manager.indexOf(tiny) >= 0; }, 60000));
  QCOMPARE(manager.records().size(), before + 2);
  const ModelRecord& added = manager.records()[manager.indexOf(tiny)];
  QCOMPARE(added.kind, ModelKind::Field2d);
  QCOMPARE(added.parameter_count, ds::ScoreNet2d::load(tiny.toStdString()).info().parameter_count);
  manager.select(tiny);
  QVERIFY(manager.detailsText().contains(
      QStringLiteral("diffuscope-cli report --model '%1'").arg(tiny)));

  // Use for Fields: the field workspace loads that file.
  QVERIFY(manager.useForFields(tiny));
  QVERIFY(dstest::wait_for([&] { return fields.emulator() && fields.emulator()->path == tiny; },
                           60000));
  QVERIFY(!manager.useForHalos(tiny));  // a field model does not draw halos
  // Use for Inference: the VLB likelihood's model.
  QVERIFY(manager.useForInference(tiny));
  QCOMPARE(inference.likelihood().model_path, tiny);
  const QStringList users = manager.usedBy(manager.records()[manager.indexOf(tiny)]);
  QVERIFY(users.contains(QStringLiteral("Fields")));
  QVERIFY(users.contains(QStringLiteral("Inference (VLB)")));
  QVERIFY(!manager.usedBy(*find(manager, ModelKind::Field2d, true)).contains("Inference (VLB)"));

  // A model in use is not removed, and says why; an unused one is; embedded ones stay.
  QVERIFY(!manager.removeModel(tiny));
  QVERIFY2(manager.message().contains(QStringLiteral("in use")), qPrintable(manager.message()));
  QVERIFY(manager.indexOf(tiny) >= 0);
  QVERIFY(manager.removeModel(spare));
  QCOMPARE(manager.indexOf(spare), -1);
  QVERIFY(!manager.removeModel(find(manager, ModelKind::HaloCatalogue, true)->path));

  // A file that is not a model: an error message, nothing added.
  const QString text = dir.filePath(QStringLiteral("notes.h5"));
  {
    QFile f(text);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a model");
  }
  const int count = manager.records().size();
  manager.addModelFile(text);
  QVERIFY(dstest::wait_for([&] { return manager.message().contains(QStringLiteral("notes.h5")); },
                           30000));
  QCOMPARE(manager.records().size(), count);

  // The screenshot: the embedded field model with its report.
  manager.select(find(manager, ModelKind::Field2d, true)->path);
  QTest::qWait(200);
  const QString shot = dstest::save_screenshot(manager.grab().toImage(), "model_manager");
  QVERIFY(QFile::exists(shot));
  QVERIFY(runner.waitForIdle(60000));
}

QTEST_MAIN(TestModelManager)
#include "test_model_manager.moc"
