// The Inference workspace as the user sees it: controls on the left (observation, likelihood,
// map, chains, files), the likelihood map in the centre, trace and corner plots on the right,
// diagnostics below the map. Binds widgets to InferenceWorkspace; draws its snapshots.
#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include "ui/inference/inference_workspace.h"
#include "ui/inference/map_evaluation.h"

class QCheckBox;
class QCustomPlot;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QPushButton;
class QSlider;
class QSpinBox;
class QTableWidget;

namespace dsui {

class BatchResultsView;
class LikelihoodMapPlot;
class TracePlot;
class CornerPlot;
class JobRunner;
class PowerSpectrumPlot;

class InferenceView : public QWidget {
  Q_OBJECT
 public:
  InferenceView(InferenceWorkspace* workspace, QWidget* parent = nullptr);

  InferenceWorkspace* workspace() const { return workspace_; }
  LikelihoodMapPlot* mapPlot() const { return map_; }
  TracePlot* tracePlot() const { return trace_; }
  CornerPlot* cornerPlot() const { return corner_; }
  QTableWidget* diagnosticsTable() const { return table_; }

  // The controls' current settings, as Start uses them (tests set them through the widgets).
  MockRequest mockRequest() const;
  LikelihoodSettings likelihoodSettings() const;
  ds::GridScanSettings mapSettings() const;
  ChainSettings chainSettings() const;
  // tolerance: with Contours, the contours to +-kContourTolerance instead of exact.
  void setMapGrid(
      int n, bool full_prior, bool adaptive = false,
      ds::GridScanSettings::RefineTarget target = ds::GridScanSettings::RefineTarget::Region,
      bool tolerance = false);
  // A window centre +- half_width (what dragging a window on the map sets).
  void setMapWindow(double omega_m, double sigma_8, double half_width);
  // Centres the window on the shown map's maximum (the "at maximum" button); false without one.
  bool centreWindowOnMaximum();
  void setSampler(SamplerChoice s, std::size_t warmup, std::size_t draws);
  void setLikelihoodKind(ds::LikelihoodKind kind);

  // Actions, as the buttons do them.
  void drawMock();
  void startMap();
  void startChains();
  // Saves every plot (map, trace, corner) as PNG, PDF and SVG into folder, each file written
  // atomically; returns the files written (an error dialog when one could not be).
  QStringList exportPlots(const QString& folder);
  // Asks for a file and saves / opens (menus).
  void openFileDialog();
  void exportChainsDialog();
  void saveMapDialog();
  void exportPlotsDialog();
  // Opens a file by its kind: chains (GetDist root/.txt, .nc, .csv), a merged batch run (a
  // window of its own, BatchResultsView), a grid map (.h5 with a diffuscope-likelihood-grid),
  // else an observation (.npy, HDF5 dataset, CAMELS stack).
  void openPath(const QString& path);
  // A merged batch file in a window of its own; nullptr (and an error dialog) when unreadable.
  BatchResultsView* openBatchResults(const QString& path);
  QList<BatchResultsView*> batchWindows() const;  // the open ones
  // Files opened here, newest first (remembered between sessions), and a menu of them.
  QStringList recentFiles() const;
  QMenu* recentMenu();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QWidget* buildControls();
  void refreshObservation();
  void showLikelihoodSettings();
  void refreshMaps();
  void refreshChains();
  void refreshTable();
  // Chains and maps stream in at up to 20 snapshots a second and every repaint of the window
  // composes all of it (with OpenGL views in the window); the view draws them in frames, at
  // most one every kFrameMs, applying whatever changed since the last. Final states (finished,
  // paused, complete, opened) are drawn at once.
  void scheduleFrame(bool maps, bool chains, bool now);
  void drawFrame();
  void updateButtons();

  InferenceWorkspace* workspace_;
  LikelihoodMapPlot* map_;
  TracePlot* trace_;
  CornerPlot* corner_;
  QTableWidget* table_;
  QLabel* observation_label_;
  QLabel* thumbnail_;
  PowerSpectrumPlot* spectrum_;
  QCustomPlot* neighbours_;
  QSpinBox* file_index_;
  QLabel* map_status_;
  QLabel* chain_status_;
  // observation
  QComboBox* mock_kind_;
  QDoubleSpinBox* truth_om_;
  QDoubleSpinBox* truth_s8_;
  QSpinBox* mock_n_;
  QDoubleSpinBox* mock_box_;
  QSpinBox* mock_seed_;
  QCheckBox* click_sets_truth_;
  // likelihood
  QComboBox* likelihood_kind_;
  QSpinBox* t_max_;
  QSpinBox* draws_;
  QSpinBox* elbo_steps_;
  QCheckBox* common_noise_;
  QSpinBox* vlb_seed_;
  QComboBox* obs_noise_;
  QComboBox* device_;
  QMenu* recent_menu_ = nullptr;
  // map
  QSpinBox* grid_n_;
  QCheckBox* full_prior_;
  QComboBox* adaptive_;  // every point / adaptive region / adaptive contours
  QDoubleSpinBox* center_om_;
  QDoubleSpinBox* center_s8_;
  QDoubleSpinBox* half_width_;
  QComboBox* colouring_;
  QSlider* timestep_;
  QLabel* timestep_label_;
  QPushButton* map_button_;
  // chains
  QComboBox* sampler_;
  QSpinBox* warmup_;
  QSpinBox* chain_draws_;
  QDoubleSpinBox* step_size_;
  QSpinBox* leapfrog_;
  QSpinBox* chain_seed_;
  QSlider* speed_;
  QPushButton* start_button_;
  QPushButton* pause_button_;
  QPushButton* step_button_;
  QCheckBox* ranks_;

  QList<QPointer<BatchResultsView>> batch_windows_;
  QTimer frame_;
  QElapsedTimer last_frame_;
  bool maps_dirty_ = false, chains_dirty_ = false;
  std::size_t table_draws_ = 0;  // kept draws per chain the diagnostics table shows
};

}  // namespace dsui
