#include "ui/inference/map_evaluation.h"

#include <QComboBox>
#include <QCoreApplication>

namespace dsui {

namespace {

enum Choice { kEveryPoint = 0, kRegion = 1, kContoursExact = 2, kContoursWithin = 3 };

QString tr(const char* text) {
  return QCoreApplication::translate("dsui::InferenceView", text);
}

}  // namespace

QComboBox* make_map_evaluation_choice(QWidget* parent) {
  auto* box = new QComboBox(parent);
  box->addItem(tr("every grid point"), kEveryPoint);
  box->addItem(tr("adaptive: the 3σ region exact"), kRegion);
  box->addItem(tr("adaptive: the 1σ/2σ contours exact"), kContoursExact);
  box->addItem(tr("adaptive: the 1σ/2σ contours to ±%1").arg(kContourTolerance), kContoursWithin);
  box->setToolTip(
      tr("Every grid point: exact everywhere.\n"
         "3σ region: a coarse grid, then cells within the 3σ region refined down to the grid "
         "step; the rest interpolated (drawn faint).\n"
         "Contours exact: cells refined only where the 1σ or 2σ contour or the maximum can lie, "
         "judged with the error of a smooth interpolation measured at each cell size, then every "
         "point that could lie on the other side of a contour evaluated by itself; inside and "
         "outside interpolated (drawn faint). Every point is on the side of each contour it is "
         "on in the full grid, and the maximum is the full grid's: the paper's ±0.06 window of "
         "the default model in under a minute on 2 cores.\n"
         "Contours to ±%1: the same cells, without the last step: a point can be on the other "
         "side of a contour only within %1 in −2 Δ ln L of it (a Gaussian's 1σ contour moves by "
         "at most 0.03σ); the maximum stays exact. Fewer evaluations still.")
          .arg(kContourTolerance));
  return box;
}

void apply_map_evaluation(const QComboBox& choice, ds::GridScanSettings& s) {
  const int c = choice.currentData().toInt();
  s.adaptive = c != kEveryPoint;
  if (c == kContoursExact || c == kContoursWithin)
    s.refine_target = ds::GridScanSettings::RefineTarget::Contours;
  if (c == kContoursWithin) s.contour_tolerance = kContourTolerance;
}

void select_map_evaluation(QComboBox& choice, bool adaptive,
                           ds::GridScanSettings::RefineTarget target, bool tolerance) {
  const bool contours = target == ds::GridScanSettings::RefineTarget::Contours;
  const int c = !adaptive   ? kEveryPoint
                : !contours ? kRegion
                : tolerance ? kContoursWithin
                            : kContoursExact;
  choice.setCurrentIndex(choice.findData(c));
}

QString map_exactness(const ds::GridScanSettings& s) {
  if (s.refine_target != ds::GridScanSettings::RefineTarget::Contours) return tr("the 3σ region");
  if (s.contour_tolerance > 0.0)
    return tr("the maximum, and the 1σ/2σ contours to ±%1 in −2 Δ ln L").arg(s.contour_tolerance);
  return tr("the 1σ/2σ contours and maximum");
}

}  // namespace dsui
