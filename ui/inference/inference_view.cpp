#include "ui/inference/inference_view.h"

#include <qcustomplot.h>
#include <utility>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <functional>

#include "diffuscope/data/field.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/runtime.h"
#include "ui/field_view/field_thumbnail.h"
#include "ui/inference/batch_results.h"
#include "ui/inference/inference_plots.h"
#include "ui/inference/map_evaluation.h"
#include "ui/inference/table_cell.h"
#include "ui/plots/plot_export.h"
#include "ui/plots/power_spectrum_plot.h"

namespace dsui {

namespace {

QString number(double v, int precision = 4) {
  return std::isfinite(v) ? QString::number(v, 'g', precision) : QStringLiteral("–");
}

}  // namespace

InferenceView::InferenceView(InferenceWorkspace* workspace, QWidget* parent)
    : QWidget(parent), workspace_(workspace) {
  setAcceptDrops(true);
  map_ = new LikelihoodMapPlot(this);
  trace_ = new TracePlot(this);
  corner_ = new CornerPlot(this);
  table_ = new QTableWidget(this);
  table_->setObjectName(QStringLiteral("diagnosticsTable"));
  table_->setColumnCount(11);
  table_->setHorizontalHeaderLabels({tr("parameter"), tr("mean"), tr("sd"), tr("16%"), tr("84%"),
                                     tr("R-hat"), tr("ESS bulk"), tr("ESS tail"), tr("MCSE"),
                                     tr("z vs truth"), tr("94% HDI")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->verticalHeader()->setVisible(false);
  table_->setMinimumHeight(150);

  auto* centre = new QSplitter(Qt::Vertical, this);
  centre->addWidget(map_);
  chain_status_ = new QLabel(this);
  chain_status_->setObjectName(QStringLiteral("chainStatus"));
  chain_status_->setWordWrap(true);
  auto* lower = new QWidget(this);
  auto* lower_layout = new QVBoxLayout(lower);
  lower_layout->setContentsMargins(0, 0, 0, 0);
  lower_layout->addWidget(chain_status_);
  lower_layout->addWidget(table_);
  centre->addWidget(lower);
  centre->setStretchFactor(0, 3);
  centre->setStretchFactor(1, 1);

  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(trace_);
  right->addWidget(corner_);

  auto* scroll = new QScrollArea(this);
  scroll->setWidget(buildControls());
  scroll->setWidgetResizable(true);
  scroll->setMinimumWidth(340);
  scroll->setMaximumWidth(460);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(scroll);
  split->addWidget(centre);
  split->addWidget(right);
  split->setStretchFactor(1, 3);
  split->setStretchFactor(2, 2);
  split->setSizes({400, 660, 540});
  centre->setSizes({620, 260});
  right->setSizes({430, 470});
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(split);

  connect(workspace_, &InferenceWorkspace::observationChanged, this,
          &InferenceView::refreshObservation);
  frame_.setSingleShot(true);
  connect(&frame_, &QTimer::timeout, this, &InferenceView::drawFrame);
  connect(workspace_, &InferenceWorkspace::mapChanged, this, [this] {
    const auto m = workspace_->currentMap();
    scheduleFrame(true, false, !m || m->complete);
  });
  connect(workspace_, &InferenceWorkspace::chainsChanged, this, [this] {
    const auto c = workspace_->chains();
    scheduleFrame(false, true, !c || c->finished || c->paused || c->from_file);
  });
  connect(workspace_, &InferenceWorkspace::startsChanged, this, [this] {
    map_->setStarts(workspace_->starts());
    updateButtons();
  });
  connect(workspace_, &InferenceWorkspace::likelihoodChanged, this,
          &InferenceView::showLikelihoodSettings);
  connect(map_, &LikelihoodMapPlot::clicked, this, [this](Theta t) {
    if (click_sets_truth_->isChecked()) {
      truth_om_->setValue(t[0]);
      truth_s8_->setValue(t[1]);
      drawMock();
    } else {
      workspace_->addStart(t);
    }
  });
  connect(map_, &LikelihoodMapPlot::windowSelected, this, [this](Theta lo, Theta hi) {
    full_prior_->setChecked(false);
    center_om_->setValue(0.5 * (lo[0] + hi[0]));
    center_s8_->setValue(0.5 * (lo[1] + hi[1]));
    half_width_->setValue(std::max(0.005, 0.5 * std::max(hi[0] - lo[0], hi[1] - lo[1])));
    startMap();
  });
  refreshObservation();
  refreshMaps();
  refreshChains();
}

QWidget* InferenceView::buildControls() {
  auto* panel = new QWidget;
  auto* layout = new QVBoxLayout(panel);

  // Observation.
  auto* obs = new QGroupBox(tr("Observation"), panel);
  auto* of = new QFormLayout(obs);
  thumbnail_ = new QLabel(obs);
  thumbnail_->setFixedSize(128, 128);
  thumbnail_->setScaledContents(true);
  observation_label_ =
      new QLabel(tr("none: draw a mock, open a field, or send one from Fields"), obs);
  observation_label_->setObjectName(QStringLiteral("observationLabel"));
  observation_label_->setWordWrap(true);
  spectrum_ = new PowerSpectrumPlot(obs);
  spectrum_->setMinimumSize(200, 150);
  spectrum_->setMaximumHeight(170);
  spectrum_->plot()->legend->setVisible(false);
  auto* thumb_row = new QHBoxLayout;
  thumb_row->addWidget(thumbnail_);
  thumb_row->addWidget(observation_label_, 1);
  of->addRow(thumb_row);
  of->addRow(spectrum_);
  // A catalogue's k-NN CDFs (solid) against a Poisson process of its density (dotted).
  neighbours_ = new QCustomPlot(obs);
  neighbours_->setObjectName(QStringLiteral("knnCdfPlot"));
  neighbours_->setMinimumSize(200, 150);
  neighbours_->setMaximumHeight(170);
  neighbours_->xAxis->setLabel(tr("r [Mpc/h]"));
  neighbours_->yAxis->setLabel(tr("kNN-CDF"));
  neighbours_->legend->setVisible(true);
  neighbours_->legend->setFont(QFont(QStringLiteral("sans"), 7));
  neighbours_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignBottom);
  neighbours_->setVisible(false);
  of->addRow(neighbours_);
  mock_kind_ = new QComboBox(obs);
  for (const auto& e : ds::kFieldKinds.entries()) mock_kind_->addItem(QString::fromLatin1(e.label));
  mock_kind_->addItem(tr("Halo catalogue (lognormal mock)"));
  mock_kind_->setItemData(mock_kind_->count() - 1,
                          tr("1000 halos with positions, velocities and log10 mass in a 1000 "
                             "Mpc/h box: the mocks the default halo model was trained on"),
                          Qt::ToolTipRole);
  of->addRow(tr("Mock kind"), mock_kind_);
  truth_om_ = new QDoubleSpinBox(obs);
  truth_om_->setRange(0.1, 0.5);
  truth_om_->setDecimals(3);
  truth_om_->setSingleStep(0.01);
  truth_om_->setValue(0.3);
  truth_s8_ = new QDoubleSpinBox(obs);
  truth_s8_->setRange(0.6, 1.0);
  truth_s8_->setDecimals(3);
  truth_s8_->setSingleStep(0.01);
  truth_s8_->setValue(0.8);
  auto* truth_row = new QHBoxLayout;
  truth_row->addWidget(truth_om_);
  truth_row->addWidget(truth_s8_);
  of->addRow(tr("Truth Ωm, σ8"), truth_row);
  mock_n_ = new QSpinBox(obs);
  mock_n_->setRange(16, 512);
  mock_n_->setSingleStep(16);
  mock_n_->setValue(64);
  mock_box_ = new QDoubleSpinBox(obs);
  mock_box_->setRange(1, 1000);
  mock_box_->setValue(ds::kDefaultFieldBoxSize);
  mock_box_->setSuffix(QStringLiteral(" Mpc/h"));
  auto* res_row = new QHBoxLayout;
  res_row->addWidget(mock_n_);
  res_row->addWidget(mock_box_);
  of->addRow(tr("Pixels, box"), res_row);
  mock_seed_ = new QSpinBox(obs);
  mock_seed_->setRange(0, 1 << 30);
  mock_seed_->setValue(1);
  of->addRow(tr("Seed"), mock_seed_);
  file_index_ = new QSpinBox(obs);
  file_index_->setRange(0, 1 << 30);
  file_index_->setToolTip(
      tr("which field of a stack (HDF5 dataset, .npy [M, N, N], CAMELS maps) "
         "Open reads"));
  of->addRow(tr("Index in file"), file_index_);
  click_sets_truth_ = new QCheckBox(tr("a click on the map sets the truth"), obs);
  of->addRow(click_sets_truth_);
  auto* draw = new QPushButton(tr("Draw mock"), obs);
  draw->setObjectName(QStringLiteral("drawMockButton"));
  connect(draw, &QPushButton::clicked, this, &InferenceView::drawMock);
  auto* open = new QPushButton(tr("Open…"), obs);
  open->setToolTip(
      tr("a field (.npy, HDF5 dataset, CAMELS stack), a grid map (.h5) or chains "
         "(GetDist, ArviZ .nc, CSV); or drop a file here"));
  connect(open, &QPushButton::clicked, this, &InferenceView::openFileDialog);
  auto* recent = new QPushButton(tr("Recent"), obs);
  recent->setMenu(recentMenu());
  auto* obs_buttons = new QHBoxLayout;
  obs_buttons->addWidget(draw);
  obs_buttons->addWidget(open);
  obs_buttons->addWidget(recent);
  of->addRow(obs_buttons);
  layout->addWidget(obs);

  // Likelihood.
  auto* like = new QGroupBox(tr("Likelihood"), panel);
  auto* lf = new QFormLayout(like);
  likelihood_kind_ = new QComboBox(like);
  for (const auto& e : ds::kLikelihoodKinds.entries()) {
    likelihood_kind_->addItem(QString::fromLatin1(e.label));
    likelihood_kind_->setItemData(likelihood_kind_->count() - 1, QString::fromLatin1(e.description),
                                  Qt::ToolTipRole);
  }
  likelihood_kind_->setCurrentIndex(int(ds::kLikelihoodKinds.index(workspace_->likelihood().kind)));
  lf->addRow(tr("Likelihood"), likelihood_kind_);
  t_max_ = new QSpinBox(like);
  t_max_->setRange(1, 1000);
  t_max_->setValue(20);
  lf->addRow(tr("VLB T_MAX"), t_max_);
  draws_ = new QSpinBox(like);
  draws_->setRange(1, 64);
  draws_->setValue(1);
  lf->addRow(tr("VLB noise draws K"), draws_);
  common_noise_ = new QCheckBox(tr("common noise (smooth map)"), like);
  common_noise_->setChecked(true);
  common_noise_->setToolTip(
      tr("off: fresh noise at every evaluation, as published (a noisy "
         "target)"));
  lf->addRow(common_noise_);
  elbo_steps_ = new QSpinBox(like);
  elbo_steps_->setRange(1, 1000);
  elbo_steps_->setValue(20);
  elbo_steps_->setToolTip(tr("S of the halo model's ELBO (the noise draws K are the box above)"));
  lf->addRow(tr("ELBO steps S"), elbo_steps_);
  vlb_seed_ = new QSpinBox(like);
  vlb_seed_->setRange(0, 1 << 30);
  lf->addRow(tr("Noise seed"), vlb_seed_);
  obs_noise_ = new QComboBox(like);
  for (double s : {0.0, 0.01, 0.02, 0.05})
    obs_noise_->addItem(s == 0 ? tr("none") : QString::number(s), s);
  obs_noise_->setToolTip(
      tr("Gaussian noise added to log10 of the field (the paper's robustness "
         "test), VLB only"));
  lf->addRow(tr("Observation noise σ"), obs_noise_);
  device_ = new QComboBox(like);
  device_->addItem(tr("CPU"), int(ds::Device::Cpu));
  device_->addItem(tr("CUDA"), int(ds::Device::Cuda));
  const bool cuda = ds::library_versions().cuda_available;
  if (!cuda) {
    // Listed but disabled, with the reason: a CPU build of LibTorch, or no GPU.
    auto* model = qobject_cast<QStandardItemModel*>(device_->model());
    if (model) model->item(1)->setEnabled(false);
    device_->setItemData(1,
                         tr("not available: this build's LibTorch has no CUDA or no GPU is "
                            "visible (see README, Building on a GPU node)"),
                         Qt::ToolTipRole);
  }
  {
    QSettings store;
    const int saved = store.value(QStringLiteral("inference/device"), 0).toInt();
    device_->setCurrentIndex(saved == int(ds::Device::Cuda) && cuda ? 1 : 0);
  }
  device_->setToolTip(tr("where the diffusion model's network runs (remembered)"));
  lf->addRow(tr("Device"), device_);
  const auto apply = [this] { workspace_->setLikelihood(likelihoodSettings()); };
  connect(likelihood_kind_, qOverload<int>(&QComboBox::currentIndexChanged), this, apply);
  connect(t_max_, qOverload<int>(&QSpinBox::valueChanged), this, apply);
  connect(draws_, qOverload<int>(&QSpinBox::valueChanged), this, apply);
  connect(elbo_steps_, qOverload<int>(&QSpinBox::valueChanged), this, apply);
  connect(common_noise_, &QCheckBox::toggled, this, apply);
  connect(vlb_seed_, qOverload<int>(&QSpinBox::valueChanged), this, apply);
  connect(obs_noise_, qOverload<int>(&QComboBox::currentIndexChanged), this, apply);
  connect(device_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, apply](int) {
    QSettings().setValue(QStringLiteral("inference/device"), device_->currentData().toInt());
    apply();
  });
  layout->addWidget(like);

  // Map.
  auto* mapbox = new QGroupBox(tr("Likelihood map"), panel);
  auto* mf = new QFormLayout(mapbox);
  grid_n_ = new QSpinBox(mapbox);
  grid_n_->setRange(2, 400);
  grid_n_->setValue(50);
  mf->addRow(tr("Points per axis"), grid_n_);
  full_prior_ = new QCheckBox(tr("whole prior box"), mapbox);
  full_prior_->setChecked(true);
  mf->addRow(full_prior_);
  center_om_ = new QDoubleSpinBox(mapbox);
  center_om_->setRange(0.1, 0.5);
  center_om_->setDecimals(3);
  center_om_->setValue(0.3);
  center_s8_ = new QDoubleSpinBox(mapbox);
  center_s8_->setRange(0.6, 1.0);
  center_s8_->setDecimals(3);
  center_s8_->setValue(0.8);
  auto* c_row = new QHBoxLayout;
  c_row->addWidget(center_om_);
  c_row->addWidget(center_s8_);
  auto* window_at_max = new QPushButton(tr("at maximum"), mapbox);
  window_at_max->setToolTip(
      tr("centre the window on the maximum of the map shown (then Start: "
         "the paper's ±0.06 window around it)"));
  connect(window_at_max, &QPushButton::clicked, this, [this] { centreWindowOnMaximum(); });
  c_row->addWidget(window_at_max);
  mf->addRow(tr("Window centre"), c_row);
  half_width_ = new QDoubleSpinBox(mapbox);
  half_width_->setRange(0.001, 0.2);
  half_width_->setDecimals(3);
  half_width_->setValue(0.06);
  mf->addRow(tr("Half-width"), half_width_);
  adaptive_ = make_map_evaluation_choice(mapbox);
  mf->addRow(tr("Evaluate"), adaptive_);
  colouring_ = new QComboBox(mapbox);
  colouring_->addItems({tr("−2 Δ ln L"), tr("posterior density (normalised)")});
  connect(colouring_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
    map_->setColouring(i == 0 ? LikelihoodMapPlot::Colouring::DeltaChi2
                              : LikelihoodMapPlot::Colouring::Posterior);
  });
  mf->addRow(tr("Colour"), colouring_);
  timestep_ = new QSlider(Qt::Horizontal, mapbox);
  timestep_->setRange(0, 0);
  timestep_label_ = new QLabel(tr("all terms"), mapbox);
  connect(timestep_, &QSlider::valueChanged, this, [this](int v) {
    const int terms = timestep_->maximum();
    map_->setTimestep(v >= terms ? -1 : v);
    timestep_label_->setText(v >= terms ? tr("all terms") : tr("terms t ≤ %1").arg(v));
  });
  mf->addRow(tr("VLB up to t"), timestep_);
  mf->addRow(QString(), timestep_label_);
  map_button_ = new QPushButton(tr("Compute map"), mapbox);
  map_button_->setObjectName(QStringLiteral("mapButton"));
  connect(map_button_, &QPushButton::clicked, this, [this] {
    if (workspace_->isMapRunning())
      workspace_->cancelMap(), refreshMaps();
    else
      startMap();
  });
  mf->addRow(map_button_);
  map_status_ = new QLabel(mapbox);
  map_status_->setObjectName(QStringLiteral("mapStatus"));
  map_status_->setWordWrap(true);
  mf->addRow(map_status_);
  layout->addWidget(mapbox);

  // Chains.
  auto* chainbox = new QGroupBox(tr("Chains"), panel);
  auto* cf = new QFormLayout(chainbox);
  sampler_ = new QComboBox(chainbox);
  for (SamplerChoice s : {SamplerChoice::PublishedHmc, SamplerChoice::AdaptedHmc,
                          SamplerChoice::Nuts, SamplerChoice::SurrogateHmc})
    sampler_->addItem(sampler_label(s), int(s));
  cf->addRow(tr("Sampler"), sampler_);
  warmup_ = new QSpinBox(chainbox);
  warmup_->setRange(0, 100000);
  warmup_->setValue(100);
  chain_draws_ = new QSpinBox(chainbox);
  chain_draws_->setRange(1, 1000000);
  chain_draws_->setValue(200);
  auto* wd = new QHBoxLayout;
  wd->addWidget(warmup_);
  wd->addWidget(chain_draws_);
  cf->addRow(tr("Warm-up, draws"), wd);
  step_size_ = new QDoubleSpinBox(chainbox);
  step_size_->setDecimals(6);
  step_size_->setRange(0, 1);
  step_size_->setSingleStep(1e-4);
  step_size_->setValue(5e-4);
  leapfrog_ = new QSpinBox(chainbox);
  leapfrog_->setRange(1, 1000);
  leapfrog_->setValue(5);
  auto* sl = new QHBoxLayout;
  sl->addWidget(step_size_);
  sl->addWidget(leapfrog_);
  cf->addRow(tr("Step ε, leapfrog L"), sl);
  connect(sampler_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
    const auto s = SamplerChoice(sampler_->itemData(i).toInt());
    leapfrog_->setEnabled(s == SamplerChoice::PublishedHmc || s == SamplerChoice::AdaptedHmc);
    if (s == SamplerChoice::PublishedHmc) step_size_->setValue(5e-4), leapfrog_->setValue(5);
    if (s == SamplerChoice::Nuts) step_size_->setValue(0.0);  // Stan's initial heuristic
    if (s == SamplerChoice::AdaptedHmc) step_size_->setValue(0.01), leapfrog_->setValue(10);
    // In standard deviations of the fitted surrogate; 6-18 steps per trajectory.
    if (s == SamplerChoice::SurrogateHmc) step_size_->setValue(0.2);
  });
  chain_seed_ = new QSpinBox(chainbox);
  chain_seed_->setRange(0, 1 << 30);
  chain_seed_->setValue(1);
  cf->addRow(tr("Seed"), chain_seed_);
  auto* starts_row = new QHBoxLayout;
  auto* at_max = new QPushButton(tr("Start at max"), chainbox);
  connect(at_max, &QPushButton::clicked, workspace_, &InferenceWorkspace::startAtMaximum);
  auto* random = new QPushButton(tr("Random ×4"), chainbox);
  connect(random, &QPushButton::clicked, this,
          [this] { workspace_->randomStarts(4, std::uint64_t(chain_seed_->value())); });
  auto* clear = new QPushButton(tr("Clear"), chainbox);
  connect(clear, &QPushButton::clicked, workspace_, &InferenceWorkspace::clearStarts);
  starts_row->addWidget(at_max);
  starts_row->addWidget(random);
  starts_row->addWidget(clear);
  cf->addRow(tr("Starts"), starts_row);
  speed_ = new QSlider(Qt::Horizontal, chainbox);
  speed_->setRange(0, 500);
  speed_->setValue(0);
  speed_->setToolTip(tr("pause after each transition (ms): slow the chains down for a class"));
  connect(speed_, &QSlider::valueChanged, workspace_, &InferenceWorkspace::setDelay);
  cf->addRow(tr("Slow down"), speed_);
  auto* run_row = new QHBoxLayout;
  start_button_ = new QPushButton(tr("Start"), chainbox);
  start_button_->setObjectName(QStringLiteral("startChainsButton"));
  connect(start_button_, &QPushButton::clicked, this, &InferenceView::startChains);
  pause_button_ = new QPushButton(tr("Pause"), chainbox);
  pause_button_->setCheckable(true);
  connect(pause_button_, &QPushButton::toggled, workspace_, &InferenceWorkspace::setPaused);
  step_button_ = new QPushButton(tr("Step"), chainbox);
  step_button_->setToolTip(tr("one transition of every chain, then pause"));
  connect(step_button_, &QPushButton::clicked, this, [this] {
    if (!workspace_->isChainRunning()) {
      startChains();
      workspace_->step();
    } else {
      workspace_->step();
    }
  });
  auto* reset = new QPushButton(tr("Reset"), chainbox);
  connect(reset, &QPushButton::clicked, workspace_, &InferenceWorkspace::resetChains);
  run_row->addWidget(start_button_);
  run_row->addWidget(pause_button_);
  run_row->addWidget(step_button_);
  run_row->addWidget(reset);
  cf->addRow(run_row);
  ranks_ = new QCheckBox(tr("rank plots instead of traces"), chainbox);
  connect(ranks_, &QCheckBox::toggled, trace_, &TracePlot::setRankView);
  cf->addRow(ranks_);
  layout->addWidget(chainbox);

  // Files.
  auto* files = new QGroupBox(tr("Files"), panel);
  auto* ff = new QVBoxLayout(files);
  auto* export_chains = new QPushButton(tr("Export chains…"), files);
  connect(export_chains, &QPushButton::clicked, this, &InferenceView::exportChainsDialog);
  auto* save_map = new QPushButton(tr("Save map…"), files);
  connect(save_map, &QPushButton::clicked, this, &InferenceView::saveMapDialog);
  auto* export_plots = new QPushButton(tr("Export plots…"), files);
  connect(export_plots, &QPushButton::clicked, this, &InferenceView::exportPlotsDialog);
  ff->addWidget(export_chains);
  ff->addWidget(save_map);
  ff->addWidget(export_plots);
  layout->addWidget(files);
  layout->addStretch(1);
  for (QComboBox* box : panel->findChildren<QComboBox*>()) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(10);
  }
  updateButtons();
  return panel;
}

MockRequest InferenceView::mockRequest() const {
  MockRequest r;
  const int kind = mock_kind_->currentIndex();
  r.halos = kind >= int(ds::kFieldKinds.size());
  if (!r.halos) r.kind = ds::kFieldKinds.entries()[std::size_t(kind)].value;
  r.truth = {truth_om_->value(), truth_s8_->value()};
  r.n = mock_n_->value();
  r.box_size = mock_box_->value();
  r.seed = std::uint64_t(mock_seed_->value());
  return r;
}

LikelihoodSettings InferenceView::likelihoodSettings() const {
  LikelihoodSettings s = workspace_->likelihood();
  s.kind = ds::kLikelihoodKinds.entries()[std::size_t(likelihood_kind_->currentIndex())].value;
  s.t_max = t_max_->value();
  s.draws = draws_->value();
  s.common_noise = common_noise_->isChecked();
  s.seed = std::uint64_t(vlb_seed_->value());
  s.noise_sigma = obs_noise_->currentData().toDouble();
  s.device = ds::Device(device_->currentData().toInt());
  s.elbo_steps = elbo_steps_->value();
  return s;
}

ds::GridScanSettings InferenceView::mapSettings() const {
  ds::GridScanSettings s;
  s.n = grid_n_->value();
  s.full_prior = full_prior_->isChecked();
  s.center_omega_m = center_om_->value();
  s.center_sigma_8 = center_s8_->value();
  s.half_width = half_width_->value();
  apply_map_evaluation(*adaptive_, s);
  return s;
}

ChainSettings InferenceView::chainSettings() const {
  ChainSettings c;
  c.sampler = SamplerChoice(sampler_->currentData().toInt());
  c.warmup = std::size_t(warmup_->value());
  c.draws = std::size_t(chain_draws_->value());
  c.step_size = step_size_->value();
  c.leapfrog_steps = leapfrog_->value();
  c.seed = std::uint64_t(chain_seed_->value());
  c.delay_ms = speed_->value();
  // The published preset's metric; the adaptive samplers start from unit and adapt it.
  if (c.sampler != SamplerChoice::PublishedHmc) c.inverse_mass.clear();
  return c;
}

void InferenceView::setMapGrid(int n, bool full_prior, bool adaptive,
                               ds::GridScanSettings::RefineTarget target, bool tolerance) {
  grid_n_->setValue(n);
  full_prior_->setChecked(full_prior);
  select_map_evaluation(*adaptive_, adaptive, target, tolerance);
}

bool InferenceView::centreWindowOnMaximum() {
  const auto map = workspace_->currentMap();
  if (!map || std::none_of(map->scan.log_like.begin(), map->scan.log_like.end(),
                           [](double v) { return std::isfinite(v); }))
    return false;
  full_prior_->setChecked(false);
  center_om_->setValue(map->scan.maximum.omega_m);
  center_s8_->setValue(map->scan.maximum.sigma_8);
  return true;
}

void InferenceView::setMapWindow(double omega_m, double sigma_8, double half_width) {
  full_prior_->setChecked(false);
  center_om_->setValue(omega_m);
  center_s8_->setValue(sigma_8);
  half_width_->setValue(half_width);
}

void InferenceView::setSampler(SamplerChoice s, std::size_t warmup, std::size_t draws) {
  sampler_->setCurrentIndex(sampler_->findData(int(s)));
  warmup_->setValue(int(warmup));
  chain_draws_->setValue(int(draws));
}

void InferenceView::showLikelihoodSettings() {
  const LikelihoodSettings& s = workspace_->likelihood();
  // Programmatic: the controls follow without sending the settings back.
  const QSignalBlocker b1(likelihood_kind_), b2(t_max_), b3(draws_), b4(common_noise_),
      b5(vlb_seed_), b6(elbo_steps_), b7(obs_noise_);
  likelihood_kind_->setCurrentIndex(int(ds::kLikelihoodKinds.index(s.kind)));
  t_max_->setValue(s.t_max);
  draws_->setValue(s.draws);
  common_noise_->setChecked(s.common_noise);
  vlb_seed_->setValue(int(s.seed));
  elbo_steps_->setValue(s.elbo_steps);
  const int noise = obs_noise_->findData(s.noise_sigma);
  if (noise >= 0) obs_noise_->setCurrentIndex(noise);
}

void InferenceView::setLikelihoodKind(ds::LikelihoodKind kind) {
  likelihood_kind_->setCurrentIndex(int(ds::kLikelihoodKinds.index(kind)));
}

void InferenceView::drawMock() {
  workspace_->drawMock(mockRequest());
}
void InferenceView::startMap() {
  workspace_->setLikelihood(likelihoodSettings());
  workspace_->startMap(mapSettings());
  updateButtons();
}
void InferenceView::startChains() {
  workspace_->setLikelihood(likelihoodSettings());
  pause_button_->setChecked(false);
  workspace_->startChains(chainSettings());
  updateButtons();
}

void InferenceView::refreshObservation() {
  const auto o = workspace_->observation();
  if (!o) {
    thumbnail_->clear();
    updateButtons();
    return;
  }
  thumbnail_->setPixmap(QPixmap::fromImage(field_thumbnail(*o->image)));
  spectrum_->setSpectra(o->spectrum, ds::PowerSpectrum(), QString(), QString(),
                        tr("observed P(k)"));
  QString text = o->origin;
  if (o->isCloud())
    text += tr("\n%1 halos x %2 features, %3 Mpc/h box (thumbnail: counts projected along z)")
                .arg(o->n_points)
                .arg(o->features)
                .arg(o->cloud_box);
  else
    text += tr("\n%1x%1 pixels, %2 Mpc/h").arg(o->field.n).arg(o->field.box_size);
  if (o->truth)
    text += tr("\ntruth Ωm = %1, σ8 = %2")
                .arg((*o->truth)[0], 0, 'f', 3)
                .arg((*o->truth)[1], 0, 'f', 3);
  spectrum_->setVisible(!o->isCloud());
  neighbours_->setVisible(o->isCloud());
  {
    QCustomPlot* plot = neighbours_;
    plot->clearGraphs();
    for (std::size_t k = 0; k < o->knn_cdfs.size(); ++k) {
      const QVector<double> r(o->knn_radii.begin(), o->knn_radii.end());
      QCPGraph* measured = plot->addGraph();
      measured->setPen(QPen(chain_colour(k), 1.6));
      measured->setName(tr("k = %1").arg(k == 2 ? 4 : int(k) + 1));
      measured->setData(r, QVector<double>(o->knn_cdfs[k].begin(), o->knn_cdfs[k].end()));
      QCPGraph* poisson = plot->addGraph();
      poisson->setPen(QPen(chain_colour(k), 1.0, Qt::DotLine));
      poisson->removeFromLegend();
      poisson->setData(r, QVector<double>(o->knn_poisson[k].begin(), o->knn_poisson[k].end()));
    }
    if (!o->knn_radii.empty()) plot->xAxis->setRange(0, o->knn_radii.back());
    plot->yAxis->setRange(0, 1);
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
  if (!o->spectrum.k.empty())
    text += tr("\nP(k) at k = %1 h/Mpc: %2 (Mpc/h)²")
                .arg(o->spectrum.k.front(), 0, 'f', 2)
                .arg(o->spectrum.pk.front(), 0, 'g', 3);
  observation_label_->setText(text);
  thumbnail_->setToolTip(text);
  map_->setTruth(o->truth);
  trace_->setTruth(o->truth);
  corner_->setTruth(o->truth);
  updateButtons();
}

void InferenceView::refreshMaps() {
  std::vector<std::shared_ptr<const MapLayer>> layers;
  for (const auto& [kind, layer] : workspace_->maps()) layers.push_back(layer);
  const auto current = workspace_->currentMap();
  map_->setMaps(current, layers);
  corner_->setMaps(layers);
  if (current) {
    const int terms = int(current->scan.terms_per_point);
    if (timestep_->maximum() != terms) {
      timestep_->setRange(0, terms);
      timestep_->setValue(terms);
    }
    timestep_->setEnabled(terms > 0);
    const std::size_t total = current->scan.log_like.size();
    if (!current->complete)
      map_status_->setText(tr("%1: %2 / %3 points, %4 s")
                               .arg(current->label)
                               .arg(current->known)
                               .arg(total)
                               .arg(current->seconds, 0, 'f', 1));
    else if (current->from_file)
      map_status_->setText(tr("%1 (opened)").arg(current->label));
    else
      map_status_->setText(tr("%1: %2 x %2 complete in %3 s%4")
                               .arg(current->label)
                               .arg(current->scan.n())
                               .arg(current->seconds, 0, 'f', 2)
                               .arg(current->scan.evaluated.empty()
                                        ? QString()
                                        : tr(" (%1 points evaluated, %2 exact, the rest "
                                             "interpolated: faint)")
                                              .arg(current->scan.exact_points())
                                              .arg(map_exactness(current->scan.settings))));
  }
  updateButtons();
}

namespace {
constexpr qint64 kFrameMs = 80;
}

void InferenceView::scheduleFrame(bool maps, bool chains, bool now) {
  maps_dirty_ = maps_dirty_ || maps;
  chains_dirty_ = chains_dirty_ || chains;
  const qint64 since = last_frame_.isValid() ? last_frame_.elapsed() : kFrameMs;
  if (now || since >= kFrameMs) {
    drawFrame();
  } else if (!frame_.isActive()) {
    frame_.start(int(kFrameMs - since));
  }
}

void InferenceView::drawFrame() {
  frame_.stop();
  last_frame_.start();
  const bool maps = std::exchange(maps_dirty_, false);
  const bool chains = std::exchange(chains_dirty_, false);
  if (maps) refreshMaps();
  if (chains) refreshChains();
}

void InferenceView::refreshChains() {
  const auto c = workspace_->chains();
  map_->setChains(c);
  trace_->setChains(c);
  corner_->setChains(c);
  if (c) {
    QString state = c->finished ? tr("finished") : c->paused ? tr("paused") : tr("running");
    if (c->from_file) state = tr("opened");
    chain_status_->setText(tr("%1 — %2: %3 chains, iteration %4 / %5 (warm-up %6), %7 kept "
                              "draws each, %8 s")
                               .arg(c->source, state)
                               .arg(c->chains.size())
                               .arg(c->iterations)
                               .arg(c->total)
                               .arg(c->warmup)
                               .arg(c->kept.draws)
                               .arg(c->seconds, 0, 'f', 1));
  } else {
    chain_status_->setText(tr("No chains: click on the map to drop start points, then Start"));
  }
  refreshTable();
  updateButtons();
}

void InferenceView::refreshTable() {
  const auto c = workspace_->chains();
  const std::size_t draws = c && c->summary ? c->kept.draws : 0;
  const bool final = !c || c->finished || c->paused || c->from_file;
  // While chains run, the diagnostics change only when kept draws arrive (none in warm-up).
  if (!final && draws == table_draws_) return;
  table_draws_ = draws;
  table_->setRowCount(0);
  if (!c || !c->summary) return;
  const ds::ChainsSummary& s = *c->summary;
  const ds::Chains& k = c->kept;
  const auto truth = workspace_->observation() ? workspace_->observation()->truth : std::nullopt;
  const double ess_threshold = 100.0 * double(s.chains);
  for (std::size_t p = 0; p < s.parameters.size() && p < 2; ++p) {
    const ds::ParameterSummary& ps = s.parameters[p];
    std::vector<double> draws;
    for (std::size_t ch = 0; ch < k.chains; ++ch)
      for (std::size_t d = 0; d < k.draws; ++d) draws.push_back(k.value(ch, d, p));
    std::sort(draws.begin(), draws.end());
    const auto quantile = [&](double q) {
      const double pos = q * double(draws.size() - 1);
      const std::size_t i = std::size_t(pos);
      const double f = pos - double(i);
      return i + 1 < draws.size() ? draws[i] * (1 - f) + draws[i + 1] * f : draws[i];
    };
    const int row = table_->rowCount();
    table_->insertRow(row);
    table_->setItem(row, 0, read_only_cell(QString::fromStdString(ps.name)));
    table_->setItem(row, 1, read_only_cell(number(ps.mean)));
    table_->setItem(row, 2, read_only_cell(number(ps.sd)));
    table_->setItem(row, 3, read_only_cell(number(quantile(0.16))));
    table_->setItem(row, 4, read_only_cell(number(quantile(0.84))));
    auto* rhat = read_only_cell(number(ps.r_hat));
    if (!(ps.r_hat <= 1.01)) {
      rhat->setBackground(QColor(255, 200, 200));
      rhat->setToolTip(
          tr("R-hat above 1.01: the chains disagree (not yet mixed or not "
             "converged); do not trust the mean or the intervals"));
    }
    table_->setItem(row, 5, rhat);
    for (int col : {6, 7}) {
      const double ess = col == 6 ? ps.ess_bulk : ps.ess_tail;
      auto* item = read_only_cell(number(ess, 5));
      if (!(ess >= ess_threshold)) {
        item->setBackground(QColor(255, 230, 180));
        item->setToolTip(
            tr("fewer than 100 effective draws per chain: R-hat and the interval "
               "ends are unreliable; run longer"));
      }
      table_->setItem(row, col, item);
    }
    table_->setItem(row, 8, read_only_cell(number(ps.mcse_mean, 3)));
    QString z = QStringLiteral("–");
    if (truth && ps.sd > 0) z = number(((ps.mean - (*truth)[p]) / ps.sd), 3);
    table_->setItem(row, 9, read_only_cell(z));
    table_->setItem(
        row, 10,
        read_only_cell(
            QStringLiteral("[%1, %2]").arg(number(ps.hdi_low)).arg(number(ps.hdi_high))));
  }
  // Per chain: acceptance, divergences, step size.
  for (std::size_t ch = 0; ch < k.chains; ++ch) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    auto* name = read_only_cell(tr("chain %1").arg(ch + 1));
    name->setForeground(chain_colour(ch));
    table_->setItem(row, 0, name);
    double acc = 0, step = 0;
    std::size_t div = 0, n = 0;
    for (std::size_t d = 0; d < k.draws; ++d) {
      const std::size_t i = ch * k.draws + d;
      if (!k.acceptance_rate.empty()) acc += k.acceptance_rate[i];
      if (!k.step_size.empty()) step = k.step_size[i];
      if (!k.diverging.empty()) div += k.diverging[i];
      ++n;
    }
    table_->setItem(row, 1,
                    read_only_cell(tr("acceptance %1").arg(number(n ? acc / double(n) : NAN, 3))));
    auto* d = read_only_cell(tr("%1 divergences").arg(div));
    if (div > 0) {
      d->setBackground(QColor(255, 200, 200));
      d->setToolTip(
          tr("divergent transitions: the sampler could not follow the posterior's "
             "geometry there; the draws may be biased"));
    }
    table_->setItem(row, 2, d);
    table_->setItem(row, 3, read_only_cell(tr("step %1").arg(number(step, 3))));
  }
}

void InferenceView::updateButtons() {
  map_button_->setText(workspace_->isMapRunning() ? tr("Cancel map") : tr("Compute map"));
  start_button_->setEnabled(workspace_->observation() != nullptr && !workspace_->starts().empty());
  start_button_->setText(workspace_->isChainRunning() ? tr("Restart") : tr("Start"));
  pause_button_->setEnabled(workspace_->isChainRunning());
}

QStringList InferenceView::exportPlots(const QString& folder) {
  QDir().mkpath(folder);
  QStringList written;
  const std::pair<QCustomPlot*, QString> plots[] = {
      {map_->plot(), QStringLiteral("likelihood_map")},
      {trace_->plot(), QStringLiteral("trace")},
      {corner_->plot(), QStringLiteral("corner")}};
  for (const auto& [plot, name] : plots)
    written << export_plot_all(plot, folder + QLatin1Char('/') + name, name);
  if (written.size() != 9)
    Q_EMIT workspace_->errorOccurred(tr("Export plots"),
                                     tr("Could not write every plot into %1 (wrote %2 of 9 files)")
                                         .arg(folder)
                                         .arg(written.size()));
  return written;
}

QStringList InferenceView::recentFiles() const {
  return QSettings().value(QStringLiteral("inference/recent")).toStringList();
}

QMenu* InferenceView::recentMenu() {
  if (!recent_menu_) {
    recent_menu_ = new QMenu(tr("Recent files"), this);
    connect(recent_menu_, &QMenu::aboutToShow, this, [this] {
      recent_menu_->clear();
      const QStringList files = recentFiles();
      if (files.isEmpty()) recent_menu_->addAction(tr("(none yet)"))->setEnabled(false);
      for (const QString& f : files) recent_menu_->addAction(f, this, [this, f] { openPath(f); });
    });
  }
  return recent_menu_;
}

void InferenceView::openPath(const QString& path) {
  {
    QSettings store;
    QStringList files = store.value(QStringLiteral("inference/recent")).toStringList();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > 10) files.removeLast();
    store.setValue(QStringLiteral("inference/recent"), files);
  }
  const QString lower = path.toLower();
  if (lower.endsWith(QLatin1String(".nc")) || lower.endsWith(QLatin1String(".csv")) ||
      lower.endsWith(QLatin1String(".txt")) || lower.endsWith(QLatin1String(".paramnames")) ||
      QFileInfo::exists(path + QStringLiteral("_1.txt")) ||
      QFileInfo::exists(path + QStringLiteral(".txt"))) {
    QString root = path;
    if (lower.endsWith(QLatin1String(".paramnames"))) root.chop(11);
    workspace_->openChainFile(root);
    return;
  }
  if (lower.endsWith(QLatin1String(".h5")) || lower.endsWith(QLatin1String(".hdf5"))) {
    // A merged batch run (`batch merge`) opens in a window of its own.
    if (ds::is_batch_merge_file(path.toStdString())) {
      openBatchResults(path);
      return;
    }
    // A grid map says so in its format attribute; anything else is read as a dataset.
    try {
      (void)ds::read_grid_scan(path.toStdString());
      workspace_->openGridFile(path);
      return;
    } catch (const std::exception&) {
    }
  }
  workspace_->openObservationFile(path, file_index_->value());
}

BatchResultsView* InferenceView::openBatchResults(const QString& path) {
  try {
    auto results =
        std::make_shared<const ds::BatchMergeFile>(ds::read_batch_merge(path.toStdString()));
    auto* window = new BatchResultsView(std::move(results), this);
    window->setWindowFlag(Qt::Window);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->show();
    batch_windows_.append(window);
    return window;
  } catch (const std::exception& e) {
    Q_EMIT workspace_->errorOccurred(tr("Open batch results"), QString::fromStdString(e.what()));
    return nullptr;
  }
}

QList<BatchResultsView*> InferenceView::batchWindows() const {
  QList<BatchResultsView*> out;
  for (const auto& w : batch_windows_)
    if (w) out.append(w);
  return out;
}

void InferenceView::openFileDialog() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open observation, map or chains"), QString(),
      tr("All supported (*.npy *.h5 *.hdf5 *.nc *.csv *.txt *.paramnames);;All files (*)"));
  if (!path.isEmpty()) openPath(path);
}

void InferenceView::exportChainsDialog() {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export chains"), QString(),
      tr("GetDist root (*);;ArviZ netCDF (*.nc);;CSV (*.csv)"), &filter);
  if (path.isEmpty()) return;
  const QString format = filter.startsWith(QLatin1String("ArviZ")) ? QStringLiteral("netcdf")
                         : filter.startsWith(QLatin1String("CSV")) ? QStringLiteral("csv")
                                                                   : QStringLiteral("getdist");
  workspace_->exportChains(path, format);
}

void InferenceView::saveMapDialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save likelihood map"), QString(),
                                                    tr("Diffuscope grid (*.h5)"));
  if (!path.isEmpty()) workspace_->saveGridFile(path, workspace_->likelihood().kind);
}

void InferenceView::exportPlotsDialog() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Export plots to folder"));
  if (!folder.isEmpty()) exportPlots(folder);
}

void InferenceView::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void InferenceView::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) openPath(url.toLocalFile());
}

}  // namespace dsui
