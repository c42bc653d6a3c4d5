// The plots of the Inference workspace (QCustomPlot): the likelihood map with contours and
// chains, the live trace plot and the corner plot. Each draws immutable snapshots of
// InferenceWorkspace and never calls into core work beyond cheap smoothing of what it shows.
#pragma once

#include <QColor>
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "ui/inference/inference_workspace.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPAxisRect;
class QLabel;

namespace dsui {

// One colour per chain, the same on the map, the trace and the legend.
QColor chain_colour(std::size_t chain);
// One colour per likelihood layer (contours on the map and the corner plot).
QColor layer_colour(ds::LikelihoodKind kind);

class LikelihoodMapPlot : public QWidget {
  Q_OBJECT
 public:
  enum class Colouring { DeltaChi2, Posterior };
  explicit LikelihoodMapPlot(QWidget* parent = nullptr);

  // current: the heatmap; every layer (current included) gets its 1/2-sigma contours.
  void setMaps(std::shared_ptr<const MapLayer> current,
               std::vector<std::shared_ptr<const MapLayer>> layers);
  void setChains(std::shared_ptr<const ChainsSnapshot> chains);
  void setStarts(const std::vector<Theta>& starts);
  void setTruth(std::optional<Theta> truth);
  void setColouring(Colouring c);
  // Per-timestep view of a VLB map: the sum of the terms up to t (-1: all, the total).
  void setTimestep(int t);
  int timestep() const { return timestep_; }

  QCustomPlot* plot() const { return plot_; }
  // What the plot shows, for tests: contour polylines drawn for the heatmap's layer.
  int contourLineCount() const { return contour_lines_; }
  std::optional<Theta> maximumShown() const { return maximum_; }
  QString hoverText() const;
  // The data coordinates of a widget pixel of the plot.
  Theta toData(const QPointF& pixel) const;
  QPointF toPixel(const Theta& t) const;

 Q_SIGNALS:
  void clicked(dsui::Theta theta);                      // left click: a chain start
  void windowSelected(dsui::Theta lo, dsui::Theta hi);  // shift + drag: a map window

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void redraw();
  QCustomPlot* plot_;
  QCPColorMap* heat_ = nullptr;
  QCPColorScale* scale_ = nullptr;
  QLabel* hover_;
  std::shared_ptr<const MapLayer> current_;
  std::vector<std::shared_ptr<const MapLayer>> layers_;
  std::shared_ptr<const ChainsSnapshot> chains_;
  std::vector<Theta> starts_;
  std::optional<Theta> truth_, maximum_;
  Colouring colouring_ = Colouring::DeltaChi2;
  int timestep_ = -1;
  int contour_lines_ = 0;
  std::optional<QPointF> drag_from_;
  // Chain snapshots arrive every ~50 ms: at most one redraw per kChainFrameMs while they run.
  QElapsedTimer last_chain_redraw_;
  QTimer deferred_;
};

class TracePlot : public QWidget {
  Q_OBJECT
 public:
  explicit TracePlot(QWidget* parent = nullptr);
  void setChains(std::shared_ptr<const ChainsSnapshot> chains);
  void setRankView(bool ranks);
  void setTruth(std::optional<Theta> truth);
  QCustomPlot* plot() const { return plot_; }
  std::size_t pointsShown() const { return points_; }  // draws plotted, all rows and chains

 private:
  void redraw();
  QCustomPlot* plot_;
  std::shared_ptr<const ChainsSnapshot> chains_;
  std::optional<Theta> truth_;
  bool ranks_ = false;
  int layout_ranks_ = -1;  // the view the axis rects were built for (-1: none yet)
  std::size_t points_ = 0;
};

class CornerPlot : public QWidget {
  Q_OBJECT
 public:
  explicit CornerPlot(QWidget* parent = nullptr);
  void setChains(std::shared_ptr<const ChainsSnapshot> chains);
  void setMaps(std::vector<std::shared_ptr<const MapLayer>> layers);  // grid posteriors overlaid
  void setTruth(std::optional<Theta> truth);
  QCustomPlot* plot() const { return plot_; }
  std::size_t drawsShown() const { return draws_; }
  int overlayCount() const { return overlays_; }
  // True while the smoothing of the latest chains is still being computed off the UI thread.
  bool smoothing() const { return in_flight_ || smoothed_for_ != chains_.get(); }

  // What the chains contribute: the draws' extent, their smoothed 2D density with its 68% / 95%
  // levels and contour lines, and the two 1D marginals. Computed on a worker thread.
  struct ChainDensity;

 private:
  void redraw();
  void smoothLatest();
  QCustomPlot* plot_;
  std::shared_ptr<const ChainsSnapshot> chains_;
  std::vector<std::shared_ptr<const MapLayer>> layers_;
  std::optional<Theta> truth_;
  std::size_t draws_ = 0;
  int overlays_ = 0;
  // The KDEs (tens of ms for thousands of draws) run on a worker: one at a time, the latest
  // snapshot smoothed next, and while chains run at most one every kCornerIntervalMs (the
  // deferred timer). The plot shows the last finished smoothing meanwhile.
  std::shared_ptr<const ChainDensity> density_;
  const ChainsSnapshot* smoothed_for_ = nullptr;  // the snapshot density_ is of (identity only)
  bool in_flight_ = false;
  QElapsedTimer last_smoothing_;
  QTimer deferred_;
};

}  // namespace dsui
