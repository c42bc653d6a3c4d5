#include "ui/plots/compare_panel.h"

#include <qcustomplot.h>

#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ui/field_view/field_thumbnail.h"
#include "ui/plots/plot_style.h"

namespace dsui {

namespace {
QLabel* image_label(QWidget* parent) {
  auto* label = new QLabel(parent);
  label->setMinimumSize(120, 120);
  label->setAlignment(Qt::AlignCenter);
  label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);  // the pixmap follows
  return label;
}
}  // namespace

ComparePanel::ComparePanel(QWidget* parent) : QWidget(parent) {
  setMinimumWidth(420);
  pinned_label_ = image_label(this);
  live_label_ = image_label(this);
  pinned_label_->setObjectName(QStringLiteral("pinnedImage"));
  live_label_->setObjectName(QStringLiteral("liveImage"));
  pinned_caption_ = new QLabel(this);
  live_caption_ = new QLabel(this);
  for (QLabel* c : {pinned_caption_, live_caption_}) {
    c->setWordWrap(true);
    c->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
  }
  unpin_ = new QPushButton(tr("Unpin"), this);
  unpin_->setToolTip(tr("Stop comparing: the pinned field and its curves go"));
  // Two equal columns: the images the same size whatever their captions.
  auto* images = new QGridLayout;
  images->addWidget(pinned_label_, 0, 0);
  images->addWidget(live_label_, 0, 1);
  images->addWidget(pinned_caption_, 1, 0);
  images->addWidget(live_caption_, 1, 1);
  images->setColumnStretch(0, 1);
  images->setColumnStretch(1, 1);
  images->setRowStretch(0, 1);

  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(180);
  set_log_axis(plot_->xAxis, tr("k [h/Mpc]"));
  plot_->yAxis->setLabel(tr("P_live / P_pinned"));
  QCPGraph* lo = plot_->addGraph();
  QCPGraph* hi = plot_->addGraph();
  lo->setPen(Qt::NoPen);
  hi->setPen(Qt::NoPen);
  hi->setBrush(QColor(120, 120, 120, 60));
  hi->setChannelFillGraph(lo);
  hi->setName(tr("1 ± √(2/N_k)"));
  lo->removeFromLegend();
  QCPGraph* ratio = plot_->addGraph();
  ratio->setName(tr("live / pinned"));
  ratio->setPen(QPen(QColor(230, 120, 20), 1.8));
  ratio->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
  plot_->legend->setVisible(true);
  plot_->legend->setFont(QFont(QStringLiteral("sans"), 7));
  plot_->legend->setBrush(QColor(255, 255, 255, 200));
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  plot_->setToolTip(
      tr("P(k) of the live field over the pinned one; grey: the scatter that sample variance "
         "alone gives two Gaussian fields of one cosmology (N_k modes per bin)"));
  auto* unity = new QCPItemStraightLine(plot_);
  unity->point1->setCoords(0.01, 1.0);
  unity->point2->setCoords(1.0, 1.0);
  unity->setPen(QPen(Qt::darkGray, 1.0, Qt::DashLine));

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(images, 3);
  layout->addWidget(plot_, 2);
  layout->addWidget(unpin_, 0, Qt::AlignRight);
  connect(unpin_, &QPushButton::clicked, this, &ComparePanel::unpinRequested);
  redraw();
}

QString ComparePanel::describe(const FieldSnapshot& s) {
  if (!s.parameters) return s.source;
  return QStringLiteral("Ωm = %1, σ8 = %2, seed %3")
      .arg(s.parameters->omega_m, 0, 'f', 3)
      .arg(s.parameters->sigma_8, 0, 'f', 3)
      .arg(s.parameters->seed);
}

QString ComparePanel::pinnedCaption() const {
  return pinned_caption_->text();
}
QString ComparePanel::liveCaption() const {
  return live_caption_->text();
}

void ComparePanel::setPinned(std::shared_ptr<const FieldSnapshot> pinned) {
  pinned_ = std::move(pinned);
  redraw();
}

void ComparePanel::setLive(std::shared_ptr<const FieldSnapshot> live) {
  live_ = std::move(live);
  redraw();
}

void ComparePanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  showImages();
}

void ComparePanel::showImages() {
  const auto show = [](QLabel* label, const QImage& image) {
    if (image.isNull()) {
      label->setPixmap(QPixmap());
      return;
    }
    const int side = std::max(64, std::min(label->width(), label->height()));
    label->setPixmap(
        QPixmap::fromImage(image.scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation)));
  };
  show(pinned_label_, pinned_image_);
  show(live_label_, live_image_);
}

void ComparePanel::redraw() {
  pinned_image_ = QImage();
  live_image_ = QImage();
  ratio_k_.clear(), ratio_.clear(), ratio_sigma_.clear();
  const bool have_pin = pinned_ && pinned_->image && pinned_->image->n > 0;
  if (have_pin) {
    // One colour scale, the pinned field's: a change of amplitude shows as a change of colour.
    const auto [lo, hi] = thumbnail_window(*pinned_->image);
    pinned_image_ = field_thumbnail(*pinned_->image, true, lo, hi);
    if (live_ && live_->image && live_->image->n > 0)
      live_image_ = field_thumbnail(*live_->image, true, lo, hi);
    const ds::PowerSpectrum& a = pinned_->measured;
    if (live_ && live_->measured.k == a.k) {
      const ds::PowerSpectrum& b = live_->measured;
      for (std::size_t i = 0; i < a.k.size(); ++i) {
        if (!(a.pk[i] > 0) || !std::isfinite(b.pk[i])) continue;
        ratio_k_.push_back(a.k[i]);
        ratio_.push_back(b.pk[i] / a.pk[i]);
        const double modes = i < a.nmodes.size() ? double(a.nmodes[i]) : 0.0;
        ratio_sigma_.push_back(modes > 0 ? std::sqrt(2.0 / modes) : 0.0);
      }
    }
  }
  pinned_caption_->setText(have_pin ? tr("Pinned: %1").arg(describe(*pinned_))
                                    : tr("Nothing pinned: View > Pin for comparison"));
  pinned_caption_->setToolTip(have_pin ? pinned_->source : QString());
  live_caption_->setText(live_ ? tr("Live: %1").arg(describe(*live_)) : QString());
  live_caption_->setToolTip(live_ ? live_->source : QString());
  unpin_->setEnabled(have_pin);
  showImages();

  std::vector<double> lo(ratio_.size()), hi(ratio_.size());
  for (std::size_t i = 0; i < ratio_.size(); ++i)
    lo[i] = 1.0 - ratio_sigma_[i], hi[i] = 1.0 + ratio_sigma_[i];
  plot_->graph(0)->setData(to_qvector(ratio_k_), to_qvector(lo), true);
  plot_->graph(1)->setData(to_qvector(ratio_k_), to_qvector(hi), true);
  plot_->graph(2)->setData(to_qvector(ratio_k_), to_qvector(ratio_), true);
  if (!ratio_k_.empty()) {
    plot_->xAxis->setRange(ratio_k_.front() / 1.2, ratio_k_.back() * 1.2);
    double top = 1.5, bottom = 0.5;
    for (std::size_t i = 0; i < ratio_.size(); ++i)
      top = std::max({top, ratio_[i], hi[i]}), bottom = std::min({bottom, ratio_[i], lo[i]});
    plot_->yAxis->setRange(std::max(0.0, bottom - 0.1), top + 0.1);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace dsui
