// The main window: the field viewport in the centre, the power spectrum and the 3D view in docks,
// job progress in the status bar. Wiring only; the work happens in the workspace's jobs.
#pragma once

#include <QFont>
#include <QMainWindow>
#include <QPointer>
#include <functional>
#include <memory>

#include "ui/settings.h"

class QAction;
class QComboBox;
class QMenu;
class QDockWidget;
class QMessageBox;
class QTabWidget;

namespace dsui {

class DenoisingPanel;
class EnsemblePanel;
class GuidePanel;
class OneP;
class OnePPanel;
class HaloStatistics;
class HaloStatsPanel;
class ComparePanel;
class FieldEnsemble;
class FieldViewport;
class FieldWorkspace;
class HaloWorkspace;
class InferenceView;
class InferenceWorkspace;
class ModelManager;
struct EmulatorModel;
class JobRunner;
class JobStatusWidget;
class PointCloudView;
class PointCloudPanel;
class PowerSpectrumPlot;
struct FieldSnapshot;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  FieldViewport* fieldViewport() const { return viewport_; }
  FieldWorkspace* fieldWorkspace() const { return workspace_; }
  HaloWorkspace* haloWorkspace() const { return halos_; }
  PowerSpectrumPlot* powerSpectrumPlot() const { return spectrum_plot_; }
  PointCloudView* pointCloudView() const { return cloud_view_; }
  PointCloudPanel* pointCloudPanel() const { return cloud_panel_; }
  JobRunner* jobRunner() const { return runner_; }
  InferenceWorkspace* inferenceWorkspace() const { return inference_; }
  InferenceView* inferenceView() const { return inference_view_; }
  FieldEnsemble* fieldEnsemble() const { return ensemble_; }
  EnsemblePanel* ensemblePanel() const { return ensemble_panel_; }
  DenoisingPanel* denoisingPanel() const { return denoising_panel_; }
  OneP* oneP() const { return one_p_; }
  OnePPanel* onePPanel() const { return one_p_panel_; }
  GuidePanel* guidePanel() const { return guide_panel_; }
  ModelManager* modelManager() const { return models_; }  // View > Models...
  // Teaching mode (View menu, remembered): larger text in widgets and the Cosmology panel, a
  // reduced control deck, the Guide panel with explanations on hover and the guided tour.
  void setTeachingMode(bool on);
  bool teachingMode() const { return settings_.teaching; }
  HaloStatistics* haloStatistics() const { return halo_stats_; }
  HaloStatsPanel* haloStatsPanel() const { return halo_stats_panel_; }
  // Compare mode (View > Pin for comparison): the field on screen and the halo statistics shown
  // are pinned; the Compare dock shows the pinned field next to the live one with their P(k)
  // ratio, and the P(k) plot and halo statistics draw the pinned curves dashed until unpinned.
  void pinForComparison();
  void unpin();
  bool isPinned() const;
  ComparePanel* comparePanel() const { return compare_panel_; }
  PointCloudView* pinnedCloudView() const { return pinned_cloud_view_; }  // the pinned catalogue
  // The workspaces are tabs: Fields (the field view with its docks) and Inference.
  void showFields();
  void showInference();
  bool inferenceShown() const;
  // Hands the field on screen (with its truth when it was generated at known parameters) to the
  // Inference workspace and shows it.
  void inferShownField();
  // The same for the halo catalogue in the 3D view (scored by the halo model's ELBO).
  void inferShownCloud();
  const AppSettings& settings() const { return settings_; }

  // Programmatic control, as the sliders do it (tests, scripting).
  void setFieldParameters(const FieldParameters& parameters);
  void setFieldKind(ds::MockFieldKind kind);
  // The diffusion model as the field source: the loaded one, else the embedded default.
  void useEmulator();
  // Loads a model file (.h5, .pt, TorchScript) and makes it the source; errors go to a dialog and
  // the previous source stays.
  void openModelFile(const QString& path);
  void openFieldFile(const QString& path);
  // Any supported file, in the workspace it belongs to: a 2D model (Diffuscope .h5, Diffusion-HMC
  // .pt, TorchScript) becomes the field emulator, a point-cloud model the halo emulator, a .npy
  // field is shown in Fields; chains, likelihood maps, datasets, CAMELS stacks and Quijote
  // folders open in Inference. The command line and drag-and-drop onto the window use it.
  void openFile(const QString& path);
  // Writes what Fields & Halos shows into `folder`: field.png (the viewport), field.npy and
  // field.h5 (values as shown, with the cosmology when known), power_spectrum.{png,pdf,svg,csv},
  // and when a halo catalogue is shown cloud.png, catalogue.npy [N, F], catalogue.h5 and
  // catalogue.vtp (VTK PolyData). Returns the files written; what could not be written is
  // reported in the error dialog.
  QStringList exportViews(const QString& folder);
  // The diffuscope-cli command that draws the emulated field (or halo catalogue) on screen again;
  // empty when the field is not emulated. Edit > Copy puts it on the clipboard.
  QString fieldCliCommand() const;
  QString cloudCliCommand() const;
  // The 3D view: halo catalogues drawn by a point-cloud model at the slider cosmology (the
  // embedded default, or a model file opened here); a Thomas process when no model loads.
  void openHaloModelFile(const QString& path);
  void newPointSet();
  QString lastErrorMessage() const { return last_error_; }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildToolBar();
  void syncSourceBox();  // the toolbar's source combo and resolution box follow the workspace
  void showSnapshot(const std::shared_ptr<const FieldSnapshot>& snapshot);
  // A dock on the right, tabbed with tab_of (when given) behind the Ensemble dock.
  QDockWidget* addEmulatorDock(QWidget* panel, const QString& title, const QString& object_name,
                               QDockWidget* tab_of);
  void buildEnsembleDock();
  void buildHaloStatsDock();
  void buildCompareDock();
  void buildGuide();
  // Asks for a folder and calls `write` with it; reports the count of files written.
  void exportIntoFolder(const QString& title,
                        const std::function<QStringList(const QString&)>& write);
  void showError(const QString& title, const QString& message);
  void showAbout();
  void saveSettings();

  AppSettings settings_;
  JobRunner* runner_;
  FieldWorkspace* workspace_;
  HaloWorkspace* halos_;
  FieldViewport* viewport_;
  PowerSpectrumPlot* spectrum_plot_;
  PointCloudView* cloud_view_;
  PointCloudPanel* cloud_panel_ = nullptr;
  FieldEnsemble* ensemble_ = nullptr;
  EnsemblePanel* ensemble_panel_ = nullptr;
  QDockWidget* ensemble_dock_ = nullptr;
  DenoisingPanel* denoising_panel_ = nullptr;
  OneP* one_p_ = nullptr;
  OnePPanel* one_p_panel_ = nullptr;
  GuidePanel* guide_panel_ = nullptr;
  QDockWidget* guide_dock_ = nullptr;
  QAction* teaching_action_ = nullptr;
  QMenu* edit_menu_ = nullptr;
  QList<QAction*> expert_toolbar_actions_;  // hidden in teaching mode
  QFont base_font_;
  HaloStatistics* halo_stats_ = nullptr;
  HaloStatsPanel* halo_stats_panel_ = nullptr;
  ComparePanel* compare_panel_ = nullptr;
  PointCloudView* pinned_cloud_view_ = nullptr;
  QDockWidget* pinned_cloud_dock_ = nullptr;
  QDockWidget* compare_dock_ = nullptr;
  QAction* unpin_action_ = nullptr;
  QDockWidget* cloud_dock_ = nullptr;
  JobStatusWidget* job_status_;
  QComboBox* resolution_box_ = nullptr;
  QComboBox* kind_box_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  InferenceWorkspace* inference_ = nullptr;
  InferenceView* inference_view_ = nullptr;
  ModelManager* models_ = nullptr;
  QList<QDockWidget*> hidden_docks_;  // field docks hidden while Inference is shown
  QPointer<QMessageBox> error_box_;
  QString last_error_;
  std::uint64_t point_seed_ = 1;
};

}  // namespace dsui
