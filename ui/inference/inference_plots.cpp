#include "ui/inference/inference_plots.h"

#include <qcustomplot.h>

#include <QFutureWatcher>
#include <QLabel>
#include <QMouseEvent>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>
#include <limits>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/infer/diagnostics/contours.h"
#include "diffuscope/infer/diagnostics/posterior_density.h"

namespace dsui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kTrailLength = 60;  // recent draws drawn bright; older ones faint

const ds::Prior& prior() {
  return ds::kDefaultPrior;
}

// The map the heatmap shows: -2 Delta ln L of the total, or of the sum of the VLB terms up to t
// (log L_t-partial = -sum_{s <= t} L_s), against its own best value.
std::vector<double> delta_chi2_of(const MapLayer& layer, int t) {
  const ds::GridScan& s = layer.scan;
  const std::size_t nn = s.log_like.size();
  if (t < 0 || s.terms_per_point == 0) return s.delta_chi2;
  const std::size_t upto = std::min<std::size_t>(std::size_t(t) + 1, s.terms_per_point);
  std::vector<double> ll(nn, 0.0);
  for (std::size_t i = 0; i < nn; ++i)
    for (std::size_t k = 0; k < upto; ++k) ll[i] -= s.terms[k * nn + i];
  double best = -std::numeric_limits<double>::infinity();
  for (double v : ll)
    if (std::isfinite(v)) best = std::max(best, v);
  for (double& v : ll) v = std::isfinite(v) ? 2.0 * (best - v) : kNaN;
  return ll;
}

void add_polyline(QCustomPlot* plot, QCPAxisRect* rect, const ds::ContourLine& line, QPen pen,
                  const QString& name = QString()) {
  auto* curve = new QCPCurve(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  QVector<double> x(int(line.x.size())), y(int(line.y.size()));
  for (std::size_t i = 0; i < line.x.size(); ++i) x[int(i)] = line.x[i], y[int(i)] = line.y[i];
  curve->setData(x, y);
  curve->setPen(pen);
  if (name.isEmpty())
    curve->removeFromLegend();
  else
    curve->setName(name);
  (void)plot;
}

void style_axes(QCPAxisRect* rect, const QString& x, const QString& y) {
  rect->axis(QCPAxis::atBottom)->setLabel(x);
  rect->axis(QCPAxis::atLeft)->setLabel(y);
}

}  // namespace

QColor chain_colour(std::size_t chain) {
  static const QColor colours[] = {QColor(228, 26, 28),   QColor(55, 126, 184), QColor(77, 175, 74),
                                   QColor(152, 78, 163),  QColor(255, 127, 0),  QColor(166, 86, 40),
                                   QColor(247, 129, 191), QColor(90, 90, 90)};
  return colours[chain % (sizeof(colours) / sizeof(colours[0]))];
}

QColor layer_colour(ds::LikelihoodKind kind) {
  switch (kind) {
    case ds::LikelihoodKind::Vlb:
      return QColor(255, 255, 255);
    case ds::LikelihoodKind::ExactGrf:
      return QColor(20, 20, 20);
    case ds::LikelihoodKind::PkBaseline:
      return QColor(0, 190, 255);
    case ds::LikelihoodKind::PointElbo:
      return QColor(255, 255, 255);
  }
  return Qt::black;
}

// --- the likelihood map ------------------------------------------------------------------------

LikelihoodMapPlot::LikelihoodMapPlot(QWidget* parent) : QWidget(parent) {
  deferred_.setSingleShot(true);
  connect(&deferred_, &QTimer::timeout, this, [this] {
    last_chain_redraw_.start();
    redraw();
  });
  plot_ = new QCustomPlot(this);
  hover_ = new QLabel(this);
  hover_->setObjectName(QStringLiteral("mapHoverReadout"));
  hover_->setText(tr("Click to drop chain starts; Shift+drag to map a window"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_, 1);
  layout->addWidget(hover_);
  setMinimumSize(360, 320);
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);
  plot_->legend->setVisible(true);
  plot_->legend->setFont(QFont(QStringLiteral("sans"), 8));
  plot_->legend->setBrush(QColor(255, 255, 255, 200));
  scale_ = new QCPColorScale(plot_);
  scale_->setBarWidth(10);
  plot_->plotLayout()->addElement(0, 1, scale_);
  auto* margins = new QCPMarginGroup(plot_);
  plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  redraw();
}

void LikelihoodMapPlot::setMaps(std::shared_ptr<const MapLayer> current,
                                std::vector<std::shared_ptr<const MapLayer>> layers) {
  current_ = std::move(current);
  layers_ = std::move(layers);
  redraw();
}
namespace {
constexpr qint64 kChainFrameMs = 120;
}

void LikelihoodMapPlot::setChains(std::shared_ptr<const ChainsSnapshot> chains) {
  chains_ = std::move(chains);
  if (chains_ && !chains_->finished && last_chain_redraw_.isValid() &&
      last_chain_redraw_.elapsed() < kChainFrameMs) {
    if (!deferred_.isActive()) deferred_.start(int(kChainFrameMs - last_chain_redraw_.elapsed()));
    return;
  }
  deferred_.stop();
  last_chain_redraw_.start();
  redraw();
}
void LikelihoodMapPlot::setStarts(const std::vector<Theta>& starts) {
  starts_ = starts;
  redraw();
}
void LikelihoodMapPlot::setTruth(std::optional<Theta> truth) {
  truth_ = truth;
  redraw();
}
void LikelihoodMapPlot::setColouring(Colouring c) {
  colouring_ = c;
  redraw();
}
void LikelihoodMapPlot::setTimestep(int t) {
  timestep_ = t;
  redraw();
}

Theta LikelihoodMapPlot::toData(const QPointF& pixel) const {
  return {plot_->xAxis->pixelToCoord(pixel.x()), plot_->yAxis->pixelToCoord(pixel.y())};
}
QPointF LikelihoodMapPlot::toPixel(const Theta& t) const {
  return {plot_->xAxis->coordToPixel(t[0]), plot_->yAxis->coordToPixel(t[1])};
}
QString LikelihoodMapPlot::hoverText() const {
  return hover_->text();
}

bool LikelihoodMapPlot::eventFilter(QObject* watched, QEvent* event) {
  if (watched != plot_) return QWidget::eventFilter(watched, event);
  if (event->type() == QEvent::MouseMove) {
    const auto* e = static_cast<QMouseEvent*>(event);
    const Theta t = toData(e->position());
    QString value;
    if (current_ && current_->scan.n() > 1) {
      const auto& s = current_->scan;
      const auto near = [](const std::vector<double>& axis, double v) {
        std::size_t best = 0;
        for (std::size_t i = 1; i < axis.size(); ++i)
          if (std::abs(axis[i] - v) < std::abs(axis[best] - v)) best = i;
        return best;
      };
      const std::size_t j = near(s.omega_m, t[0]), i = near(s.sigma_8, t[1]);
      const double d = delta_chi2_of(*current_, timestep_)[i * s.n() + j];
      value = std::isfinite(d) ? QStringLiteral(", −2ΔlnL = %1").arg(d, 0, 'f', 2)
                               : QStringLiteral(", not computed yet");
    }
    hover_->setText(
        QStringLiteral("Ωm = %1, σ8 = %2%3").arg(t[0], 0, 'f', 4).arg(t[1], 0, 'f', 4).arg(value));
  } else if (event->type() == QEvent::MouseButtonPress) {
    const auto* e = static_cast<QMouseEvent*>(event);
    if (e->button() == Qt::LeftButton) {
      if (e->modifiers() & Qt::ShiftModifier)
        drag_from_ = e->position();
      else
        Q_EMIT clicked(toData(e->position()));
      return true;
    }
  } else if (event->type() == QEvent::MouseButtonRelease) {
    const auto* e = static_cast<QMouseEvent*>(event);
    if (drag_from_ && e->button() == Qt::LeftButton) {
      const Theta a = toData(*drag_from_), b = toData(e->position());
      drag_from_.reset();
      Q_EMIT windowSelected({std::min(a[0], b[0]), std::min(a[1], b[1])},
                            {std::max(a[0], b[0]), std::max(a[1], b[1])});
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void LikelihoodMapPlot::redraw() {
  plot_->clearPlottables();
  plot_->clearItems();
  heat_ = nullptr;
  contour_lines_ = 0;
  maximum_.reset();
  plot_->xAxis->setLabel(QStringLiteral("Ωm"));
  plot_->yAxis->setLabel(QStringLiteral("σ8"));
  plot_->xAxis->setRange(prior().omega_m.lo, prior().omega_m.hi);
  plot_->yAxis->setRange(prior().sigma_8.lo, prior().sigma_8.hi);

  if (current_ && current_->scan.n() >= 2) {
    const ds::GridScan& s = current_->scan;
    const int n = int(s.n());
    const std::vector<double> d2 = delta_chi2_of(*current_, timestep_);
    heat_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    heat_->removeFromLegend();
    heat_->data()->setSize(n, n);
    heat_->data()->setRange(QCPRange(s.omega_m.front(), s.omega_m.back()),
                            QCPRange(s.sigma_8.front(), s.sigma_8.back()));
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const double v = d2[std::size_t(i * n + j)];
        const double shown = colouring_ == Colouring::DeltaChi2
                                 ? (std::isfinite(v) ? std::min(v, 30.0) : kNaN)
                                 : (std::isfinite(v) ? std::exp(-0.5 * v) : kNaN);
        heat_->data()->setCell(j, i, shown);
        // Interpolated values of an adaptive map are drawn faint.
        if (!s.exact(std::size_t(i), std::size_t(j))) heat_->data()->setAlpha(j, i, 90);
        if (std::isfinite(v) && v < best) {
          best = v;
          maximum_ = Theta{s.omega_m[std::size_t(j)], s.sigma_8[std::size_t(i)]};
        }
      }
    QCPColorGradient gradient(colouring_ == Colouring::DeltaChi2 ? QCPColorGradient::gpThermal
                                                                 : QCPColorGradient::gpHot);
    if (colouring_ == Colouring::DeltaChi2) gradient = gradient.inverted();
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    heat_->setColorScale(scale_);
    heat_->setGradient(gradient);
    heat_->setInterpolate(false);
    heat_->setDataRange(colouring_ == Colouring::DeltaChi2 ? QCPRange(0.0, 30.0)
                                                           : QCPRange(0.0, 1.0));
    scale_->axis()->setLabel(colouring_ == Colouring::DeltaChi2
                                 ? QStringLiteral("−2 Δ ln L (capped at 30)")
                                 : QStringLiteral("posterior / its maximum"));
    if (current_->scan.settings.full_prior || current_->from_file) {
      plot_->xAxis->setRange(s.omega_m.front(), s.omega_m.back());
      plot_->yAxis->setRange(s.sigma_8.front(), s.sigma_8.back());
    } else {
      plot_->xAxis->setRange(s.omega_m.front(), s.omega_m.back());
      plot_->yAxis->setRange(s.sigma_8.front(), s.sigma_8.back());
    }
  }

  // Contours of every layer: solid 1 sigma, dashed 2 sigma.
  for (const auto& layer : layers_) {
    if (!layer || layer->scan.n() < 2 || layer->known < 4) continue;
    const bool is_current = layer == current_;
    const std::vector<double> d2 = delta_chi2_of(*layer, is_current ? timestep_ : -1);
    bool named = false;
    for (double level : {ds::kOneSigmaDeltaChi2, ds::kTwoSigmaDeltaChi2}) {
      const auto lines = ds::contour_lines(d2, layer->scan.omega_m, layer->scan.sigma_8, level);
      QPen pen(layer_colour(layer->kind), level < 3 ? 2.0 : 1.4,
               level < 3 ? Qt::SolidLine : Qt::DashLine);
      for (const auto& line : lines) {
        add_polyline(plot_, plot_->axisRect(), line, pen,
                     named ? QString() : layer->label + (layer->complete ? QString() : " …"));
        named = true;
        if (is_current) ++contour_lines_;
      }
    }
  }

  // Chains: faint full path, bright recent trail, current position, trajectory in progress.
  if (chains_) {
    bool named_divergence = false;
    for (std::size_t c = 0; c < chains_->chains.size(); ++c) {
      const ChainTrace& t = chains_->chains[c];
      const QColor colour = chain_colour(c);
      if (!t.positions.empty()) {
        const std::size_t n = t.positions.size();
        const std::size_t recent = n > kTrailLength ? n - kTrailLength : 0;
        auto* old_path = plot_->addGraph();
        old_path->removeFromLegend();
        old_path->setLineStyle(QCPGraph::lsNone);
        QColor faint = colour;
        faint.setAlpha(70);
        old_path->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, faint, faint, 3));
        auto* trail = new QCPCurve(plot_->xAxis, plot_->yAxis);
        trail->setName(tr("chain %1").arg(c + 1));
        trail->setPen(QPen(colour, 1.5));
        trail->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 4));
        QVector<double> ox, oy, rx, ry, dx, dy;
        for (std::size_t i = 0; i < n; ++i) {
          const Theta& p = t.positions[i];
          if (i < recent) {
            ox.push_back(p[0]);
            oy.push_back(p[1]);
          } else {
            rx.push_back(p[0]);
            ry.push_back(p[1]);
          }
          if (t.diverging[i]) dx.push_back(p[0]), dy.push_back(p[1]);
        }
        old_path->setData(ox, oy);
        trail->setData(rx, ry);
        auto* now = plot_->addGraph();
        now->removeFromLegend();
        now->setLineStyle(QCPGraph::lsNone);
        now->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::white, 2), colour, 11));
        now->setData(QVector<double>{t.positions.back()[0]},
                     QVector<double>{t.positions.back()[1]});
        if (!dx.isEmpty()) {
          auto* div = plot_->addGraph();
          if (named_divergence)
            div->removeFromLegend();
          else
            div->setName(tr("divergence"));
          named_divergence = true;
          div->setLineStyle(QCPGraph::lsNone);
          div->setScatterStyle(
              QCPScatterStyle(QCPScatterStyle::ssCross, QPen(Qt::red, 2), QBrush(Qt::NoBrush), 10));
          div->setData(dx, dy);
        }
      }
      if (c < chains_->trajectory.size() && !chains_->trajectory[c].empty()) {
        auto* path = new QCPCurve(plot_->xAxis, plot_->yAxis);
        path->removeFromLegend();
        path->setPen(QPen(colour, 1.2, Qt::DashLine));
        path->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colour, 5));
        QVector<double> x, y;
        if (!t.positions.empty())
          x.push_back(t.positions.back()[0]), y.push_back(t.positions.back()[1]);
        for (const Theta& p : chains_->trajectory[c]) x.push_back(p[0]), y.push_back(p[1]);
        path->setData(x, y);
      }
    }
    // Rejected proposals of the latest iteration: a hollow square where the chain stayed.
    for (std::size_t c = 0; c < chains_->chains.size(); ++c) {
      const ChainTrace& t = chains_->chains[c];
      if (t.moved.empty() || t.moved.back()) continue;
      auto* rejected = plot_->addGraph();
      rejected->removeFromLegend();
      rejected->setLineStyle(QCPGraph::lsNone);
      rejected->setScatterStyle(QCPScatterStyle(
          QCPScatterStyle::ssSquare, QPen(chain_colour(c), 1.5), QBrush(Qt::NoBrush), 14));
      rejected->setData(QVector<double>{t.positions.back()[0]},
                        QVector<double>{t.positions.back()[1]});
    }
  }

  if (!starts_.empty()) {
    auto* starts = plot_->addGraph();
    starts->setName(tr("starts"));
    starts->setLineStyle(QCPGraph::lsNone);
    starts->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, QPen(Qt::black, 1.5),
                                            QColor(255, 255, 255, 200), 10));
    QVector<double> x, y;
    for (const Theta& s : starts_) x.push_back(s[0]), y.push_back(s[1]);
    starts->setData(x, y);
  }
  if (maximum_) {
    auto* max = plot_->addGraph();
    max->setName(tr("maximum"));
    max->setLineStyle(QCPGraph::lsNone);
    max->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssStar, QPen(QColor(0, 200, 255), 2.5),
                                         QBrush(Qt::NoBrush), 16));
    max->setData(QVector<double>{(*maximum_)[0]}, QVector<double>{(*maximum_)[1]});
  }
  if (truth_) {
    auto* truth = plot_->addGraph();
    truth->setName(tr("truth"));
    truth->setLineStyle(QCPGraph::lsNone);
    truth->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCrossCircle, QPen(Qt::green, 2),
                                           QBrush(Qt::NoBrush), 14));
    truth->setData(QVector<double>{(*truth_)[0]}, QVector<double>{(*truth_)[1]});
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

// --- trace plot --------------------------------------------------------------------------------

TracePlot::TracePlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  setMinimumSize(320, 260);
  redraw();
}
void TracePlot::setChains(std::shared_ptr<const ChainsSnapshot> chains) {
  chains_ = std::move(chains);
  redraw();
}
void TracePlot::setRankView(bool ranks) {
  ranks_ = ranks;
  redraw();
}
void TracePlot::setTruth(std::optional<Theta> truth) {
  truth_ = truth;
  redraw();
}

void TracePlot::redraw() {
  plot_->clearPlottables();
  plot_->clearItems();
  points_ = 0;
  const QString names[3] = {QStringLiteral("Ωm"), QStringLiteral("σ8"), QStringLiteral("log p")};
  const int rows = ranks_ ? 2 : 3;
  // The axis rects stay while the view (trace or ranks) does: rebuilding them for every
  // snapshot of running chains cost hundreds of object creations and new paint buffers.
  if (layout_ranks_ != int(ranks_)) {
    layout_ranks_ = int(ranks_);
    plot_->plotLayout()->clear();
    for (int r = 0; r < rows; ++r) {
      auto* rect = new QCPAxisRect(plot_);
      plot_->plotLayout()->addElement(r, 0, rect);
      rect->setMinimumMargins(QMargins(60, 4, 4, 4));
      style_axes(
          rect,
          r == rows - 1 ? (ranks_ ? tr("rank (all chains pooled)") : tr("iteration")) : QString(),
          ranks_ ? names[r] + tr(" rank count") : names[r]);
    }
  }
  if (!chains_) {
    for (int r = 0; r < rows; ++r) {
      plot_->axisRect(r)->axis(QCPAxis::atBottom)->setRange(0, 5);
      plot_->axisRect(r)->axis(QCPAxis::atLeft)->setRange(0, 5);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  if (ranks_) {
    const ds::Chains& k = chains_->kept;
    if (k.chains >= 1 && k.draws >= 4) {
      constexpr int kBins = 20;
      for (int p = 0; p < 2; ++p) {
        std::vector<double> values(k.chains * k.draws);
        for (std::size_t c = 0; c < k.chains; ++c)
          for (std::size_t d = 0; d < k.draws; ++d)
            values[c * k.draws + d] = k.value(c, d, std::size_t(p));
        const auto h = ds::rank_histograms(values, k.chains, k.draws, kBins);
        QCPAxisRect* rect = plot_->axisRect(p);
        double top = 0;
        for (std::size_t c = 0; c < k.chains; ++c) {
          auto* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
          g->setLineStyle(QCPGraph::lsStepLeft);
          g->setPen(QPen(chain_colour(c), 1.5));
          QVector<double> x, y;
          const double width = double(k.chains * k.draws) / kBins;
          for (int b = 0; b <= kBins; ++b) {
            x.push_back(b * width);
            const double v = h[c * kBins + std::size_t(std::min(b, kBins - 1))];
            y.push_back(v);
            top = std::max(top, v);
          }
          g->setData(x, y);
          points_ += k.draws;
        }
        rect->axis(QCPAxis::atBottom)->setRange(0, double(k.chains * k.draws));
        rect->axis(QCPAxis::atLeft)->setRange(0, top * 1.15 + 1);
      }
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const double total = double(std::max<std::size_t>(chains_->total, 1));
  for (int r = 0; r < 3; ++r) {
    QCPAxisRect* rect = plot_->axisRect(r);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t c = 0; c < chains_->chains.size(); ++c) {
      const ChainTrace& t = chains_->chains[c];
      auto* g = plot_->addGraph(x, y);
      g->setPen(QPen(chain_colour(c), 1.0));
      QVector<double> it, v, dx, dv;
      for (std::size_t i = 0; i < t.positions.size(); ++i) {
        const double value = r < 2 ? t.positions[i][std::size_t(r)] : t.lp[i];
        if (!std::isfinite(value)) continue;
        // Iterations count from 1; warm-up first.
        it.push_back(double(i + 1));
        v.push_back(value);
        lo = std::min(lo, value), hi = std::max(hi, value);
        if (t.diverging[i]) dx.push_back(double(i + 1)), dv.push_back(value);
      }
      g->setData(it, v, true);
      points_ += std::size_t(v.size());
      if (!dx.isEmpty()) {
        auto* d = plot_->addGraph(x, y);
        d->setLineStyle(QCPGraph::lsNone);
        d->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCross, QPen(Qt::red, 1.5), QBrush(Qt::NoBrush), 7));
        d->setData(dx, dv);
      }
    }
    if (!(hi >= lo)) lo = 0, hi = 1;
    const double pad = std::max(1e-6, 0.08 * (hi - lo));
    y->setRange(lo - pad, hi + pad);
    x->setRange(0, total);
    if (chains_->warmup > 0) {
      auto* shade = new QCPItemRect(plot_);
      shade->setClipAxisRect(rect);
      shade->topLeft->setAxes(x, y);
      shade->bottomRight->setAxes(x, y);
      shade->topLeft->setCoords(0, hi + pad);
      shade->bottomRight->setCoords(double(chains_->warmup), lo - pad);
      shade->setPen(Qt::NoPen);
      shade->setBrush(QColor(120, 120, 120, 45));
    }
    if (truth_ && r < 2) {
      auto* line = new QCPItemStraightLine(plot_);
      line->setClipAxisRect(rect);
      line->point1->setAxes(x, y);
      line->point2->setAxes(x, y);
      line->point1->setCoords(0, (*truth_)[std::size_t(r)]);
      line->point2->setCoords(1, (*truth_)[std::size_t(r)]);
      line->setPen(QPen(QColor(0, 160, 0), 1.5, Qt::DashLine));
    }
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

// --- corner plot -------------------------------------------------------------------------------

struct CornerPlot::ChainDensity {
  std::size_t draws = 0;
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  ds::Density2d joint;
  std::vector<double> levels;
  std::vector<ds::ContourLine> lines;
  ds::Density1d marginal[2];
};

namespace {

constexpr qint64 kCornerIntervalMs = 300;

// The chains' part of the corner plot, from immutable kept draws (on a worker thread).
std::shared_ptr<const CornerPlot::ChainDensity> smooth_chains(const ds::Chains& k) {
  auto out = std::make_shared<CornerPlot::ChainDensity>();
  out->x_lo = ds::kDefaultPrior.omega_m.lo, out->x_hi = ds::kDefaultPrior.omega_m.hi;
  out->y_lo = ds::kDefaultPrior.sigma_8.lo, out->y_hi = ds::kDefaultPrior.sigma_8.hi;
  if (k.chains < 1 || k.draws < 4) return out;
  std::vector<double> xs, ys;
  for (std::size_t c = 0; c < k.chains; ++c)
    for (std::size_t d = 0; d < k.draws; ++d) {
      xs.push_back(k.value(c, d, 0));
      ys.push_back(k.value(c, d, 1));
    }
  out->draws = xs.size();
  const auto [xmin, xmax] = std::minmax_element(xs.begin(), xs.end());
  const auto [ymin, ymax] = std::minmax_element(ys.begin(), ys.end());
  const double px = std::max(0.01, 0.25 * (*xmax - *xmin)),
               py = std::max(0.01, 0.25 * (*ymax - *ymin));
  out->x_lo = std::max(out->x_lo, *xmin - px), out->x_hi = std::min(out->x_hi, *xmax + px);
  out->y_lo = std::max(out->y_lo, *ymin - py), out->y_hi = std::min(out->y_hi, *ymax + py);
  // Filled 68% / 95% regions of the smoothed draws (posterior_density.h).
  out->joint = ds::kde_2d(xs, ys, {out->x_lo, out->x_hi}, {out->y_lo, out->y_hi});
  out->levels = ds::mass_levels(out->joint.density, {0.68, 0.95});
  for (double level : out->levels)
    for (auto& line : ds::contour_lines(out->joint.density, out->joint.x, out->joint.y, level))
      out->lines.push_back(std::move(line));
  out->marginal[0] = ds::kde_1d(xs, ds::Range1d{out->x_lo, out->x_hi});
  out->marginal[1] = ds::kde_1d(ys, ds::Range1d{out->y_lo, out->y_hi});
  return out;
}

}  // namespace

CornerPlot::CornerPlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  setMinimumSize(320, 320);
  deferred_.setSingleShot(true);
  connect(&deferred_, &QTimer::timeout, this, &CornerPlot::smoothLatest);
  redraw();
}

void CornerPlot::setChains(std::shared_ptr<const ChainsSnapshot> chains) {
  chains_ = std::move(chains);
  if (!chains_) {
    deferred_.stop();
    density_.reset();
    smoothed_for_ = nullptr;
    redraw();
    return;
  }
  if (in_flight_) return;  // its completion smooths the latest snapshot
  if (!chains_->finished && last_smoothing_.isValid() &&
      last_smoothing_.elapsed() < kCornerIntervalMs) {
    if (!deferred_.isActive()) deferred_.start(int(kCornerIntervalMs - last_smoothing_.elapsed()));
    return;
  }
  deferred_.stop();
  smoothLatest();
}

void CornerPlot::smoothLatest() {
  if (!chains_ || in_flight_ || smoothed_for_ == chains_.get()) return;
  in_flight_ = true;
  last_smoothing_.start();
  auto snapshot = chains_;
  // The watcher is a child of this widget: if the plot goes away first, nothing is delivered.
  auto* watcher = new QFutureWatcher<std::shared_ptr<const ChainDensity>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, snapshot] {
    watcher->deleteLater();
    in_flight_ = false;
    try {
      density_ = watcher->result();
    } catch (const std::exception&) {
      density_.reset();  // degenerate draws (no 68% level): show the maps only
    }
    smoothed_for_ = snapshot.get();
    redraw();
    if (chains_ && chains_.get() != smoothed_for_) setChains(chains_);
  });
  watcher->setFuture(QtConcurrent::run([snapshot] { return smooth_chains(snapshot->kept); }));
}

void CornerPlot::setMaps(std::vector<std::shared_ptr<const MapLayer>> layers) {
  layers_ = std::move(layers);
  redraw();
}
void CornerPlot::setTruth(std::optional<Theta> truth) {
  truth_ = truth;
  redraw();
}

void CornerPlot::redraw() {
  plot_->clearPlottables();
  plot_->clearItems();
  plot_->plotLayout()->clear();
  draws_ = 0;
  overlays_ = 0;
  // [0,0] Omega_m marginal, [1,0] the joint, [1,1] sigma_8 marginal; [0,1] the legend.
  auto* top = new QCPAxisRect(plot_);
  auto* joint = new QCPAxisRect(plot_);
  auto* right = new QCPAxisRect(plot_);
  plot_->plotLayout()->addElement(0, 0, top);
  plot_->plotLayout()->addElement(1, 0, joint);
  plot_->plotLayout()->addElement(1, 1, right);
  auto* legend = new QCPLegend;
  legend->setFont(QFont(QStringLiteral("sans"), 8));
  plot_->plotLayout()->addElement(0, 1, legend);
  legend->setLayer(QStringLiteral("legend"));
  style_axes(top, QString(), tr("P(Ωm)"));
  style_axes(joint, QStringLiteral("Ωm"), QStringLiteral("σ8"));
  style_axes(right, QStringLiteral("σ8"), tr("P(σ8)"));
  for (QCPAxisRect* r : {top, joint, right}) {
    r->setMinimumMargins(QMargins(50, 4, 4, 30));
    r->axis(QCPAxis::atBottom)->ticker()->setTickCount(3);
    r->axis(QCPAxis::atLeft)->ticker()->setTickCount(3);
  }

  // Ranges: the posterior's extent, from the draws, else from the maps, else the prior.
  double x_lo = ds::kDefaultPrior.omega_m.lo, x_hi = ds::kDefaultPrior.omega_m.hi;
  double y_lo = ds::kDefaultPrior.sigma_8.lo, y_hi = ds::kDefaultPrior.sigma_8.hi;
  // The last smoothing finished, while its chains are still the ones shown (a new run or a
  // cleared view drops it).
  const ChainDensity* cd = chains_ && density_ && density_->draws > 0 ? density_.get() : nullptr;
  if (cd) {
    draws_ = cd->draws;
    x_lo = cd->x_lo, x_hi = cd->x_hi, y_lo = cd->y_lo, y_hi = cd->y_hi;
  } else {
    for (const auto& layer : layers_)
      if (layer && layer->complete) {
        x_lo = layer->scan.omega_m.front(), x_hi = layer->scan.omega_m.back();
        y_lo = layer->scan.sigma_8.front(), y_hi = layer->scan.sigma_8.back();
        break;
      }
  }
  top->axis(QCPAxis::atBottom)->setRange(x_lo, x_hi);
  joint->axis(QCPAxis::atBottom)->setRange(x_lo, x_hi);
  joint->axis(QCPAxis::atLeft)->setRange(y_lo, y_hi);
  right->axis(QCPAxis::atBottom)->setRange(y_lo, y_hi);
  double top_max = 0, right_max = 0;

  if (cd) {
    // Filled 68% / 95% regions of the smoothed draws, as a three-level map.
    const ds::Density2d& d2 = cd->joint;
    const std::vector<double>& levels = cd->levels;
    auto* fill = new QCPColorMap(joint->axis(QCPAxis::atBottom), joint->axis(QCPAxis::atLeft));
    fill->setName(tr("chains: 68% / 95%"));
    const int nx = int(d2.x.size()), ny = int(d2.y.size());
    fill->data()->setSize(nx, ny);
    fill->data()->setRange(QCPRange(d2.x.front(), d2.x.back()),
                           QCPRange(d2.y.front(), d2.y.back()));
    for (int i = 0; i < ny; ++i)
      for (int j = 0; j < nx; ++j) {
        const double v = d2.density[std::size_t(i * nx + j)];
        fill->data()->setCell(j, i, v >= levels[0] ? 2.0 : v >= levels[1] ? 1.0 : kNaN);
      }
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(120, 160, 220));
    g.setColorStopAt(1.0, QColor(30, 70, 160));
    g.setLevelCount(2);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    fill->setGradient(g);
    fill->setDataRange(QCPRange(1.0, 2.0));
    fill->setInterpolate(false);
    fill->addToLegend(legend);
    for (const auto& line : cd->lines)
      add_polyline(plot_, joint, line, QPen(QColor(20, 50, 130), 1.2));
    for (int p = 0; p < 2; ++p) {
      const ds::Density1d& m = cd->marginal[p];
      QCPAxisRect* rect = p == 0 ? top : right;
      auto* g1 = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      g1->removeFromLegend();
      g1->setPen(QPen(QColor(30, 70, 160), 2));
      g1->setData(QVector<double>(m.x.begin(), m.x.end()),
                  QVector<double>(m.density.begin(), m.density.end()));
      const double mx = *std::max_element(m.density.begin(), m.density.end());
      (p == 0 ? top_max : right_max) = std::max(p == 0 ? top_max : right_max, mx);
    }
  }

  // Grid posteriors of the maps: 68% / 95% contours and marginals (sums over the other axis).
  for (const auto& layer : layers_) {
    if (!layer || !layer->complete || layer->scan.n() < 2) continue;
    const ds::GridScan& s = layer->scan;
    const std::size_t n = s.n();
    const std::vector<double> p = ds::normalised_grid_posterior(s.log_like);
    const QColor colour =
        layer->kind == ds::LikelihoodKind::Vlb ? QColor(200, 120, 0) : layer_colour(layer->kind);
    bool named = false;
    std::vector<double> levels;
    try {
      levels = ds::mass_levels(p, {0.68, 0.95});
    } catch (const std::exception&) {
      continue;
    }
    for (std::size_t l = 0; l < levels.size(); ++l)
      for (const auto& line : ds::contour_lines(p, s.omega_m, s.sigma_8, levels[l])) {
        add_polyline(plot_, joint, line, QPen(colour, 1.6, l == 0 ? Qt::SolidLine : Qt::DashLine));
        if (!named) {
          auto* curve = qobject_cast<QCPCurve*>(plot_->plottable(plot_->plottableCount() - 1));
          curve->setName(layer->label + tr(" (grid)"));
          curve->addToLegend(legend);
          named = true;
        }
      }
    ++overlays_;
    for (int axis = 0; axis < 2; ++axis) {
      const std::vector<double>& grid = axis == 0 ? s.omega_m : s.sigma_8;
      std::vector<double> marginal(n, 0.0);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) marginal[axis == 0 ? j : i] += p[i * n + j];
      const double step = (grid.back() - grid.front()) / double(n - 1);
      QVector<double> x, y;
      for (std::size_t i = 0; i < n; ++i) x.push_back(grid[i]), y.push_back(marginal[i] / step);
      QCPAxisRect* rect = axis == 0 ? top : right;
      auto* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      g->removeFromLegend();
      g->setPen(QPen(colour, 1.6, Qt::DashLine));
      g->setData(x, y);
      const double mx = *std::max_element(y.begin(), y.end());
      (axis == 0 ? top_max : right_max) = std::max(axis == 0 ? top_max : right_max, mx);
    }
  }
  top->axis(QCPAxis::atLeft)->setRange(0, std::max(1.0, top_max * 1.1));
  right->axis(QCPAxis::atLeft)->setRange(0, std::max(1.0, right_max * 1.1));

  if (truth_) {
    const auto vline = [&](QCPAxisRect* rect, double x, bool vertical) {
      auto* line = new QCPItemStraightLine(plot_);
      line->setClipAxisRect(rect);
      line->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      line->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
      line->point1->setCoords(vertical ? x : 0, vertical ? 0 : x);
      line->point2->setCoords(vertical ? x : 1, vertical ? 1 : x);
      line->setPen(QPen(QColor(0, 160, 0), 1.5, Qt::DashLine));
    };
    vline(top, (*truth_)[0], true);
    vline(joint, (*truth_)[0], true);
    vline(joint, (*truth_)[1], false);
    vline(right, (*truth_)[1], true);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace dsui
