// What the Models dialog shows of one model file: an immutable description read once from the
// loaded model (core's ds::ModelDescription, the same figures `diffuscope-cli model info`
// prints), and the summary of its validation report (`diffuscope-cli report`) when one is known.
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace ds {
class Model;
}

namespace dsui {

struct EmulatorModel;

enum class ModelKind { Field2d, HaloCatalogue };
QString model_kind_label(ModelKind kind);  // "field 2D", "halo catalogue"

struct ModelRecord {
  ModelKind kind = ModelKind::Field2d;
  QString name;           // the file's base name, e.g. "zeldovich64"
  QString path;           // the file loaded (the cache copy for an embedded model)
  bool embedded = false;  // compiled into the application
  QString format;         // "Diffuscope model (HDF5)", "TorchScript module", ...
  QString architecture;
  qint64 parameter_count = 0;
  QString size;           // "64x64 pixels, 25 Mpc/h" or "1000 halos, 7 features, 1000 Mpc/h"
  QString training_data;  // what the file records of its training set and steps
  QString transform;
  QString schedule;
  QString report;  // folder (or resource folder) holding report.json; empty: no report known
};

// The record of any model (ds::Model's description); the name is the file's base name.
ModelRecord model_record(const ds::Model& model, const QString& path, bool embedded);
// A field model as the Fields workspace loaded it: its name, and the built-in model's report.
ModelRecord field_model_record(const EmulatorModel& model);

// The validation reports of the embedded models (assets/models/reports/zeldovich64 and halos1000,
// compiled in as resources).
inline constexpr char kEmbeddedModelReport[] = ":/assets/models/reports/zeldovich64";
inline constexpr char kEmbeddedHaloModelReport[] = ":/assets/models/reports/halos1000";

// The figures of report.json the dialog shows: the emulator's chi^2 (P(k) of a field model; each
// halo statistic of a point-cloud model) and the calibration of the likelihood per parameter.
struct ReportSummary {
  struct Statistic {  // a point-cloud model's report: one per halo statistic
    QString title;    // "kNN-CDF (k = 1, 5, 9)", "2PCF", ...
    double reduced_chi2_mean = 0.0, loo_reduced_chi2_mean = 0.0;
  };
  QVector<Statistic> statistics;  // empty for a field model's report
  QString likelihood;             // "vlb", "elbo", ...
  struct Coverage {
    QString parameter;
    int fields = 0;
    double coverage_68 = 0.0, coverage_95 = 0.0;
    double nominal_se_68 = 0.0, nominal_se_95 = 0.0;  // binomial error of a calibrated posterior
    double mean_abs_z = 0.0;
  };
  double reduced_chi2_mean = 0.0;      // generated fields against mocks
  double loo_reduced_chi2_mean = 0.0;  // the mocks against each other (leave-one-out)
  int cosmologies = 0;
  QVector<Coverage> coverage;
  QString coverage_figure;  // path of figures/calibration_coverage.png; empty when absent
  QString chi2_figure;      // figures/emulator_chi2.png (halo_chi2.png for a point model)
};

// Reads `folder`/report.json. Throws ds::FileError naming the file when it cannot be read or is not
// a Diffuscope report.
ReportSummary read_report_summary(const QString& folder);

// The command that writes a report for a model, e.g. "diffuscope-cli report --model 'M'
// --fields 30 --out 'M-report'" (app/cli/commands/report_command.cpp); for a point-cloud model
// with the cheaper ELBO of the shipped halo report (S = 10, K = 1) and 20 catalogues.
QString report_command(const ModelRecord& record);

}  // namespace dsui
