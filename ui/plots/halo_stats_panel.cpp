#include "ui/plots/halo_stats_panel.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <cmath>

#include "diffuscope/data/npy.h"
#include "diffuscope/stats/knn_cdf.h"
#include "ui/halo_workspace.h"
#include "ui/plots/plot_export.h"
#include "ui/plots/plot_style.h"

namespace dsui {

namespace {

QColor k_colour(std::size_t i) {
  static const QColor colours[] = {QColor(68, 1, 84), QColor(33, 145, 140), QColor(220, 120, 20),
                                   QColor(200, 40, 60)};
  return colours[i % 4];
}

// A curve without its NaN bins (a v12 bin without pairs): x and y of the finite values.
std::vector<double> finite_x(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> out;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (std::isfinite(y[i])) out.push_back(x[i]);
  return out;
}

std::vector<double> finite_y(const std::vector<double>& y) {
  std::vector<double> out;
  for (double v : y)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

std::vector<double> centres(const std::vector<double>& edges, bool geometric) {
  std::vector<double> out;
  for (std::size_t b = 0; b + 1 < edges.size(); ++b)
    out.push_back(geometric ? std::sqrt(edges[b] * edges[b + 1]) : 0.5 * (edges[b] + edges[b + 1]));
  return out;
}

}  // namespace

HaloStatsPanel::HaloStatsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* controls = new QHBoxLayout;
  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("haloStatsSummary"));
  summary_->setWordWrap(true);
  peaked_box_ = new QCheckBox(tr("Peaked CDF"), this);
  peaked_box_->setToolTip(tr("min(F, 1 − F): both tails of each kNN-CDF on a log axis"));
  export_button_ = new QPushButton(tr("Export…"), this);
  controls->addWidget(peaked_box_);
  controls->addStretch(1);
  controls->addWidget(export_button_);
  layout->addLayout(controls);
  layout->addWidget(summary_);

  plot_ = new QCustomPlot(this);
  plot_->setAutoAddPlottableToLegend(false);
  plot_->setMinimumHeight(360);
  plot_->plotLayout()->clear();
  const QString titles[] = {tr("kNN-CDF"), tr("ξ(r)"), tr("n(>M)"), tr("v12(r) [km/s]")};
  // A 2 x 2 grid (four stacked rows leave each plot too flat in the dock), each title above its
  // plot; the margin groups line the axes up along columns and rows.
  QCPMarginGroup* columns[2] = {new QCPMarginGroup(plot_), new QCPMarginGroup(plot_)};
  QCPMarginGroup* rows[2] = {new QCPMarginGroup(plot_), new QCPMarginGroup(plot_)};
  for (int i = 0; i < RectCount; ++i) {
    const int row = i / 2, column = i % 2;
    rects_[i] = new QCPAxisRect(plot_);
    rects_[i]->setMarginGroup(QCP::msLeft | QCP::msRight, columns[column]);
    rects_[i]->setMarginGroup(QCP::msTop | QCP::msBottom, rows[row]);
    plot_->plotLayout()->addElement(2 * row, column,
                                    new QCPTextElement(plot_, titles[i], QFont("sans", 9)));
    plot_->plotLayout()->addElement(2 * row + 1, column, rects_[i]);
  }
  set_log_axis(rects_[Knn]->axis(QCPAxis::atBottom), QString(), false);
  rects_[Knn]->axis(QCPAxis::atBottom)->setLabel(tr("r [Mpc/h]"));
  rects_[Knn]->axis(QCPAxis::atBottom)->ticker()->setTickCount(3);  // half the dock's width
  set_log_axis(rects_[Xi]->axis(QCPAxis::atBottom), QString(), false);
  rects_[Xi]->axis(QCPAxis::atBottom)->setLabel(tr("r [Mpc/h]"));
  rects_[Hmf]->axis(QCPAxis::atBottom)->setLabel(tr("log10 M [Msun/h]"));
  set_log_axis(rects_[Hmf]->axis(QCPAxis::atLeft), QString(), false);
  rects_[Hmf]->axis(QCPAxis::atLeft)->setLabel(tr("(Mpc/h)⁻³"));
  set_log_axis(rects_[V12]->axis(QCPAxis::atBottom), QString(), false);
  rects_[V12]->axis(QCPAxis::atBottom)->setLabel(tr("r [Mpc/h]"));
  // v12 = 0: above, pairs recede; below, they fall towards each other.
  auto* zero = new QCPItemStraightLine(plot_);
  zero->setClipAxisRect(rects_[V12]);
  for (QCPItemPosition* end : {zero->point1, zero->point2})
    end->setAxes(rects_[V12]->axis(QCPAxis::atBottom), rects_[V12]->axis(QCPAxis::atLeft));
  zero->point1->setCoords(1.0, 0.0);
  zero->point2->setCoords(2.0, 0.0);
  zero->setPen(QPen(Qt::gray, 1.0, Qt::DotLine));
  const auto add = [this](QCPAxisRect* rect, const QString& key, const QPen& pen) {
    QCPGraph* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    g->setName(key);
    g->setPen(pen);
    graphs_.insert(key, g);
    return g;
  };
  const auto band = [&](QCPAxisRect* rect, const QString& key, QColor colour) {
    QCPGraph* lo = add(rect, key + QStringLiteral(" 16%"), Qt::NoPen);
    QCPGraph* hi = add(rect, key + QStringLiteral(" 84%"), Qt::NoPen);
    colour.setAlpha(55);
    hi->setBrush(colour);
    hi->setChannelFillGraph(lo);
  };
  auto* legend = new QCPLegend;
  rects_[Knn]->insetLayout()->addElement(legend, Qt::AlignBottom | Qt::AlignRight);
  legend->setFont(QFont(QStringLiteral("sans"), 8));
  const std::vector<int> ks = HaloStatisticsSettings{}.ks;
  for (std::size_t i = 0; i < ks.size(); ++i) {
    const QString key = QStringLiteral("knn k=%1").arg(ks[i]);
    band(rects_[Knn], key, k_colour(i));
    QCPGraph* g = add(rects_[Knn], key, QPen(k_colour(i), 2.0));
    g->setName(QStringLiteral("k=%1").arg(ks[i]));  // the legend's text
    legend->addItem(new QCPPlottableLegendItem(legend, g));
    add(rects_[Knn], QStringLiteral("pinned ") + key, QPen(k_colour(i), 1.4, Qt::DashLine));
  }
  add(rects_[Xi], QStringLiteral("pinned xi"), QPen(QColor(230, 120, 20), 1.6, Qt::DashLine));
  add(rects_[Hmf], QStringLiteral("pinned hmf"), QPen(QColor(230, 120, 20), 1.6, Qt::DashLine));
  add(rects_[V12], QStringLiteral("pinned v12"), QPen(QColor(230, 120, 20), 1.6, Qt::DashLine));
  band(rects_[Xi], QStringLiteral("xi"), Qt::darkGray);
  add(rects_[Xi], QStringLiteral("xi"), QPen(QColor(33, 145, 140), 2.0));
  band(rects_[Hmf], QStringLiteral("hmf"), Qt::darkGray);
  add(rects_[Hmf], QStringLiteral("hmf"), QPen(QColor(33, 145, 140), 2.0));
  band(rects_[V12], QStringLiteral("v12"), Qt::darkGray);
  add(rects_[V12], QStringLiteral("v12"), QPen(QColor(33, 145, 140), 2.0));
  plot_->setNotAntialiasedElements(QCP::aePlottables);
  layout->addWidget(plot_, 1);

  connect(peaked_box_, &QCheckBox::toggled, this, &HaloStatsPanel::setPeaked);
  connect(export_button_, &QPushButton::clicked, this, &HaloStatsPanel::exportRequested);
  redraw();
}

void HaloStatsPanel::setPinned(std::shared_ptr<const HaloStatisticsSnapshot> pinned) {
  pinned_ = std::move(pinned);
  redraw();
}

QCPGraph* HaloStatsPanel::graph(const QString& key) const {
  return graphs_.value(key, nullptr);
}

void HaloStatsPanel::setSnapshot(std::shared_ptr<const HaloStatisticsSnapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  redraw();
}

void HaloStatsPanel::setPeaked(bool on) {
  peaked_ = on;
  {
    const QSignalBlocker quiet(peaked_box_);
    peaked_box_->setChecked(on);
  }
  redraw();
}

QString HaloStatsPanel::summaryText() const {
  if (!snapshot_)
    return tr("The statistics follow once an emulated catalogue is drawn and the sliders rest.");
  const auto& c = *snapshot_->cloud;
  return tr("%1 halos of %2 at Ωm = %3, σ8 = %4 (seed %5) against %6 lognormal mocks (16–84%)")
             .arg(c.n_points)
             .arg(c.model_name)
             .arg(c.omega_m, 0, 'f', 3)
             .arg(c.sigma_8, 0, 'f', 3)
             .arg(c.seed)
             .arg(snapshot_->mocks->mocks) +
         (pinned_ ? tr("; dashed: pinned at Ωm = %1, σ8 = %2 (seed %3)")
                        .arg(pinned_->cloud->omega_m, 0, 'f', 3)
                        .arg(pinned_->cloud->sigma_8, 0, 'f', 3)
                        .arg(pinned_->cloud->seed)
                  : QString());
}

void HaloStatsPanel::redraw() {
  summary_->setText(summaryText());
  export_button_->setEnabled(snapshot_ != nullptr);
  for (auto* g : graphs_) g->data()->clear();
  QCPAxisRect* knn_rect = rects_[Knn];
  if (peaked_)
    set_log_axis(knn_rect->axis(QCPAxis::atLeft), QString(), false);
  else {
    knn_rect->axis(QCPAxis::atLeft)->setScaleType(QCPAxis::stLinear);
    knn_rect->axis(QCPAxis::atLeft)->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  knn_rect->axis(QCPAxis::atLeft)->setLabel(peaked_ ? tr("min(F, 1 − F)") : tr("F(<r)"));
  // The legend where the curves leave room: below F = 1 at large r, left of the peaks' rise.
  knn_rect->insetLayout()->setInsetAlignment(
      0, peaked_ ? Qt::AlignTop | Qt::AlignLeft : Qt::AlignBottom | Qt::AlignRight);
  if (snapshot_) {
    const auto& s = *snapshot_;
    const auto& b = *s.mocks;
    const auto curve = [this](const QString& key, const std::vector<double>& x,
                              const std::vector<double>& y) {
      if (QCPGraph* g = graph(key); g && x.size() == y.size())
        g->setData(to_qvector(x), to_qvector(y), true);
    };
    const auto view = [this](const std::vector<double>& v) {
      return peaked_ ? ds::peaked_cdf(v) : v;
    };
    for (std::size_t i = 0; i < s.settings.ks.size() && i < s.knn.size(); ++i) {
      const QString key = QStringLiteral("knn k=%1").arg(s.settings.ks[i]);
      curve(key, b.radii, view(s.knn[i]));
      // The band of the peaked CDF is the peaked band: min(F, 1 - F) is monotone on each side.
      curve(key + QStringLiteral(" 16%"), b.radii, view(b.knn[i].band.lower));
      curve(key + QStringLiteral(" 84%"), b.radii, view(b.knn[i].band.upper));
    }
    const auto r = centres(b.xi_edges, true);
    curve(QStringLiteral("xi"), r, s.xi);
    curve(QStringLiteral("xi 16%"), r, b.xi.band.lower);
    curve(QStringLiteral("xi 84%"), r, b.xi.band.upper);
    if (s.has_mass) {
      const std::vector<double> lo(b.logm_edges.begin(), b.logm_edges.end() - 1);
      curve(QStringLiteral("hmf"), lo, s.n_greater);
      curve(QStringLiteral("hmf 16%"), lo, b.n_greater.band.lower);
      curve(QStringLiteral("hmf 84%"), lo, b.n_greater.band.upper);
    }
    if (s.has_velocity) {
      const auto r12 = centres(b.v12_edges, true);
      curve(QStringLiteral("v12"), finite_x(r12, s.v12), finite_y(s.v12));
      curve(QStringLiteral("v12 16%"), finite_x(r12, b.v12.band.lower), finite_y(b.v12.band.lower));
      curve(QStringLiteral("v12 84%"), finite_x(r12, b.v12.band.upper), finite_y(b.v12.band.upper));
    }
  }
  if (pinned_) {
    const auto& s = *pinned_;
    const auto& b = *s.mocks;
    const auto view = [this](const std::vector<double>& v) {
      return peaked_ ? ds::peaked_cdf(v) : v;
    };
    const auto curve = [this](const QString& key, const std::vector<double>& x,
                              const std::vector<double>& y) {
      if (QCPGraph* g = graph(QStringLiteral("pinned ") + key); g && x.size() == y.size())
        g->setData(to_qvector(x), to_qvector(y), true);
    };
    for (std::size_t i = 0; i < s.settings.ks.size() && i < s.knn.size(); ++i)
      curve(QStringLiteral("knn k=%1").arg(s.settings.ks[i]), b.radii, view(s.knn[i]));
    curve(QStringLiteral("xi"), centres(b.xi_edges, true), s.xi);
    if (s.has_mass)
      curve(QStringLiteral("hmf"),
            std::vector<double>(b.logm_edges.begin(), b.logm_edges.end() - 1), s.n_greater);
    if (s.has_velocity)
      curve(QStringLiteral("v12"), finite_x(centres(b.v12_edges, true), s.v12), finite_y(s.v12));
  }
  for (QCPAxisRect* rect : rects_) {
    bool found = false;
    for (QCPGraph* g : rect->graphs()) {
      if (g->data()->isEmpty()) continue;
      g->rescaleAxes(found);
      found = true;
    }
  }
  {  // v12: keep the zero line in view, with a margin
    QCPAxis* y = rects_[V12]->axis(QCPAxis::atLeft);
    QCPRange range = y->range();
    range.expand(0.0);
    y->setRange(range.lower - 0.05 * range.size(), range.upper + 0.05 * range.size());
  }
  if (peaked_) {
    QCPAxis* y = knn_rect->axis(QCPAxis::atLeft);
    y->setRange(std::max(1e-4, y->range().lower), 0.6);
  } else {
    knn_rect->axis(QCPAxis::atLeft)->setRange(0.0, 1.0);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QStringList HaloStatsPanel::exportTo(const QString& folder) {
  QStringList written;
  if (!snapshot_ || !QDir().mkpath(folder)) {
    Q_EMIT errorOccurred(tr("Export halo statistics"),
                         tr("Cannot create the folder %1").arg(folder));
    return written;
  }
  const auto& s = *snapshot_;
  const auto& b = *s.mocks;
  const QString base = folder + QLatin1Char('/');
  written << export_plot_all(plot_, base + QStringLiteral("halo_stats"), summaryText());
  QStringList header{QStringLiteral("r")};
  std::vector<std::vector<double>> columns{b.radii};
  for (std::size_t i = 0; i < s.settings.ks.size(); ++i) {
    const QString k = QString::number(s.settings.ks[i]);
    header << QStringLiteral("cdf_k%1").arg(k) << QStringLiteral("mocks_p16_k%1").arg(k)
           << QStringLiteral("mocks_p84_k%1").arg(k);
    columns.push_back(s.knn[i]);
    columns.push_back(b.knn[i].band.lower);
    columns.push_back(b.knn[i].band.upper);
  }
  if (write_csv(base + QStringLiteral("knn_cdf.csv"), header, columns))
    written << base + QStringLiteral("knn_cdf.csv");
  std::vector<double> r_lo(b.xi_edges.begin(), b.xi_edges.end() - 1),
      r_hi(b.xi_edges.begin() + 1, b.xi_edges.end());
  if (write_csv(base + QStringLiteral("xi.csv"),
                {QStringLiteral("r_lo"), QStringLiteral("r_hi"), QStringLiteral("xi"),
                 QStringLiteral("mocks_p16"), QStringLiteral("mocks_p84")},
                {r_lo, r_hi, s.xi, b.xi.band.lower, b.xi.band.upper}))
    written << base + QStringLiteral("xi.csv");
  if (s.has_mass) {
    std::vector<double> lo(b.logm_edges.begin(), b.logm_edges.end() - 1);
    if (write_csv(base + QStringLiteral("hmf.csv"),
                  {QStringLiteral("logm_lo"), QStringLiteral("n_greater"),
                   QStringLiteral("mocks_p16"), QStringLiteral("mocks_p84")},
                  {lo, s.n_greater, b.n_greater.band.lower, b.n_greater.band.upper}))
      written << base + QStringLiteral("hmf.csv");
  }
  if (s.has_velocity) {
    std::vector<double> lo(b.v12_edges.begin(), b.v12_edges.end() - 1),
        hi(b.v12_edges.begin() + 1, b.v12_edges.end());
    if (write_csv(base + QStringLiteral("v12.csv"),
                  {QStringLiteral("r_lo"), QStringLiteral("r_hi"), QStringLiteral("v12"),
                   QStringLiteral("mocks_p16"), QStringLiteral("mocks_p84")},
                  {lo, hi, s.v12, b.v12.band.lower, b.v12.band.upper}))
      written << base + QStringLiteral("v12.csv");
  }
  const auto& c = *s.cloud;
  try {
    ds::write_npy((base + QStringLiteral("catalogue.npy")).toStdString(),
                  {std::size_t(c.n_points), std::size_t(c.features)},
                  std::vector<double>(c.cloud->begin(), c.cloud->end()), true);
    written << base + QStringLiteral("catalogue.npy");
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Export halo statistics"), QString::fromUtf8(e.what()));
  }
  return written;
}

}  // namespace dsui
