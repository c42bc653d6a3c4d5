// Compare mode (issue 16): a pinned field next to the live one. Both images on one colour scale
// (the pinned field's 1-99% window of log10 density), each captioned with its source and
// cosmology, and the ratio of their power spectra P_live(k) / P_pinned(k) with the band that
// sample variance alone would give two Gaussian fields of one cosmology, 1 +- sqrt(2 / N_k)
// (N_k independent modes per bin; non-Gaussian fields scatter more). The P(k) plot and the halo
// statistics draw the pinned curves dashed; the main window pins and unpins.
#pragma once

#include <QImage>
#include <QWidget>
#include <memory>
#include <vector>

#include "ui/field_workspace.h"

class QCustomPlot;
class QLabel;
class QPushButton;

namespace dsui {

class ComparePanel : public QWidget {
  Q_OBJECT
 public:
  explicit ComparePanel(QWidget* parent = nullptr);

  void setPinned(std::shared_ptr<const FieldSnapshot> pinned);  // nullptr: nothing pinned
  void setLive(std::shared_ptr<const FieldSnapshot> live);
  std::shared_ptr<const FieldSnapshot> pinned() const { return pinned_; }

  // What is shown: the images at field resolution (before scaling to the labels), the captions,
  // and the ratio curve (empty when the two spectra do not share their k bins).
  const QImage& pinnedImage() const { return pinned_image_; }
  const QImage& liveImage() const { return live_image_; }
  QString pinnedCaption() const;
  QString liveCaption() const;
  const std::vector<double>& ratioK() const { return ratio_k_; }
  const std::vector<double>& ratio() const { return ratio_; }
  const std::vector<double>& ratioSigma() const { return ratio_sigma_; }  // sqrt(2 / N_k)
  QCustomPlot* plot() const { return plot_; }

  // A one-line description of a snapshot's field: source and cosmology.
  static QString describe(const FieldSnapshot& s);

 Q_SIGNALS:
  void unpinRequested();

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void redraw();
  void showImages();

  QLabel* pinned_label_;
  QLabel* live_label_;
  QLabel* pinned_caption_;
  QLabel* live_caption_;
  QPushButton* unpin_;
  QCustomPlot* plot_;
  std::shared_ptr<const FieldSnapshot> pinned_, live_;
  QImage pinned_image_, live_image_;
  std::vector<double> ratio_k_, ratio_, ratio_sigma_;
};

}  // namespace dsui
