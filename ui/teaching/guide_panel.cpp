#include "ui/teaching/guide_panel.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextDocument>
#include <QVBoxLayout>

namespace dsui {

const std::vector<GuideTopic>& guide_topics() {
  static const std::vector<GuideTopic> topics = {
      {QStringLiteral("field"), QObject::tr("A density field"),
       QObject::tr("<p>A map of the projected matter density in a 25 Mpc/h square of the "
                   "universe. Two parameters set its statistics: <b>Ω<sub>m</sub></b>, the "
                   "fraction of the energy in matter, and <b>σ<sub>8</sub></b>, how clumpy "
                   "matter is on 8 Mpc/h scales.</p><p>The map is drawn by a <b>diffusion "
                   "model</b>: a network that starts from pure noise and removes it step by step, "
                   "conditioned on (Ω<sub>m</sub>, σ<sub>8</sub>). Move a slider: the noise stays "
                   "the same, so what changes is the parameter's effect.</p>")},
      {QStringLiteral("power_spectrum"), QObject::tr("The power spectrum P(k)"),
       QObject::tr("<p>How much the density fluctuates on each scale: k is a wavenumber "
                   "(2π / wavelength), so large scales are on the left. A larger σ<sub>8</sub> "
                   "raises the whole curve.</p><p>Points: the field shown. Line: the mean of "
                   "mocks made by a physical simulator at the same parameters, the reference "
                   "the emulator should match.</p>")},
      {QStringLiteral("ensemble"), QObject::tr("Many draws, not one"),
       QObject::tr("<p>One field has cosmic variance: its P(k) scatters around the truth. So the "
                   "emulator draws <b>n fields</b> with different noise, and the simulator n "
                   "mocks. The bands hold the middle 68% of each set; the lower panel divides "
                   "the means.</p><p>The <b>reduced χ²</b> compares each emulated P(k) with the "
                   "mocks' mean and scatter: about 1 for a faithful emulator, as for the mocks "
                   "themselves (leave-one-out).</p>")},
      {QStringLiteral("denoising"), QObject::tr("Watching the noise go"),
       QObject::tr("<p>Sampling runs the diffusion backwards. <b>x<sub>t</sub></b> is the state "
                   "after each step: at the start pure noise, at the end the field. Next to it, "
                   "<b>x̂<sub>0</sub></b> is the network's guess of the final field from x<sub>t"
                   "</sub>: blurry early, sharp late. The noise level √(1−ᾱ<sub>t</sub>) says how "
                   "much of x<sub>t</sub> is still noise.</p>")},
      {QStringLiteral("halos"), QObject::tr("Halo catalogues"),
       QObject::tr("<p>Dark-matter halos (where galaxies live) in a 1000 Mpc/h box, drawn by a "
                   "second diffusion model that works on point clouds. Each point has a "
                   "position, a velocity and a mass.</p>")},
      {QStringLiteral("halo_statistics"), QObject::tr("Statistics of points"),
       QObject::tr("<p>The <b>kNN-CDF</b> gives, for a random point in space, the probability "
                   "that its k-th nearest halo is closer than r: clustering moves these curves. "
                   "<b>ξ(r)</b> is the excess probability of finding two halos r apart; "
                   "<b>n(&gt;M)</b> counts halos heavier than M; <b>v12(r)</b> is how fast two "
                   "halos r apart move towards (negative) or away from each other on average: "
                   "gravity pulls pairs together. Bands: lognormal mocks at the same "
                   "cosmology.</p>")},
      {QStringLiteral("one_p"), QObject::tr("One parameter at a time"),
       QObject::tr("<p>Each curve changes one parameter and keeps the noise: dividing by the "
                   "fiducial field with the same noise cancels cosmic variance, so the curves "
                   "show the parameter's effect alone. Solid: emulator; dashed: mocks.</p>")},
      {QStringLiteral("likelihood"), QObject::tr("The same model as a likelihood"),
       QObject::tr("<p>Turn the question around: given one observed field, which parameters "
                   "could have made it? The diffusion model's <b>variational lower bound "
                   "(VLB)</b> scores how well each (Ω<sub>m</sub>, σ<sub>8</sub>) explains the "
                   "field: how well the network, told those parameters, predicts the noise added "
                   "to the field. For Gaussian fields the exact likelihood is known and shown for "
                   "comparison.</p><p>The map colours −2 Δln L; the contours enclose the 68% and "
                   "95% regions.</p>")},
      {QStringLiteral("chains"), QObject::tr("Hamiltonian Monte Carlo"),
       QObject::tr("<p>A map needs the likelihood everywhere; a chain only where it matters. HMC "
                   "treats −ln(posterior) as a landscape and slides a particle over it with a "
                   "random push: each <b>leapfrog step</b> moves the particle a little along its "
                   "momentum and updates the momentum from the slope. After a few steps the new "
                   "point is accepted or not. The points drawn on the map are the chain's "
                   "samples; the faint ones the leapfrog steps of the last transition.</p>")},
      {QStringLiteral("trace"), QObject::tr("Trace and convergence"),
       QObject::tr("<p>Each parameter's value along each chain. Chains that started apart and "
                   "now overlap have forgotten where they started: R-hat near 1 and a large "
                   "effective sample size (ESS) in the table say so in numbers.</p>")},
      {QStringLiteral("corner"), QObject::tr("The posterior"),
       QObject::tr("<p>The samples as histograms of each parameter and a 2D density of both: "
                   "the posterior. The truth is marked; over many fields it should fall inside "
                   "the 68% region about 68% of the time.</p>")},
  };
  return topics;
}

const GuideTopic* find_guide_topic(const QString& key) {
  for (const auto& t : guide_topics())
    if (t.key == key) return &t;
  return nullptr;
}

GuidePanel::GuidePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  title_ = new QLabel(this);
  QFont bold = title_->font();
  bold.setBold(true);
  bold.setPointSizeF(bold.pointSizeF() * 1.2);
  title_->setFont(bold);
  title_->setWordWrap(true);
  body_ = new QTextBrowser(this);
  body_->setObjectName(QStringLiteral("guideText"));
  body_->setOpenExternalLinks(false);
  progress_ = new QLabel(this);
  auto* buttons = new QHBoxLayout;
  start_ = new QPushButton(tr("Start the tour"), this);
  back_ = new QPushButton(tr("Back"), this);
  next_ = new QPushButton(tr("Next"), this);
  buttons->addWidget(start_);
  buttons->addStretch(1);
  buttons->addWidget(back_);
  buttons->addWidget(next_);
  layout->addWidget(title_);
  layout->addWidget(body_, 1);
  layout->addWidget(progress_);
  layout->addLayout(buttons);
  connect(start_, &QPushButton::clicked, this, [this] { step_ >= 0 ? stopTour() : startTour(); });
  connect(back_, &QPushButton::clicked, this, &GuidePanel::back);
  connect(next_, &QPushButton::clicked, this, &GuidePanel::next);
  setMinimumSize(280, 220);  // a panel to read, not a footnote
  showTopic(QStringLiteral("field"));
  goTo(-1);
}

void GuidePanel::showTopic(const QString& key) {
  const GuideTopic* t = find_guide_topic(key);
  if (!t) return;
  topic_ = key;
  title_->setText(t->title);
  body_->setHtml(t->text);
}

QString GuidePanel::text() const {
  return body_->document()->toPlainText();
}

void GuidePanel::explainOnHover(QWidget* widget, const QString& key) {
  hover_topics_.insert(widget, key);
  widget->installEventFilter(this);
  connect(widget, &QObject::destroyed, this, [this](QObject* o) { hover_topics_.remove(o); });
}

bool GuidePanel::eventFilter(QObject* watched, QEvent* event) {
  // During the tour the step's explanation stays; otherwise the view under the mouse explains.
  if (event->type() == QEvent::Enter && step_ < 0 && isVisible())
    if (auto it = hover_topics_.find(watched); it != hover_topics_.end()) showTopic(*it);
  return QWidget::eventFilter(watched, event);
}

void GuidePanel::setTour(std::vector<TourStep> steps) {
  steps_ = std::move(steps);
  goTo(-1);
}

void GuidePanel::startTour() {
  goTo(0);
}
void GuidePanel::next() {
  if (step_ >= 0) goTo(step_ + 1 < tourLength() ? step_ + 1 : -1);
}
void GuidePanel::back() {
  if (step_ > 0) goTo(step_ - 1);
}
void GuidePanel::stopTour() {
  goTo(-1);
}

void GuidePanel::goTo(int step) {
  step_ = step;
  const bool running = step_ >= 0 && step_ < tourLength();
  start_->setText(running ? tr("End the tour") : tr("Start the tour"));
  back_->setEnabled(running && step_ > 0);
  next_->setEnabled(running);
  next_->setText(running && step_ + 1 == tourLength() ? tr("Finish") : tr("Next"));
  progress_->setText(running ? tr("Step %1 of %2").arg(step_ + 1).arg(tourLength())
                             : tr("Hover over a view for an explanation."));
  if (!running) return;
  const TourStep& s = steps_[std::size_t(step_)];
  showTopic(s.topic);
  if (s.act) s.act();
}

}  // namespace dsui
