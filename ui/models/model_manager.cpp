#include "ui/models/model_manager.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QPointer>
#include <QPushButton>
#include <QShowEvent>
#include <QSplitter>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <memory>
#include <optional>

#include "diffuscope/data/field.h"
#include "diffuscope/error.h"
#include "diffuscope/model/model.h"
#include "ui/emulator/emulator_model.h"
#include "ui/field_workspace.h"
#include "ui/halo_workspace.h"
#include "ui/inference/inference_workspace.h"
#include "ui/jobs/job_runner.h"

// The report of the embedded model is a resource of the static library (see main_window.cpp).
static void InitModelReportResources() {
  Q_INIT_RESOURCE(assets);
}

namespace dsui {

namespace {

// Field models as MainWindow::openFile tells them apart: a Diffuscope file says "field2d", a
// PyTorch checkpoint or TorchScript module is known by its suffix.
struct Inspected {
  std::vector<ModelRecord> records;
  QHash<QString, ReportSummary> reports;
  QHash<QString, QImage> figures;
  QString embedded_halo_path;
  QString report_error;
};

QString html(const QString& text) {
  return text.toHtmlEscaped();
}

}  // namespace

ModelManager::ModelManager(JobRunner* runner, FieldWorkspace* fields, HaloWorkspace* halos,
                           InferenceWorkspace* inference, QWidget* parent)
    : QDialog(parent), runner_(runner), fields_(fields), halos_(halos), inference_(inference) {
  InitModelReportResources();
  setWindowTitle(tr("Models"));
  setObjectName(QStringLiteral("modelManager"));
  setAcceptDrops(true);
  resize(1100, 640);

  list_ = new QTreeWidget(this);
  list_->setHeaderLabels({tr("Kind"), tr("Name"), tr("File"), tr("Used by")});
  list_->setRootIsDecorated(false);
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  list_->header()->setStretchLastSection(true);
  list_->setTextElideMode(Qt::ElideMiddle);
  details_ = new QTextBrowser(this);
  details_->setOpenExternalLinks(false);
  figure_ = new QLabel(this);
  figure_->setAlignment(Qt::AlignCenter);
  figure_->setMinimumHeight(0);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* open = new QPushButton(tr("Open model..."), this);
  use_fields_ = new QPushButton(tr("Use for Fields"), this);
  use_halos_ = new QPushButton(tr("Use for Halos"), this);
  use_inference_ = new QPushButton(tr("Use for Inference"), this);
  remove_ = new QPushButton(tr("Remove from list"), this);
  auto* close = new QPushButton(tr("Close"), this);
  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {open, use_fields_, use_halos_, use_inference_, remove_}) {
    b->setAutoDefault(false);
    buttons->addWidget(b);
  }
  buttons->addStretch(1);
  buttons->addWidget(close);

  // Left: the list above the report's coverage figure; right: the details, full height.
  auto* left = new QSplitter(Qt::Vertical, this);
  left->addWidget(list_);
  left->addWidget(figure_);
  left->setSizes({220, 360});
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(details_);
  split->setSizes({470, 630});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split, 1);
  layout->addWidget(message_);
  layout->addLayout(buttons);
  auto* hint = new QLabel(tr("Drop model files here to add them."), this);
  hint->setEnabled(false);
  layout->addWidget(hint);

  connect(list_, &QTreeWidget::currentItemChanged, this, [this] { showDetails(); });
  connect(open, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open model"), QString(),
        tr("Models (*.h5 *.hdf5 *.pt *.pth *.ts *.zip);;All files (*)"));
    if (!path.isEmpty()) addModelFile(path);
  });
  const auto on_current = [this](bool (ModelManager::*use)(const QString&)) {
    return [this, use] {
      if (const ModelRecord* r = current()) (this->*use)(r->path);
    };
  };
  connect(use_fields_, &QPushButton::clicked, this, on_current(&ModelManager::useForFields));
  connect(use_halos_, &QPushButton::clicked, this, on_current(&ModelManager::useForHalos));
  connect(use_inference_, &QPushButton::clicked, this, on_current(&ModelManager::useForInference));
  connect(remove_, &QPushButton::clicked, this, on_current(&ModelManager::removeModel));
  connect(close, &QPushButton::clicked, this, &QDialog::hide);

  connect(fields_, &FieldWorkspace::modelLoaded, this,
          [this](const std::shared_ptr<const EmulatorModel>& model) {
            upsert(field_model_record(*model));
          });
  connect(halos_, &HaloWorkspace::modelLoaded, this, [this] {
    if (const auto model = halos_->handle()) {
      const QString path = halos_->modelPath();
      const int i = indexOf(path);
      const bool embedded = path == embedded_halo_path_ || (i >= 0 && records_[i].embedded);
      upsert(model_record(*model, path, embedded));
    }
  });
  connect(inference_, &InferenceWorkspace::likelihoodChanged, this, [this] { refreshList(); });
}

void ModelManager::showEvent(QShowEvent* event) {
  QDialog::showEvent(event);
  if (!embedded_inspected_) {
    embedded_inspected_ = true;
    inspectEmbeddedModels();
  }
}

void ModelManager::inspectEmbeddedModels() {
  QPointer<ModelManager> self(this);
  runner_->start(tr("Read built-in models"), [self](const ds::JobContext& ctx) {
    auto out = std::make_shared<Inspected>();
    const QString field_path = extract_embedded_model();
    ctx.check_cancelled();
    auto field = std::make_shared<EmulatorModel>(
        *load_emulator_model(field_path, 64, ds::kDefaultFieldBoxSize, ctx));
    field->embedded = true;
    out->records.push_back(field_model_record(*field));
    out->embedded_halo_path =
        extract_embedded_model(QString::fromLatin1(kEmbeddedHaloModelResource));
    ctx.check_cancelled();
    const auto halo = ds::Model::load(out->embedded_halo_path.toStdString());
    ModelRecord halo_record = model_record(*halo, out->embedded_halo_path, true);
    halo_record.report = QString::fromLatin1(kEmbeddedHaloModelReport);
    out->records.push_back(halo_record);
    for (const char* folder : {kEmbeddedModelReport, kEmbeddedHaloModelReport}) {
      const QString report = QString::fromLatin1(folder);
      try {  // a report that does not read still leaves the models listed
        out->reports.insert(report, read_report_summary(report));
        if (!out->reports[report].coverage_figure.isEmpty())
          out->figures.insert(report, QImage(out->reports[report].coverage_figure));
      } catch (const ds::FileError& e) {
        out->report_error = QString::fromUtf8(e.what());
      }
    }
    return JobRunner::Publish([self, out] {
      if (!self) return;
      self->embedded_halo_path_ = out->embedded_halo_path;
      self->reports_.insert(out->reports);
      self->report_figures_.insert(out->figures);
      for (const auto& r : out->records) self->upsert(r);
      if (!out->report_error.isEmpty()) self->showMessage(out->report_error, true);
    });
  });
}

void ModelManager::addModelFile(const QString& path) {
  const QString file = QFileInfo(path).absoluteFilePath();
  QPointer<ModelManager> self(this);
  runner_->start(
      tr("Read model %1").arg(QFileInfo(file).fileName()), [self, file](const ds::JobContext& ctx) {
        std::optional<ModelRecord> record;
        QString error;
        bool not_a_model = false;
        try {
          if (ds::recognise_model_file(file.toStdString()))
            record = model_record(*ds::Model::load(file.toStdString()), file, false);
          else
            not_a_model = true;
        } catch (const ds::Cancelled&) {
          throw;
        } catch (const std::exception& e) {
          error = QString::fromUtf8(e.what());
        }
        return JobRunner::Publish([self, file, record, error, not_a_model] {
          if (!self) return;
          if (not_a_model) {
            if (self->open_other_) {
              self->open_other_(file);
              self->showMessage(tr("%1 is not a model file: opened in the main window").arg(file));
            } else {
              self->showMessage(tr("%1 is not a model file").arg(file), true);
            }
            return;
          }
          if (!record) {
            self->showMessage(tr("Cannot open %1: %2").arg(file, error), true);
            return;
          }
          self->upsert(*record);
          self->select(record->path);
          self->showMessage(tr("Added %1 (%2)").arg(record->name, model_kind_label(record->kind)));
        });
      });
}

int ModelManager::indexOf(const QString& path) const {
  for (int i = 0; i < records_.size(); ++i)
    if (records_[i].path == path) return i;
  return -1;
}

QStringList ModelManager::usedBy(const ModelRecord& r) const {
  QStringList users;
  const LikelihoodSettings& s = inference_->likelihood();
  if (r.kind == ModelKind::Field2d) {
    if (const auto e = fields_->emulator(); e && e->path == r.path) users << tr("Fields");
    if (r.embedded ? s.model_path.isEmpty() : s.model_path == r.path)
      users << tr("Inference (VLB)");
  } else {
    if (halos_->model() && halos_->modelPath() == r.path) users << tr("Halos");
    if (r.embedded ? s.halo_model_path.isEmpty() : s.halo_model_path == r.path)
      users << tr("Inference (ELBO)");
  }
  return users;
}

const ReportSummary* ModelManager::reportSummary(const ModelRecord& record) const {
  const auto it = reports_.constFind(record.report);
  return record.report.isEmpty() || it == reports_.constEnd() ? nullptr : &it.value();
}

void ModelManager::upsert(const ModelRecord& record) {
  const int i = indexOf(record.path);
  if (i >= 0) {
    ModelRecord merged = record;
    merged.embedded = merged.embedded || records_[i].embedded;
    if (merged.embedded && merged.kind == ModelKind::Field2d)
      merged.report = QString::fromLatin1(kEmbeddedModelReport);
    if (merged.embedded && merged.kind == ModelKind::HaloCatalogue) {
      merged.name = QStringLiteral("halos1000");
      merged.report = QString::fromLatin1(kEmbeddedHaloModelReport);
    }
    records_[i] = merged;
  } else {
    records_.push_back(record);
  }
  refreshList();
  Q_EMIT recordsChanged();
}

void ModelManager::refreshList() {
  const ModelRecord* selected = current();
  const QString selected_path = selected ? selected->path : QString();
  const QSignalBlocker quiet(list_);
  list_->clear();
  for (const auto& r : records_) {
    auto* item = new QTreeWidgetItem(
        list_, {model_kind_label(r.kind), r.name, r.embedded ? tr("built in") : r.path,
                usedBy(r).join(QStringLiteral(", "))});
    item->setData(0, Qt::UserRole, r.path);
    item->setToolTip(2, r.path);
    if (r.path == selected_path) list_->setCurrentItem(item);
  }
  for (int c = 0; c < 2; ++c) list_->resizeColumnToContents(c);
  list_->setColumnWidth(2, 120);  // paths are elided; the tooltip and details show them whole
  if (!list_->currentItem() && list_->topLevelItemCount() > 0)
    list_->setCurrentItem(list_->topLevelItem(0));
  showDetails();
}

const ModelRecord* ModelManager::current() const {
  const QTreeWidgetItem* item = list_->currentItem();
  if (!item) return nullptr;
  const int i = indexOf(item->data(0, Qt::UserRole).toString());
  return i >= 0 ? &records_[i] : nullptr;
}

void ModelManager::select(const QString& path) {
  for (int i = 0; i < list_->topLevelItemCount(); ++i)
    if (list_->topLevelItem(i)->data(0, Qt::UserRole).toString() == path)
      list_->setCurrentItem(list_->topLevelItem(i));
}

void ModelManager::showDetails() {
  const ModelRecord* r = current();
  use_fields_->setEnabled(r && r->kind == ModelKind::Field2d);
  use_halos_->setEnabled(r && r->kind == ModelKind::HaloCatalogue);
  use_inference_->setEnabled(r != nullptr);
  remove_->setEnabled(r && !r->embedded);
  figure_->clear();
  if (!r) {
    details_->setHtml(tr("<p>No model selected.</p>"));
    return;
  }
  const QStringList users = usedBy(*r);
  QString text = QStringLiteral("<h3>%1</h3><table cellspacing=\"4\">").arg(html(r->name));
  const auto row = [&text](const QString& key, const QString& value) {
    text += QStringLiteral("<tr><td valign=\"top\"><b>%1</b></td><td>%2</td></tr>")
                .arg(html(key), html(value));
  };
  row(tr("kind"), model_kind_label(r->kind));
  row(tr("file"), r->embedded ? tr("built in (cache copy %1)").arg(r->path) : r->path);
  row(tr("used by"), users.isEmpty() ? tr("none") : users.join(QStringLiteral(", ")));
  row(tr("format"), r->format);
  row(tr("architecture"), r->architecture);
  row(tr("parameters"), QString::number(r->parameter_count));
  row(r->kind == ModelKind::Field2d ? tr("resolution") : tr("points"), r->size);
  row(tr("training data"), r->training_data);
  row(tr("transform"), r->transform);
  row(tr("schedule"), r->schedule);
  text += QStringLiteral("</table>");
  if (const ReportSummary* s = reportSummary(*r)) {
    if (s->statistics.isEmpty()) {
      text += tr("<h4>Validation report</h4><p>Emulator P(k): reduced chi^2 of generated fields "
                 "against the mocks %1 (the mocks' own leave-one-out value %2), mean over %3 "
                 "cosmologies.</p>")
                  .arg(s->reduced_chi2_mean, 0, 'f', 2)
                  .arg(s->loo_reduced_chi2_mean, 0, 'f', 2)
                  .arg(s->cosmologies);
    } else {
      text += tr("<h4>Validation report</h4><p>Emulator: reduced chi^2 of generated catalogues "
                 "against lognormal halo mocks (the mocks' own leave-one-out value), mean over "
                 "%1 cosmologies: ")
                  .arg(s->cosmologies);
      QStringList parts;
      for (const auto& st : s->statistics)
        parts << QStringLiteral("%1 %2 (%3)")
                     .arg(html(st.title))
                     .arg(st.reduced_chi2_mean, 0, 'f', 2)
                     .arg(st.loo_reduced_chi2_mean, 0, 'f', 2);
      text += parts.join(QStringLiteral("; ")) + QStringLiteral(".</p>");
    }
    text += tr("<p>Calibration of the %1 posterior:</p><table cellspacing=\"4\"><tr><th>"
               "parameter</th><th>fields</th><th>68% coverage</th><th>95% coverage</th>"
               "<th>mean |z|</th></tr>")
                .arg(html(s->likelihood.toUpper()));
    for (const auto& c : s->coverage)
      text += QStringLiteral(
                  "<tr><td>%1</td><td>%2</td><td>%3 &plusmn; %4</td><td>%5 &plusmn; %6</td>"
                  "<td>%7</td></tr>")
                  .arg(html(c.parameter))
                  .arg(c.fields)
                  .arg(c.coverage_68, 0, 'f', 3)
                  .arg(c.nominal_se_68, 0, 'f', 3)
                  .arg(c.coverage_95, 0, 'f', 3)
                  .arg(c.nominal_se_95, 0, 'f', 3)
                  .arg(c.mean_abs_z, 0, 'f', 2);
    text +=
        tr("</table><p>(&plusmn;: binomial error of a calibrated posterior; the figure "
           "on the left: expected coverage.)</p>");
    const QImage figure = report_figures_.value(r->report);
    if (!figure.isNull())
      figure_->setPixmap(QPixmap::fromImage(
          figure.scaled(460, 340, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
  } else if (!r->report.isEmpty()) {
    text += tr("<p>Reading the validation report...</p>");
  } else {
    text += tr("<h4>Validation report</h4><p>No report: run<br><code>%1</code></p>")
                .arg(html(report_command(*r)));
  }
  details_->setHtml(text);
}

QString ModelManager::detailsText() const {
  return details_->toPlainText();
}

QString ModelManager::message() const {
  return message_->text();
}

void ModelManager::showMessage(const QString& text, bool error) {
  message_->setText(text);
  if (!error) return;
  // Non-modal: the application keeps running.
  auto* box = new QMessageBox(QMessageBox::Warning, tr("Models"), text, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

bool ModelManager::useForFields(const QString& path) {
  const int i = indexOf(path);
  if (i < 0 || records_[i].kind != ModelKind::Field2d) {
    showMessage(tr("Fields draws with a field 2D model; %1 is not one").arg(path));
    return false;
  }
  fields_->loadModel(records_[i].embedded ? QString() : path);  // modelLoaded updates the list
  showMessage(tr("Fields is loading %1").arg(records_[i].name));
  return true;
}

bool ModelManager::useForHalos(const QString& path) {
  const int i = indexOf(path);
  if (i < 0 || records_[i].kind != ModelKind::HaloCatalogue) {
    showMessage(tr("Halos draws with a halo catalogue model; %1 is not one").arg(path));
    return false;
  }
  halos_->loadModel(records_[i].embedded ? QString() : path);
  showMessage(tr("Halos is loading %1").arg(records_[i].name));
  return true;
}

bool ModelManager::useForInference(const QString& path) {
  const int i = indexOf(path);
  if (i < 0) return false;
  const ModelRecord& r = records_[i];
  LikelihoodSettings s = inference_->likelihood();
  // Empty: the embedded default (LikelihoodSettings).
  (r.kind == ModelKind::Field2d ? s.model_path : s.halo_model_path) =
      r.embedded ? QString() : r.path;
  showMessage(
      tr("Inference's %1 likelihood uses %2")
          .arg(r.kind == ModelKind::Field2d ? QStringLiteral("VLB") : QStringLiteral("ELBO"),
               r.name));
  inference_->setLikelihood(s);  // likelihoodChanged refreshes the list
  return true;
}

bool ModelManager::removeModel(const QString& path) {
  const int i = indexOf(path);
  if (i < 0) return false;
  if (records_[i].embedded) {
    showMessage(tr("%1 is built in: it stays in the list").arg(records_[i].name));
    return false;
  }
  const QStringList users = usedBy(records_[i]);
  if (!users.isEmpty()) {
    showMessage(tr("%1 is in use by %2: choose another model there first")
                    .arg(records_[i].name, users.join(QStringLiteral(", "))));
    return false;
  }
  showMessage(tr("Removed %1 from the list").arg(records_[i].name));
  records_.removeAt(i);
  refreshList();
  Q_EMIT recordsChanged();
  return true;
}

void ModelManager::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void ModelManager::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) addModelFile(url.toLocalFile());
  event->acceptProposedAction();
}

}  // namespace dsui
