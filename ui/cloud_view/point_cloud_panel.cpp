#include "ui/cloud_view/point_cloud_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/cloud_view/point_cloud_view.h"

namespace dsui {

PointCloudPanel::PointCloudPanel(QWidget* parent) : QWidget(parent) {
  view_ = new PointCloudView(this);
  view_->setObjectName(QStringLiteral("pointCloudView"));

  auto* strip = new QHBoxLayout;
  strip->setContentsMargins(4, 2, 4, 2);
  strip->setSpacing(6);
  strip->addWidget(new QLabel(tr("Colour"), this));
  colour_box_ = new QComboBox(this);
  colour_box_->setObjectName(QStringLiteral("cloudColourBox"));
  colour_box_->setToolTip(tr("Colour the halos by a feature of the catalogue, with a colour bar"));
  colour_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  strip->addWidget(colour_box_);
  size_by_mass_ = new QCheckBox(tr("Size by mass"), this);
  size_by_mass_->setObjectName(QStringLiteral("cloudSizeByMass"));
  size_by_mass_->setToolTip(
      tr("Spheres with radius proportional to M^(1/3) (a virial radius), exaggerated"));
  strip->addWidget(size_by_mass_);
  velocities_ = new QCheckBox(tr("Velocities"), this);
  velocities_->setObjectName(QStringLiteral("cloudVelocities"));
  velocities_->setToolTip(
      tr("Arrows along the peculiar velocities, length proportional to "
         "|v|: the 95th-percentile speed spans 6% of the box side"));
  strip->addWidget(velocities_);
  axes_ = new QCheckBox(tr("Axes"), this);
  axes_->setObjectName(QStringLiteral("cloudAxes"));
  axes_->setToolTip(tr("Labelled box axes in Mpc/h and an orientation marker"));
  strip->addWidget(axes_);
  strip->addStretch(1);

  const auto preset = [&](const QString& text, const QString& tip, auto apply) {
    auto* button = new QToolButton(this);
    button->setText(text);
    button->setToolTip(tip);
    button->setObjectName(QStringLiteral("cloudView") + text);
    button->setAutoRaise(true);
    connect(button, &QToolButton::clicked, this, apply);
    strip->addWidget(button);
  };
  using Preset = PointCloudView::CameraPreset;
  preset(QStringLiteral("X"), tr("Look along the x axis (y right, z up)"),
         [this] { view_->setCameraPreset(Preset::AlongX); });
  preset(QStringLiteral("Y"), tr("Look along the y axis (x right, z up)"),
         [this] { view_->setCameraPreset(Preset::AlongY); });
  preset(QStringLiteral("Z"), tr("Look along the z axis (x right, y up)"),
         [this] { view_->setCameraPreset(Preset::AlongZ); });
  preset(QStringLiteral("Iso"), tr("Isometric view"),
         [this] { view_->setCameraPreset(Preset::Isometric); });
  preset(QStringLiteral("Reset"), tr("The default oblique view (key R)"),
         [this] { view_->resetCamera(); });

  // The ODE step strip: scrubs the stored path of the catalogue (shown when there is one).
  step_strip_ = new QWidget(this);
  auto* steps = new QHBoxLayout(step_strip_);
  steps->setContentsMargins(4, 0, 4, 2);
  play_ = new QToolButton(step_strip_);
  play_->setObjectName(QStringLiteral("cloudPlay"));
  play_->setText(tr("Play"));
  play_->setToolTip(tr("Replay the probability-flow ODE from noise to the catalogue"));
  step_slider_ = new QSlider(Qt::Horizontal, step_strip_);
  step_slider_->setObjectName(QStringLiteral("cloudStepSlider"));
  step_slider_->setToolTip(tr("The catalogue after each step of the sampler (stored, not redone)"));
  step_label_ = new QLabel(step_strip_);
  step_label_->setMinimumWidth(120);
  steps->addWidget(play_);
  steps->addWidget(step_slider_, 1);
  steps->addWidget(step_label_);
  step_strip_->hide();
  timer_.setInterval(50);
  connect(&timer_, &QTimer::timeout, this, [this] {
    if (!trajectory_ || frame_ + 1 >= int(trajectory_->frames.size())) {
      pause();
      return;
    }
    setFrame(frame_ + 1);
  });
  connect(play_, &QToolButton::clicked, this, [this] { playing() ? pause() : play(); });
  connect(step_slider_, &QSlider::valueChanged, this, &PointCloudPanel::setFrame);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(strip);
  layout->addWidget(step_strip_);
  layout->addWidget(view_, 1);

  connect(colour_box_, &QComboBox::activated, this,
          [this](int index) { view_->setColourQuantity(colour_box_->itemData(index).toString()); });
  connect(size_by_mass_, &QCheckBox::toggled, view_, &PointCloudView::setSizeByMass);
  connect(velocities_, &QCheckBox::toggled, view_, &PointCloudView::setShowVelocities);
  connect(axes_, &QCheckBox::toggled, view_, &PointCloudView::setShowAxes);
  connect(view_, &PointCloudView::displayChanged, this, &PointCloudPanel::syncControls);
  syncControls();
}

void PointCloudPanel::syncControls() {
  {
    const QSignalBlocker block(colour_box_);
    colour_box_->clear();
    colour_box_->addItem(tr("None"), QString());
    for (const QString& name : view_->colourQuantities())
      colour_box_->addItem(featureTitle(name), name);
    colour_box_->setCurrentIndex(std::max(0, colour_box_->findData(view_->colourQuantity())));
  }
  const QSignalBlocker b1(size_by_mass_), b2(velocities_), b3(axes_);
  size_by_mass_->setChecked(view_->sizeByMass());
  size_by_mass_->setEnabled(view_->canSizeByMass());
  velocities_->setChecked(view_->showVelocities());
  velocities_->setEnabled(view_->hasVelocities());
  axes_->setChecked(view_->showAxes());
}

void PointCloudPanel::setTrajectory(std::shared_ptr<const PointTrajectory> trajectory) {
  pause();
  trajectory_ = std::move(trajectory);
  const int frames = trajectory_ ? int(trajectory_->frames.size()) : 0;
  step_strip_->setVisible(frames > 1);
  frame_ = std::max(0, frames - 1);
  {
    const QSignalBlocker block(step_slider_);
    step_slider_->setRange(0, std::max(0, frames - 1));
    step_slider_->setValue(frame_);
  }
  step_label_->setText(stepText());
}

void PointCloudPanel::setFrame(int index) {
  if (!trajectory_ || trajectory_->frames.empty()) return;
  frame_ = std::clamp(index, 0, int(trajectory_->frames.size()) - 1);
  if (step_slider_->value() != frame_) {
    const QSignalBlocker block(step_slider_);
    step_slider_->setValue(frame_);
  }
  showFrame();
}

void PointCloudPanel::showFrame() {
  view_->setPoints(trajectory_->frames[std::size_t(frame_)]);
  step_label_->setText(stepText());
}

QString PointCloudPanel::stepText() const {
  if (!trajectory_ || trajectory_->frames.empty()) return QString();
  return tr("ODE step %1 / %2")
      .arg(trajectory_->steps[std::size_t(frame_)])
      .arg(trajectory_->total_steps);
}

void PointCloudPanel::play() {
  if (!trajectory_ || trajectory_->frames.size() < 2) return;
  if (frame_ + 1 >= int(trajectory_->frames.size())) setFrame(0);
  timer_.start();
  play_->setText(tr("Pause"));
}

void PointCloudPanel::pause() {
  timer_.stop();
  play_->setText(tr("Play"));
}

}  // namespace dsui
