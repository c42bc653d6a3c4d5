#include "ui/field_view/denoising_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QSlider>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/field_view/field_thumbnail.h"

namespace dsui {

namespace {
constexpr int kPlayIntervalMs = 80;
}

DenoisingPanel::DenoisingPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* images = new QHBoxLayout;
  state_ = new QLabel(this);
  prediction_ = new QLabel(this);
  for (QLabel* l : {state_, prediction_}) {
    l->setMinimumSize(96, 96);
    l->setAlignment(Qt::AlignCenter);
    l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    images->addWidget(l, 1);
  }
  state_->setToolTip(
      tr("x_t: the sampler's state after this step, in model space (signal plus "
         "the noise still to be removed)"));
  prediction_->setToolTip(
      tr("x̂₀: the clean field the network predicts from x_t, in physical "
         "units (log scale)"));
  layout->addLayout(images, 1);
  caption_ = new QLabel(this);
  caption_->setObjectName(QStringLiteral("denoisingCaption"));
  caption_->setWordWrap(true);
  layout->addWidget(caption_);
  auto* controls = new QHBoxLayout;
  play_ = new QPushButton(tr("Play"), this);
  play_->setObjectName(QStringLiteral("denoisingPlay"));
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setObjectName(QStringLiteral("denoisingSlider"));
  show_box_ = new QComboBox(this);
  show_box_->addItems({tr("x_t and x̂₀"), tr("x_t"), tr("x̂₀")});
  controls->addWidget(play_);
  controls->addWidget(slider_, 1);
  layout->addLayout(controls);
  auto* show_row = new QHBoxLayout;
  show_row->addWidget(new QLabel(tr("Show"), this));
  show_row->addWidget(show_box_);
  show_row->addStretch(1);
  layout->addLayout(show_row);
  timer_.setInterval(kPlayIntervalMs);
  connect(&timer_, &QTimer::timeout, this, [this] {
    if (!trajectory_ || frame_ + 1 >= int(trajectory_->frames.size())) {
      pause();
      return;
    }
    setFrame(frame_ + 1);
  });
  connect(slider_, &QSlider::valueChanged, this, &DenoisingPanel::setFrame);
  connect(play_, &QPushButton::clicked, this, [this] { playing() ? pause() : play(); });
  connect(show_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { setShow(Show(i)); });
  redraw();
}

void DenoisingPanel::setTrajectory(std::shared_ptr<const DenoisingTrajectory> trajectory) {
  pause();
  trajectory_ = std::move(trajectory);
  const int frames = trajectory_ ? int(trajectory_->frames.size()) : 0;
  {
    const QSignalBlocker quiet(slider_);
    slider_->setRange(0, std::max(0, frames - 1));
  }
  setFrame(frames - 1);  // the finished field; scrub back to watch it form
}

void DenoisingPanel::setFrame(int index) {
  const int frames = trajectory_ ? int(trajectory_->frames.size()) : 0;
  frame_ = std::clamp(index, 0, std::max(0, frames - 1));
  if (slider_->value() != frame_) {
    const QSignalBlocker quiet(slider_);
    slider_->setValue(frame_);
  }
  redraw();
}

void DenoisingPanel::setShow(Show show) {
  show_ = show;
  if (show_box_->currentIndex() != int(show)) {
    const QSignalBlocker quiet(show_box_);
    show_box_->setCurrentIndex(int(show));
  }
  redraw();
}

void DenoisingPanel::play() {
  if (!trajectory_ || trajectory_->frames.empty()) return;
  if (frame_ + 1 >= int(trajectory_->frames.size())) setFrame(0);  // from the noise again
  timer_.start();
  play_->setText(tr("Pause"));
}

void DenoisingPanel::pause() {
  timer_.stop();
  play_->setText(tr("Play"));
}

QString DenoisingPanel::caption() const {
  if (!trajectory_ || trajectory_->frames.empty())
    return tr("The denoising of the refined emulated field appears here.");
  const DenoisingFrame& f = trajectory_->frames[std::size_t(frame_)];
  return tr("step %1 of %2 · t = %3 · noise √(1−ᾱ_t) = %4")
      .arg(f.step)
      .arg(f.total)
      .arg(f.t)
      .arg(f.noise_level, 0, 'f', 3);
}

void DenoisingPanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  redraw();
}

void DenoisingPanel::redraw() {
  caption_->setText(caption());
  const bool have = trajectory_ && !trajectory_->frames.empty();
  slider_->setEnabled(have);
  play_->setEnabled(have);
  state_->setVisible(show_ != Show::Prediction);
  prediction_->setVisible(show_ != Show::State);
  shown_state_.reset();
  shown_prediction_.reset();
  if (!have) {
    state_->clear();
    prediction_->clear();
    return;
  }
  const DenoisingFrame& f = trajectory_->frames[std::size_t(frame_)];
  const auto draw = [](QLabel* label, const FieldImage& image, bool log_scale) {
    const int side = std::max(16, std::min(label->width(), label->height()));
    label->setPixmap(QPixmap::fromImage(field_thumbnail(image, log_scale))
                         .scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation));
  };
  if (show_ != Show::Prediction) {
    draw(state_, *f.x_t, false);
    shown_state_ = f.x_t;
  }
  if (show_ != Show::State) {
    draw(prediction_, *f.x0, true);
    shown_prediction_ = f.x0;
  }
}

}  // namespace dsui
