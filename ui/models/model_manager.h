// The Models dialog (View > Models...): every model known this session (the two embedded
// defaults and each model file opened or dropped, field 2D and halo catalogue), which workspace
// uses each one (Fields' emulator, Halos, Inference's VLB / ELBO likelihood), its description and
// the summary of its validation report. Loads run on the job runner's workers; the dialog follows
// the workspaces' modelLoaded signals.
#pragma once

#include <QDialog>
#include <QHash>
#include <QImage>
#include <QVector>
#include <functional>

#include "ui/models/model_record.h"

class QLabel;
class QPushButton;
class QTextBrowser;
class QTreeWidget;

namespace dsui {

class FieldWorkspace;
class HaloWorkspace;
class InferenceWorkspace;
class JobRunner;

class ModelManager : public QDialog {
  Q_OBJECT
 public:
  ModelManager(JobRunner* runner, FieldWorkspace* fields, HaloWorkspace* halos,
               InferenceWorkspace* inference, QWidget* parent = nullptr);

  const QVector<ModelRecord>& records() const { return records_; }
  int indexOf(const QString& path) const;  // -1 when not listed
  // "Fields", "Halos", "Inference (VLB)", "Inference (ELBO)": who uses the record now.
  QStringList usedBy(const ModelRecord& record) const;
  // The report summary of a record once read (nullptr: none, or not read yet).
  const ReportSummary* reportSummary(const ModelRecord& record) const;
  QString detailsText() const;  // the details pane as plain text
  QString message() const;      // the last refusal, error or confirmation shown in the dialog
  void select(const QString& path);

  // Reads a model file on a worker and lists it (kind detected as MainWindow::openFile does);
  // errors go to a dialog. Files that are not models go to the file opener when one is set.
  void addModelFile(const QString& path);
  void setFileOpener(std::function<void(const QString&)> open) { open_other_ = std::move(open); }
  // False (with message() saying why) when the record does not fit the workspace.
  bool useForFields(const QString& path);
  bool useForHalos(const QString& path);
  bool useForInference(const QString& path);
  // Refused (false, message() says why) for the embedded models and models in use.
  bool removeModel(const QString& path);

 Q_SIGNALS:
  void recordsChanged();

 protected:
  // The built-in models are read when the dialog is first shown, not with the main window:
  // every window would otherwise load both models once more at start-up.
  void showEvent(QShowEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void inspectEmbeddedModels();
  bool embedded_inspected_ = false;
  void upsert(const ModelRecord& record);
  void refreshList();
  void showDetails();
  void showMessage(const QString& text, bool error = false);
  const ModelRecord* current() const;

  JobRunner* runner_;
  FieldWorkspace* fields_;
  HaloWorkspace* halos_;
  InferenceWorkspace* inference_;
  QVector<ModelRecord> records_;
  QHash<QString, ReportSummary> reports_;  // by report folder
  QHash<QString, QImage> report_figures_;  // by report folder: the coverage figure
  QString embedded_halo_path_;             // the cache copy of the embedded halo model
  std::function<void(const QString&)> open_other_;
  QTreeWidget* list_;
  QTextBrowser* details_;
  QLabel* figure_;
  QLabel* message_;
  QPushButton* use_fields_;
  QPushButton* use_halos_;
  QPushButton* use_inference_;
  QPushButton* remove_;
};

}  // namespace dsui
