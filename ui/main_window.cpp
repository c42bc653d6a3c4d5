#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QRandomGenerator>
#include <QSignalBlocker>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/mock/clustered_points.h"
#include "diffuscope/model/model.h"
#include "diffuscope/runtime.h"
#include "ui/cloud_view/catalogue_vtp.h"
#include "ui/cloud_view/point_cloud_panel.h"
#include "ui/cloud_view/point_cloud_view.h"
#include "ui/emulator/field_ensemble.h"
#include "ui/emulator/halo_statistics.h"
#include "ui/emulator/one_p.h"
#include "ui/field_view/denoising_panel.h"
#include "ui/field_view/field_viewport.h"
#include "ui/field_workspace.h"
#include "ui/halo_workspace.h"
#include "ui/inference/inference_plots.h"
#include "ui/inference/inference_view.h"
#include "ui/inference/inference_workspace.h"
#include "ui/jobs/job_runner.h"
#include "ui/jobs/job_status_widget.h"
#include "ui/models/model_manager.h"
#include "ui/plots/compare_panel.h"
#include "ui/plots/ensemble_panel.h"
#include "ui/plots/halo_stats_panel.h"
#include "ui/plots/one_p_panel.h"
#include "ui/plots/plot_export.h"
#include "ui/plots/power_spectrum_plot.h"
#include "ui/teaching/guide_panel.h"

// Resources compiled into a static library are dropped by the linker unless referenced: without
// this the window had no icon (qt.svg: cannot open ':/assets/icons/diffuscope.svg').
static void InitAssetResources() {
  Q_INIT_RESOURCE(assets);
}

namespace dsui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  InitAssetResources();
  setWindowTitle(tr("Diffuscope"));
  setWindowIcon(QIcon(QStringLiteral(":/assets/icons/diffuscope.svg")));
  setAcceptDrops(true);
  QSettings store;
  settings_ = AppSettings::load(store);

  runner_ = new JobRunner(this);
  workspace_ = new FieldWorkspace(runner_, this);
  halos_ = new HaloWorkspace(runner_, this);
  workspace_->setResolution(settings_.resolution);
  workspace_->setFieldKind(settings_.field_kind);
  workspace_->setBoxSize(settings_.box_size);
  EmulatorSchedule schedule = workspace_->emulatorSchedule();
  schedule.ancestral_refinement = settings_.ancestral_refinement;
  workspace_->setEmulatorSchedule(schedule);

  viewport_ = new FieldViewport(this);
  viewport_->setParameters(settings_.field);
  viewport_->setColormap(settings_.colormap);
  viewport_->setScaling(settings_.scaling);
  inference_ = new InferenceWorkspace(runner_, this);
  inference_view_ = new InferenceView(inference_, this);
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("workspaceTabs"));
  tabs_->addTab(viewport_, tr("Fields && Halos"));
  tabs_->addTab(inference_view_, tr("Inference"));
  setCentralWidget(tabs_);
  connect(inference_, &InferenceWorkspace::errorOccurred, this, &MainWindow::showError);
  connect(inference_, &InferenceWorkspace::statusMessage, this,
          [this](const QString& message) { statusBar()->showMessage(message, 15000); });

  spectrum_plot_ = new PowerSpectrumPlot(this);
  auto* spectrum_dock = new QDockWidget(tr("Power spectrum"), this);
  spectrum_dock->setObjectName(QStringLiteral("powerSpectrumDock"));
  spectrum_dock->setWidget(spectrum_plot_);
  addDockWidget(Qt::RightDockWidgetArea, spectrum_dock);

  cloud_panel_ = new PointCloudPanel(this);  // the view with its control strip
  auto* cloud_panel = cloud_panel_;
  cloud_view_ = cloud_panel->view();
  cloud_dock_ = new QDockWidget(tr("3D view"), this);
  cloud_dock_->setObjectName(QStringLiteral("pointCloudDock"));
  cloud_dock_->setWidget(cloud_panel);
  addDockWidget(Qt::RightDockWidgetArea, cloud_dock_);

  buildEnsembleDock();
  buildHaloStatsDock();
  buildCompareDock();
  buildGuide();

  job_status_ = new JobStatusWidget(runner_, this);
  statusBar()->addPermanentWidget(job_status_);

  buildMenus();
  buildToolBar();
  if (!settings_.window_geometry.isEmpty())
    restoreGeometry(settings_.window_geometry);
  else
    resize(1400, 900);
  if (!settings_.window_state.isEmpty()) restoreState(settings_.window_state);
  // The field docks belong to the Fields workspace: hidden while Inference is shown, back after.
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int index) {
    if (index == 1) {
      hidden_docks_.clear();
      for (QDockWidget* dock : findChildren<QDockWidget*>())
        if (dock->isVisible() && dock != guide_dock_) {
          hidden_docks_.append(dock);
          dock->hide();
        }
    } else {
      for (QDockWidget* dock : hidden_docks_) dock->show();
      hidden_docks_.clear();
    }
  });

  connect(viewport_, &FieldViewport::parametersEdited, this,
          [this](const FieldParameters& p) { setFieldParameters(p); });
  connect(viewport_, &FieldViewport::colormapChanged, this,
          [this](ds::Colormap c) { settings_.colormap = c; });
  connect(viewport_, &FieldViewport::scalingChanged, this,
          [this](ds::FieldScaling s) { settings_.scaling = s; });
  connect(workspace_, &FieldWorkspace::snapshotChanged, this, &MainWindow::showSnapshot);
  connect(workspace_, &FieldWorkspace::computingChanged, this, [this](bool computing) {
    if (computing) viewport_->setStatusText(tr("computing..."));
  });
  connect(runner_, &JobRunner::jobFailed, this, &MainWindow::showError);
  connect(workspace_, &FieldWorkspace::denoisingProgress, this,
          [this](const std::shared_ptr<const FieldImage>& image, const QString& status) {
            viewport_->setImage(image);
            viewport_->setStatusText(status);
          });
  connect(workspace_, &FieldWorkspace::modelLoaded, this,
          [this](const std::shared_ptr<const EmulatorModel>& model) {
            settings_.use_emulator = true;
            settings_.model_path = model->embedded ? QString() : model->path;
            syncSourceBox();
          });
  connect(workspace_, &FieldWorkspace::modelLoadFailed, this,
          [this](const QString& path, const QString& message) {
            if (!message.isEmpty()) showError(tr("Open model"), message);
            if (settings_.model_path == path) settings_.model_path.clear();
            settings_.use_emulator = workspace_->source() == FieldSource::Emulator;
            syncSourceBox();
            // A saved emulator that no longer loads at start-up: show the mock instead.
            if (!workspace_->snapshot() && !workspace_->isComputing())
              workspace_->requestField(settings_.field);
          });

  connect(halos_, &HaloWorkspace::snapshotChanged, this,
          [this](const std::shared_ptr<const HaloSnapshot>& s) {
            cloud_view_->setPoints(s->points);
            cloud_panel_->setTrajectory(s->trajectory);
            cloud_dock_->setWindowTitle(
                tr("3D view: %1 at Omega_m = %2, sigma_8 = %3 (%4 halos, ODE %5, %6 ms)")
                    .arg(s->model_name)
                    .arg(s->omega_m, 0, 'f', 3)
                    .arg(s->sigma_8, 0, 'f', 3)
                    .arg(s->points->positions.size())
                    .arg(s->steps)
                    .arg(s->compute_ms, 0, 'f', 0));
          });
  connect(halos_, &HaloWorkspace::modelLoaded, this,
          [this](const QString& description) { cloud_dock_->setToolTip(description); });
  connect(halos_, &HaloWorkspace::modelLoadFailed, this,
          [this](const QString& path, const QString& message) {
            if (!message.isEmpty()) showError(tr("Open halo model"), message);
            // Nothing emulated to show: fall back to the clustered stand-in.
            if (!halos_->model()) newPointSet();
            (void)path;
          });

  if (settings_.teaching)
    teaching_action_->setChecked(true);  // applies it
  else
    guide_dock_->hide();
  if (settings_.use_emulator)
    workspace_->loadModel(settings_.model_path);
  else
    workspace_->requestField(settings_.field);
  halos_->setCosmology(settings_.field.omega_m, settings_.field.sigma_8);
  halos_->loadModel();
}

MainWindow::~MainWindow() {
  runner_->cancelAll();
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open field..."), this, [this] {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open field"), settings_.last_open_directory,
                                     tr("Fields (*.npy *.h5 *.hdf5);;All files (*)"));
    if (!path.isEmpty()) openFieldFile(path);
  });
  open->setShortcut(QKeySequence::Open);
  file->addAction(tr("Open &model..."), this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open diffusion model"), settings_.last_open_directory,
        tr("Diffusion models (*.h5 *.pt *.pth *.ts *.zip);;All files (*)"));
    if (!path.isEmpty()) openModelFile(path);
  });
  file->addAction(tr("Open &halo model..."), this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open point-cloud diffusion model"), settings_.last_open_directory,
        tr("Diffuscope point-cloud models (*.h5);;All files (*)"));
    if (!path.isEmpty()) openHaloModelFile(path);
  });
  file->addAction(tr("Open in &Inference (field, map or chains)..."), this, [this] {
    showInference();
    inference_view_->openFileDialog();
  });
  QMenu* recent = file->addMenu(tr("Open &recent in Inference"));
  connect(recent, &QMenu::aboutToShow, this, [this, recent] {
    recent->clear();
    const QStringList files = inference_view_->recentFiles();
    if (files.isEmpty()) recent->addAction(tr("(none yet)"))->setEnabled(false);
    for (const QString& f : files)
      recent->addAction(f, this, [this, f] {
        showInference();
        inference_view_->openPath(f);
      });
  });
  file->addSeparator();
  QAction* export_views = file->addAction(tr("&Export views and data..."), this, [this] {
    exportIntoFolder(tr("Export the field, its P(k) and the halo catalogue into a folder"),
                     [this](const QString& folder) { return exportViews(folder); });
  });
  export_views->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  edit_menu_ = edit;
  edit->addAction(tr("Copy the CLI command of this &field"), this, [this] {
    const QString command = fieldCliCommand();
    if (command.isEmpty())
      statusBar()->showMessage(tr("Only an emulated field has a sample command"), 8000);
    else
      QApplication::clipboard()->setText(command);
  });
  edit->addAction(tr("Copy the CLI command of this &catalogue"), this, [this] {
    const QString command = cloudCliCommand();
    if (!command.isEmpty()) QApplication::clipboard()->setText(command);
  });

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addSeparator();
  // Created now so that it lists every model this session loads (ui/models/model_manager.h).
  models_ = new ModelManager(runner_, workspace_, halos_, inference_, this);
  models_->setFileOpener([this](const QString& path) { openFile(path); });
  QAction* models = view->addAction(tr("&Models..."), this, [this] {
    models_->show();
    models_->raise();
    models_->activateWindow();
  });
  models->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
  QAction* reset = view->addAction(tr("&Reset field view"), viewport_, &FieldViewport::resetView);
  reset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  view->addAction(tr("New &halo seed"), this, [this] { halos_->setSeed(halos_->seed() + 1); });
  view->addAction(tr("Clustered &point set (Thomas process)"), this, &MainWindow::newPointSet);
  // The emulator keeps its noise fixed while the sliders move; this draws a different one.
  QAction* new_seed = view->addAction(tr("New field &seed"), this, [this] {
    FieldParameters p = settings_.field;
    p.seed = std::uint64_t(QRandomGenerator::global()->generate64());
    setFieldParameters(p);
  });
  new_seed->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  // DDIM refinements are fast but smooth the small scales; the ancestral sampler (all T steps,
  // ~1000 network calls: seconds on a CPU) is the faithful one.
  QAction* ancestral = view->addAction(tr("Refine emulated fields with the &ancestral sampler"));
  ancestral->setObjectName(QStringLiteral("ancestralRefinementAction"));
  ancestral->setCheckable(true);
  ancestral->setChecked(settings_.ancestral_refinement);
  ancestral->setToolTip(
      tr("Once the sliders rest, redraw the emulated field through all steps "
         "of the ancestral sampler (faithful P(k), slower) instead of DDIM"));
  connect(ancestral, &QAction::toggled, this, [this](bool on) {
    settings_.ancestral_refinement = on;
    EmulatorSchedule schedule = workspace_->emulatorSchedule();
    schedule.ancestral_refinement = on;
    workspace_->setEmulatorSchedule(schedule);
    if (workspace_->source() == FieldSource::Emulator) workspace_->requestField(settings_.field);
  });

  view->addSeparator();
  QAction* pin = view->addAction(tr("&Pin for comparison"), this, &MainWindow::pinForComparison);
  pin->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
  pin->setToolTip(tr("Keep the field and halo statistics on screen next to the live ones"));
  unpin_action_ = view->addAction(tr("&Unpin"), this, &MainWindow::unpin);
  unpin_action_->setEnabled(false);
  view->addSeparator();
  teaching_action_ = view->addAction(tr("&Teaching mode"));
  teaching_action_->setObjectName(QStringLiteral("teachingModeAction"));
  teaching_action_->setCheckable(true);
  teaching_action_->setShortcut(QKeySequence(Qt::Key_F8));
  teaching_action_->setToolTip(
      tr("Larger text, fewer controls, explanations of every view and "
         "a guided tour of the method"));
  connect(teaching_action_, &QAction::toggled, this, &MainWindow::setTeachingMode);

  QMenu* infer = menuBar()->addMenu(tr("&Inference"));
  QAction* infer_field =
      infer->addAction(tr("&Infer parameters of this field"), this, &MainWindow::inferShownField);
  infer_field->setObjectName(QStringLiteral("inferFieldAction"));
  infer_field->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  QAction* infer_cloud = infer->addAction(tr("Infer parameters of this &cloud (halo ELBO)"), this,
                                          &MainWindow::inferShownCloud);
  infer_cloud->setObjectName(QStringLiteral("inferCloudAction"));
  infer->addAction(tr("Show &Fields"), this, &MainWindow::showFields);
  infer->addAction(tr("Show I&nference"), this, &MainWindow::showInference);
  infer->addSeparator();
  infer->addAction(tr("&Export chains..."), inference_view_, &InferenceView::exportChainsDialog);
  infer->addAction(tr("&Save likelihood map..."), inference_view_, &InferenceView::saveMapDialog);
  infer->addAction(tr("Export &plots..."), inference_view_, &InferenceView::exportPlotsDialog);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* about = help->addAction(tr("&About Diffuscope"), this, &MainWindow::showAbout);
  about->setShortcut(QKeySequence::HelpContents);
  help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::buildToolBar() {
  QToolBar* bar = addToolBar(tr("Field"));
  bar->setObjectName(QStringLiteral("fieldToolBar"));
  bar->addWidget(new QLabel(tr(" Field "), bar));
  kind_box_ = new QComboBox(bar);
  kind_box_->setObjectName(QStringLiteral("fieldSourceBox"));
  for (const auto& e : ds::kFieldKinds.entries()) {
    kind_box_->addItem(QString::fromLatin1(e.label));
    kind_box_->setItemData(kind_box_->count() - 1, QString::fromLatin1(e.description),
                           Qt::ToolTipRole);
  }
  kind_box_->addItem(
      tr("Emulator: %1 (built-in)").arg(QFileInfo(kEmbeddedModelResource).completeBaseName()));
  kind_box_->setItemData(kind_box_->count() - 1,
                         tr("fields drawn by the trained diffusion model (File > Open model... "
                            "loads another); a quick preview while a slider moves, refined when "
                            "it rests"),
                         Qt::ToolTipRole);
  kind_box_->setCurrentIndex(ds::kFieldKinds.index(settings_.field_kind));
  bar->addWidget(kind_box_);
  connect(kind_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int index) {
    if (index < int(ds::kFieldKinds.size()))
      setFieldKind(ds::kFieldKinds.entries()[std::size_t(index)].value);
    else
      useEmulator();
  });
  expert_toolbar_actions_ << bar->addWidget(new QLabel(tr(" Resolution "), bar));
  resolution_box_ = new QComboBox(bar);
  for (int n : {64, 128, 256, 512})
    resolution_box_->addItem(QString::number(n) + QStringLiteral("²"), n);
  resolution_box_->setCurrentIndex(std::max(0, resolution_box_->findData(settings_.resolution)));
  expert_toolbar_actions_ << bar->addWidget(resolution_box_);
  syncSourceBox();
  connect(resolution_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int) {
    settings_.resolution = resolution_box_->currentData().toInt();
    workspace_->setResolution(settings_.resolution);
    workspace_->requestField(settings_.field);
  });
}

void MainWindow::showFields() {
  tabs_->setCurrentIndex(0);
}
void MainWindow::showInference() {
  tabs_->setCurrentIndex(1);
}
bool MainWindow::inferenceShown() const {
  return tabs_->currentIndex() == 1;
}

void MainWindow::inferShownField() {
  const auto snapshot = workspace_->snapshot();
  if (!snapshot || !snapshot->image) {
    showError(tr("Infer parameters"), tr("No field is shown yet"));
    return;
  }
  ds::Field2D field;
  field.n = snapshot->image->n;
  field.box_size = snapshot->box_size > 0 ? snapshot->box_size : settings_.box_size;
  field.kind = snapshot->image->is_contrast ? ds::FieldKind::Contrast : ds::FieldKind::Density;
  field.values.assign(snapshot->image->values.begin(), snapshot->image->values.end());
  std::optional<Theta> truth;
  if (snapshot->parameters)
    truth = Theta{snapshot->parameters->omega_m, snapshot->parameters->sigma_8};
  std::optional<ds::MockFieldKind> kind;
  if (snapshot->parameters && !snapshot->emulator) kind = workspace_->fieldKind();
  try {
    inference_->setObservation(InferenceWorkspace::make_observation(
        std::move(field), truth, kind,
        snapshot->emulator ? tr("emulated: %1").arg(snapshot->source) : snapshot->source));
  } catch (const std::exception& e) {
    showError(tr("Infer parameters"), QString::fromStdString(e.what()));
    return;
  }
  showInference();
}

void MainWindow::inferShownCloud() {
  const auto snapshot = halos_->snapshot();
  if (!snapshot || !snapshot->cloud) {
    showError(tr("Infer parameters"), tr("No emulated halo catalogue is shown yet"));
    return;
  }
  try {
    inference_->setObservation(InferenceWorkspace::make_cloud_observation(
        *snapshot->cloud, snapshot->n_points, snapshot->features, snapshot->box_size,
        Theta{snapshot->omega_m, snapshot->sigma_8},
        tr("emulated: %1, %2 halos, Ωm = %3, σ8 = %4, seed %5")
            .arg(snapshot->model_name)
            .arg(snapshot->n_points)
            .arg(snapshot->omega_m, 0, 'f', 3)
            .arg(snapshot->sigma_8, 0, 'f', 3)
            .arg(snapshot->seed)));
  } catch (const std::exception& e) {
    showError(tr("Infer parameters"), QString::fromStdString(e.what()));
    return;
  }
  LikelihoodSettings s = inference_->likelihood();
  s.kind = ds::LikelihoodKind::PointElbo;
  inference_view_->setLikelihoodKind(s.kind);
  showInference();
}

void MainWindow::setFieldParameters(const FieldParameters& parameters) {
  if (parameters != settings_.field) ensemble_->cancel();  // the ensemble is of the old position
  if (parameters.omega_m != settings_.field.omega_m ||
      parameters.sigma_8 != settings_.field.sigma_8)
    halo_stats_->cancel();
  settings_.field = parameters;
  if (viewport_->parameters() != parameters) viewport_->setParameters(parameters);
  workspace_->requestField(parameters);
  halos_->setCosmology(parameters.omega_m, parameters.sigma_8);
}

void MainWindow::setFieldKind(ds::MockFieldKind kind) {
  settings_.field_kind = kind;
  settings_.use_emulator = false;
  workspace_->setFieldKind(kind);
  syncSourceBox();
  workspace_->requestField(settings_.field);
}

void MainWindow::useEmulator() {
  if (workspace_->emulator()) {
    settings_.use_emulator = true;
    workspace_->useEmulator();
    syncSourceBox();
  } else {
    workspace_->loadModel(settings_.model_path);  // modelLoaded switches the source
  }
}

void MainWindow::openModelFile(const QString& path) {
  settings_.last_open_directory = QFileInfo(path).absolutePath();
  workspace_->loadModel(path);
}

void MainWindow::syncSourceBox() {
  const int emulator_index = int(ds::kFieldKinds.size());
  if (const auto model = workspace_->emulator()) {
    kind_box_->setItemText(emulator_index, model->embedded
                                               ? tr("Emulator: %1 (built-in)").arg(model->name)
                                               : tr("Emulator: %1").arg(model->name));
    kind_box_->setItemData(emulator_index, model->describe(), Qt::ToolTipRole);
  }
  const bool emulated = workspace_->source() == FieldSource::Emulator;
  {
    const QSignalBlocker quiet(kind_box_);  // programmatic change: no second request
    kind_box_->setCurrentIndex(emulated ? emulator_index
                                        : ds::kFieldKinds.index(workspace_->fieldKind()));
  }
  // The emulator draws at the resolution it was trained at.
  resolution_box_->setEnabled(!emulated);
  resolution_box_->setToolTip(emulated ? tr("the emulator draws at its training resolution, %1x%1")
                                             .arg(workspace_->emulator()->resolution)
                                       : QString());
}

void MainWindow::openFieldFile(const QString& path) {
  settings_.last_open_directory = QFileInfo(path).absolutePath();
  workspace_->openField(path);
}

void MainWindow::openFile(const QString& path) {
  const QFileInfo info(path);
  if (!info.exists()) {
    showError(tr("Open"), tr("%1 does not exist").arg(path));
    return;
  }
  const QString suffix = info.suffix().toLower();
  const auto model = ds::recognise_model_file(path.toStdString());
  if (model == ds::Modality::PointCloud) {
    openHaloModelFile(path);
  } else if (model == ds::Modality::Field2d) {
    showFields();
    openModelFile(path);
  } else if (suffix == QLatin1String("npy") && !info.isDir()) {
    showFields();
    openFieldFile(path);
  } else {
    showInference();
    inference_view_->openPath(path);
  }
}

QString MainWindow::fieldCliCommand() const {
  const auto s = workspace_->snapshot();
  if (!s || !s->emulator || !s->parameters) return QString();
  const bool clip = s->emulator->model->transform.kind == ds::FieldTransformKind::Log10MinMax;
  return QStringLiteral(
             "diffuscope-cli sample --model '%1' --omega-m %2 --sigma-8 %3 --n 1 --res %4 "
             "--sampler %5 --steps %6 --eta 0%7 --seed %8 --out field.npy")
      .arg(s->emulator->path)
      .arg(s->parameters->omega_m, 0, 'g', 17)
      .arg(s->parameters->sigma_8, 0, 'g', 17)
      .arg(s->emulator->resolution)
      .arg(s->ancestral ? QStringLiteral("ancestral") : QStringLiteral("ddim"))
      .arg(s->sampler_steps)
      .arg(clip ? QStringLiteral(" --clip 1") : QString())
      .arg(s->parameters->seed);
}

QString MainWindow::cloudCliCommand() const {
  const auto s = halos_->snapshot();
  if (!s || !halos_->model()) return QString();
  return QStringLiteral(
             "diffuscope-cli sample --model '%1' --omega-m %2 --sigma-8 %3 --n 1 --n-points %4 "
             "--sampler ode --steps %5 --seed %6 --out catalogue.npy")
      .arg(halos_->modelPath())
      .arg(s->omega_m, 0, 'g', 17)
      .arg(s->sigma_8, 0, 'g', 17)
      .arg(s->n_points)
      .arg(s->steps)
      .arg(s->seed);
}

QStringList MainWindow::exportViews(const QString& folder) {
  QStringList written;
  if (!QDir().mkpath(folder)) {
    showError(tr("Export views"), tr("Cannot create the folder %1").arg(folder));
    return written;
  }
  const QString base = folder + QLatin1Char('/');
  QStringList failed;
  const auto image = [&](const QImage& picture, const QString& name) {
    const QString path = base + name, part = path + QStringLiteral(".part");
    if (!picture.isNull() && picture.save(part, "PNG") &&
        (QFile::remove(path) || !QFile::exists(path)) && QFile::rename(part, path))
      written << path;
    else
      failed << name, QFile::remove(part);
  };
  const auto attempt = [&](const QString& name, const std::function<void(const std::string&)>& w) {
    try {
      w((base + name).toStdString());
      written << base + name;
    } catch (const std::exception& e) {
      failed << QStringLiteral("%1 (%2)").arg(name, QString::fromUtf8(e.what()));
    }
  };
  if (const auto s = workspace_->snapshot(); s && s->image) {
    image(viewport_->grabFramebuffer(), QStringLiteral("field.png"));
    const std::size_t n = std::size_t(s->image->n);
    const std::vector<double> values(s->image->values.begin(), s->image->values.end());
    attempt(QStringLiteral("field.npy"), [&](const std::string& p) {
      ds::write_npy(p, {1, n, n}, values, true);
    });
    attempt(QStringLiteral("field.h5"), [&](const std::string& p) {
      ds::Dataset d;
      d.kind = ds::SampleKind::Fields;
      d.shape = {1, n, n};
      d.samples = s->image->values;
      d.param_names = {"Omega_m", "sigma_8"};
      d.params = s->parameters ? std::vector<double>{s->parameters->omega_m, s->parameters->sigma_8}
                               : std::vector<double>{NAN, NAN};
      d.box_size = s->box_size > 0 ? s->box_size : settings_.box_size;
      d.set_kind = ds::SetKind::Single;
      d.source = s->emulator ? "diffusion" : "mock";
      d.generator = s->source.toStdString();
      d.seed = s->parameters ? s->parameters->seed : 0;
      d.units = s->image->is_contrast ? "density contrast" : "density";
      ds::write_dataset_hdf5(p, d);
    });
    written << export_plot_all(spectrum_plot_->plot(), base + QStringLiteral("power_spectrum"),
                               s->source);
    const QString csv = base + QStringLiteral("power_spectrum.csv");
    std::vector<double> reference(s->measured.k.size(), NAN);
    if (s->theory.k == s->measured.k) reference = s->theory.pk;
    if (write_csv(csv,
                  {QStringLiteral("k_h_per_Mpc"), QStringLiteral("pk_measured"),
                   QStringLiteral("pk_reference")},
                  {s->measured.k, s->measured.pk, reference}))
      written << csv;
    else
      failed << QStringLiteral("power_spectrum.csv");
  }
  if (const auto c = halos_->snapshot(); c && c->cloud) {
    image(cloud_view_->grabFramebuffer(), QStringLiteral("cloud.png"));
    const std::vector<double> values(c->cloud->begin(), c->cloud->end());
    attempt(QStringLiteral("catalogue.npy"), [&](const std::string& p) {
      ds::write_npy(p, {std::size_t(c->n_points), std::size_t(c->features)}, values, true);
    });
    attempt(QStringLiteral("catalogue.h5"), [&](const std::string& p) {
      ds::Dataset d;
      d.kind = ds::SampleKind::Points;
      d.shape = {1, std::size_t(c->n_points), std::size_t(c->features)};
      d.samples = *c->cloud;
      d.param_names = {"Omega_m", "sigma_8"};
      d.params = {c->omega_m, c->sigma_8};
      if (halos_->model()) d.feature_names = halos_->model()->info().transform.feature_names;
      d.box_size = c->box_size;
      d.set_kind = ds::SetKind::Single;
      d.source = "diffusion";
      d.generator = c->model_name.toStdString();
      d.seed = c->seed;
      d.units = "physical (positions Mpc/h, velocities km/s, masses log10 Msun/h)";
      ds::write_dataset_hdf5(p, d);
    });
    attempt(QStringLiteral("catalogue.vtp"),
            [&](const std::string& p) { write_catalogue_vtp(p, *c); });
  }
  if (!failed.isEmpty())
    showError(tr("Export views"),
              tr("Could not write into %1: %2").arg(folder, failed.join(QStringLiteral(", "))));
  return written;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) openFile(url.toLocalFile());
  event->acceptProposedAction();
}

void MainWindow::openHaloModelFile(const QString& path) {
  settings_.last_open_directory = QFileInfo(path).absolutePath();
  halos_->loadModel(path);
}

void MainWindow::newPointSet() {
  const std::uint64_t seed = point_seed_++;
  QPointer<PointCloudView> view(cloud_view_);
  QPointer<PointCloudPanel> panel(cloud_panel_);
  runner_->start(tr("Clustered point set"), [view, panel, seed](const ds::JobContext& job) {
    ds::ThomasProcessSettings s;
    s.points = 4000;
    s.clusters = 120;
    s.scatter = 12.0;
    s.box_size = 500.0;
    const ds::PointCloud cloud = ds::thomas_point_process(s, seed);
    job.check_cancelled();
    auto points = std::make_shared<PointSet>();
    points->box_size = cloud.box_size;
    points->positions.reserve(cloud.positions.size());
    for (const auto& p : cloud.positions)
      points->positions.push_back({float(p[0]), float(p[1]), float(p[2])});
    return JobRunner::Publish([view, panel, points] {
      if (panel) panel->setTrajectory(nullptr);  // no sampler path to scrub
      if (view) view->setPoints(points);
    });
  });
}

QDockWidget* MainWindow::addEmulatorDock(QWidget* panel, const QString& title,
                                         const QString& object_name, QDockWidget* tab_of) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(object_name);
  dock->setWidget(panel);
  addDockWidget(Qt::RightDockWidgetArea, dock);
  if (tab_of) {
    tabifyDockWidget(tab_of, dock);
    if (ensemble_dock_) ensemble_dock_->raise();  // the ensemble stays the visible tab
  }
  return dock;
}

void MainWindow::buildEnsembleDock() {
  ensemble_ = new FieldEnsemble(runner_, this);
  ensemble_->setSettings(EnsembleSettings{settings_.ensemble_size, settings_.ensemble_steps});
  ensemble_panel_ = new EnsemblePanel(this);
  ensemble_panel_->setSettings(ensemble_->settings());
  // One column beside the field: the ensemble, the single field's P(k) and the other emulator
  // views are tabs of one dock area above the 3D view.
  ensemble_dock_ = addEmulatorDock(ensemble_panel_, tr("Ensemble"), QStringLiteral("ensembleDock"),
                                   findChild<QDockWidget*>(QStringLiteral("powerSpectrumDock")));
  connect(ensemble_, &FieldEnsemble::snapshotChanged, ensemble_panel_, &EnsemblePanel::setSnapshot);
  connect(ensemble_, &FieldEnsemble::computingChanged, ensemble_panel_,
          &EnsemblePanel::setComputing);
  connect(ensemble_panel_, &EnsemblePanel::errorOccurred, this, &MainWindow::showError);
  connect(ensemble_panel_, &EnsemblePanel::settingsEdited, this, [this](const EnsembleSettings& s) {
    settings_.ensemble_size = s.size;
    settings_.ensemble_steps = s.steps;
    ensemble_->setSettings(s);
    const auto shown = workspace_->snapshot();
    if (shown && shown->emulator && shown->refined && shown->parameters)
      ensemble_->request(shown->emulator, *shown->parameters);
  });
  connect(ensemble_panel_, &EnsemblePanel::exportRequested, this, [this] {
    exportIntoFolder(tr("Export the ensemble into a folder"),
                     [this](const QString& folder) { return ensemble_panel_->exportTo(folder); });
  });
  denoising_panel_ = new DenoisingPanel(this);
  addEmulatorDock(denoising_panel_, tr("Denoising"), QStringLiteral("denoisingDock"),
                  ensemble_dock_);
  one_p_ = new OneP(runner_, this);
  one_p_panel_ = new OnePPanel(this);
  addEmulatorDock(one_p_panel_, tr("1P"), QStringLiteral("onePDock"), ensemble_dock_);
  connect(one_p_, &OneP::snapshotChanged, one_p_panel_, &OnePPanel::setSnapshot);
  connect(one_p_, &OneP::computingChanged, one_p_panel_, &OnePPanel::setComputing);
  connect(one_p_panel_, &OnePPanel::cancelRequested, one_p_, &OneP::cancel);
  connect(one_p_panel_, &OnePPanel::startRequested, this, [this](const OnePSettings& s) {
    if (!workspace_->emulator()) {
      showError(tr("1P comparison"), tr("The 1P comparison needs an emulator: choose it in the "
                                        "toolbar or open a model first"));
      return;
    }
    one_p_->start(workspace_->emulator(), settings_.field, s);
  });
  // An ensemble follows every refined emulated field: the sliders rested. It is queued with the
  // refinement, so that the exclusive lane runs it next (before the halo catalogue that the same
  // rest queued), and again when the refined field arrives (a no-op unless that one was dropped).
  connect(workspace_, &FieldWorkspace::refinementQueued, this,
          [this](std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& p) {
            ensemble_->request(std::move(emulator), p);
          });
  connect(workspace_, &FieldWorkspace::snapshotChanged, this,
          [this](const std::shared_ptr<const FieldSnapshot>& s) {
            if (s->trajectory) denoising_panel_->setTrajectory(s->trajectory);
            if (s->emulator && s->refined && s->parameters)
              ensemble_->request(s->emulator, *s->parameters);
            else if (!s->emulator)
              ensemble_->cancel();
          });
}

void MainWindow::buildHaloStatsDock() {
  halo_stats_ = new HaloStatistics(runner_, this);
  halo_stats_panel_ = new HaloStatsPanel(this);
  addEmulatorDock(halo_stats_panel_, tr("Halo statistics"), QStringLiteral("haloStatsDock"),
                  ensemble_dock_);
  connect(halo_stats_, &HaloStatistics::snapshotChanged, halo_stats_panel_,
          &HaloStatsPanel::setSnapshot);
  connect(halo_stats_panel_, &HaloStatsPanel::errorOccurred, this, &MainWindow::showError);
  connect(halo_stats_panel_, &HaloStatsPanel::exportRequested, this, [this] {
    exportIntoFolder(tr("Export the halo statistics into a folder"),
                     [this](const QString& f) { return halo_stats_panel_->exportTo(f); });
  });
  halo_stats_->followRefinedClouds(halos_);
}

void MainWindow::buildCompareDock() {
  compare_panel_ = new ComparePanel(this);
  compare_dock_ = new QDockWidget(tr("Compare (pinned vs live)"), this);
  compare_dock_->setObjectName(QStringLiteral("compareDock"));
  compare_dock_->setWidget(compare_panel_);
  addDockWidget(Qt::LeftDockWidgetArea, compare_dock_);
  compare_dock_->hide();
  connect(compare_panel_, &ComparePanel::unpinRequested, this, &MainWindow::unpin);

  // The pinned halo catalogue in a 3D view of its own, under the pinned field.
  pinned_cloud_view_ = new PointCloudView(this);
  pinned_cloud_view_->setObjectName(QStringLiteral("pinnedCloudView"));
  pinned_cloud_dock_ = new QDockWidget(tr("Pinned halos"), this);
  pinned_cloud_dock_->setObjectName(QStringLiteral("pinnedCloudDock"));
  pinned_cloud_dock_->setWidget(pinned_cloud_view_);
  addDockWidget(Qt::LeftDockWidgetArea, pinned_cloud_dock_);
  splitDockWidget(compare_dock_, pinned_cloud_dock_, Qt::Vertical);  // under the pinned field
  pinned_cloud_dock_->hide();
}

bool MainWindow::isPinned() const {
  return compare_panel_->pinned() != nullptr || halo_stats_panel_->pinned() != nullptr;
}

void MainWindow::pinForComparison() {
  const auto field = workspace_->snapshot();
  const auto halo = halo_stats_->snapshot();
  if (!field && !halo) {
    showError(tr("Pin for comparison"), tr("Nothing to pin yet: wait for the first field."));
    return;
  }
  compare_panel_->setPinned(field);
  compare_panel_->setLive(field);
  QString label;
  if (field && field->parameters)
    label = tr("pinned: Ωm = %1, σ8 = %2")
                .arg(field->parameters->omega_m, 0, 'f', 3)
                .arg(field->parameters->sigma_8, 0, 'f', 3);
  else if (field)
    label = tr("pinned: %1").arg(field->source);
  spectrum_plot_->setPinned(field ? field->measured : ds::PowerSpectrum{}, label);
  halo_stats_panel_->setPinned(halo);
  // The catalogue those statistics were measured on, drawn as the live view draws its own.
  if (halo && halo->cloud && halo->cloud->points) {
    pinned_cloud_view_->setPoints(halo->cloud->points);
    pinned_cloud_view_->setColourQuantity(cloud_view_->colourQuantity());
    pinned_cloud_view_->setSizeByMass(cloud_view_->sizeByMass());
    pinned_cloud_dock_->setWindowTitle(tr("Pinned halos: Omega_m = %1, sigma_8 = %2 (%3 halos)")
                                           .arg(halo->cloud->omega_m, 0, 'f', 3)
                                           .arg(halo->cloud->sigma_8, 0, 'f', 3)
                                           .arg(halo->cloud->points->positions.size()));
    if (!pinned_cloud_dock_->isVisible()) {
      const int width = cloud_dock_->width();
      pinned_cloud_dock_->show();
      resizeDocks({cloud_dock_, pinned_cloud_dock_}, {width / 2, width - width / 2},
                  Qt::Horizontal);
    }
  }
  unpin_action_->setEnabled(true);
  if (tabs_->currentIndex() == 0) {
    compare_dock_->show();
    compare_dock_->raise();
  }
  statusBar()->showMessage(tr("Pinned %1 for comparison").arg(field ? field->source : QString()),
                           8000);
}

void MainWindow::unpin() {
  compare_panel_->setPinned(nullptr);
  spectrum_plot_->setPinned(ds::PowerSpectrum{}, QString());
  halo_stats_panel_->setPinned(nullptr);
  pinned_cloud_view_->setPoints(nullptr);
  pinned_cloud_dock_->hide();
  unpin_action_->setEnabled(false);
  compare_dock_->hide();
}

void MainWindow::buildGuide() {
  base_font_ = font();
  guide_panel_ = new GuidePanel(this);
  guide_dock_ = new QDockWidget(tr("Guide"), this);
  guide_dock_->setObjectName(QStringLiteral("guideDock"));
  guide_dock_->setWidget(guide_panel_);
  addDockWidget(Qt::RightDockWidgetArea, guide_dock_);
  const std::pair<QWidget*, const char*> hover[] = {{viewport_, "field"},
                                                    {spectrum_plot_, "power_spectrum"},
                                                    {ensemble_panel_, "ensemble"},
                                                    {denoising_panel_, "denoising"},
                                                    {cloud_view_, "halos"},
                                                    {halo_stats_panel_, "halo_statistics"},
                                                    {one_p_panel_, "one_p"},
                                                    {inference_view_->mapPlot(), "likelihood"},
                                                    {inference_view_->tracePlot(), "trace"},
                                                    {inference_view_->cornerPlot(), "corner"}};
  for (const auto& [widget, key] : hover)
    guide_panel_->explainOnHover(widget, QString::fromLatin1(key));
  const auto raise = [this](const char* name) {
    if (auto* dock = findChild<QDockWidget*>(QString::fromLatin1(name))) {
      dock->show();
      dock->raise();
    }
  };
  std::vector<TourStep> tour;
  tour.push_back({QStringLiteral("field"), [this] {
                    showFields();
                    if (workspace_->source() != FieldSource::Emulator) useEmulator();
                  }});
  tour.push_back({QStringLiteral("power_spectrum"), [raise] { raise("powerSpectrumDock"); }});
  tour.push_back({QStringLiteral("ensemble"), [raise] { raise("ensembleDock"); }});
  tour.push_back({QStringLiteral("denoising"), [this, raise] {
                    raise("denoisingDock");
                    denoising_panel_->setFrame(0);
                    denoising_panel_->play();
                  }});
  tour.push_back({QStringLiteral("halos"), [raise] { raise("pointCloudDock"); }});
  tour.push_back({QStringLiteral("halo_statistics"), [raise] { raise("haloStatsDock"); }});
  tour.push_back({QStringLiteral("likelihood"), [this] {
                    // A Gaussian mock at the fiducial cosmology and its exact likelihood map:
                    // quick on any CPU, with a known answer.
                    showInference();
                    inference_view_->setLikelihoodKind(ds::LikelihoodKind::ExactGrf);
                    inference_view_->setMapGrid(30, true);
                    auto once = std::make_shared<QMetaObject::Connection>();
                    *once = connect(inference_, &InferenceWorkspace::observationChanged, this,
                                    [this, once] {
                                      disconnect(*once);
                                      inference_view_->startMap();
                                    });
                    inference_->drawMock(MockRequest{});
                  }});
  tour.push_back({QStringLiteral("chains"), [this] {
                    showInference();
                    inference_->addStart({0.2, 0.7});
                    inference_->addStart({0.4, 0.9});
                    inference_view_->setSampler(SamplerChoice::Nuts, 100, 400);
                    inference_view_->startChains();
                  }});
  tour.push_back({QStringLiteral("trace"), [this] { showInference(); }});
  tour.push_back({QStringLiteral("corner"), [this] { showInference(); }});
  guide_panel_->setTour(std::move(tour));
}

void MainWindow::setTeachingMode(bool on) {
  settings_.teaching = on;
  if (teaching_action_->isChecked() != on) {
    const QSignalBlocker quiet(teaching_action_);
    teaching_action_->setChecked(on);
  }
  QFont f = base_font_;
  if (on) f.setPointSizeF(base_font_.pointSizeF() * 1.3);
  setFont(f);
  viewport_->setPanelScale(on ? 1.5f : 1.0f);
  for (QAction* a : expert_toolbar_actions_) a->setVisible(!on);
  edit_menu_->menuAction()->setVisible(!on);
  guide_dock_->setVisible(on);
  if (!on) guide_panel_->stopTour();
}

void MainWindow::exportIntoFolder(const QString& title,
                                  const std::function<QStringList(const QString&)>& write) {
  const QString folder =
      QFileDialog::getExistingDirectory(this, title, settings_.last_open_directory);
  if (folder.isEmpty()) return;
  settings_.last_open_directory = folder;
  const QStringList written = write(folder);
  statusBar()->showMessage(tr("Wrote %1 files into %2").arg(written.size()).arg(folder), 10000);
}

void MainWindow::showSnapshot(const std::shared_ptr<const FieldSnapshot>& snapshot) {
  viewport_->setImage(snapshot->image);
  viewport_->setStatusText(
      QStringLiteral("%1 (%2 ms)").arg(snapshot->source).arg(snapshot->compute_ms, 0, 'f', 0));
  spectrum_plot_->setSpectra(snapshot->measured, snapshot->theory, snapshot->title,
                             snapshot->theory_label, snapshot->measured_label);
  compare_panel_->setLive(snapshot);
}

void MainWindow::showError(const QString& title, const QString& message) {
  last_error_ = message;
  // Non-modal, one at a time: the window keeps running and a burst of failures is not a pile.
  if (!error_box_) {
    error_box_ = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
    error_box_->setAttribute(Qt::WA_DeleteOnClose);
    error_box_->open();
  } else {
    error_box_->setWindowTitle(title);
    error_box_->setText(message);
  }
}

void MainWindow::showAbout() {
  const QString versions = QString::fromStdString(ds::version_report()).toHtmlEscaped();
  QMessageBox::about(
      this, tr("About Diffuscope"),
      tr("<h3>Diffuscope</h3><p>Diffusion-model emulators and likelihoods for cosmology.</p>"
         "<p>The field view shows mock fields (Gaussian, lognormal, Zel'dovich) or fields "
         "emulated by a trained diffusion model for the chosen cosmology.</p><pre>%1\nQt %2"
         "</pre>")
          .arg(versions, QString::fromLatin1(qVersion())));
}

void MainWindow::saveSettings() {
  settings_.window_geometry = saveGeometry();
  for (QDockWidget* dock : hidden_docks_) dock->show();  // the Fields layout is what persists
  hidden_docks_.clear();
  settings_.window_state = saveState();
  QSettings store;
  settings_.save(store);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  runner_->cancelAll();
  event->accept();
}

}  // namespace dsui
