// How much of a likelihood map the Inference panel evaluates (its "Evaluate" choice): every grid
// point, or an adaptive scan keeping the 3-sigma region, or the 1- and 2-sigma contours exact,
// or the contours to +-kContourTolerance (core/include/diffuscope/infer/grids/grid_scan.h).
#pragma once

#include <QString>

#include "diffuscope/infer/grids/grid_scan.h"

class QComboBox;
class QWidget;

namespace dsui {

// -2 Delta ln L accepted along the contours by "adaptive: the 1 sigma / 2 sigma contours to +-x".
inline constexpr double kContourTolerance = 0.1;

// The choice as a combo box (item data: the choice), with a tooltip explaining each.
QComboBox* make_map_evaluation_choice(QWidget* parent);
// The combo box's current choice into the settings' adaptive, refine_target and tolerance.
void apply_map_evaluation(const QComboBox& choice, ds::GridScanSettings& settings);
// Selects the choice of those settings (tolerance: the contours to +-kContourTolerance).
void select_map_evaluation(QComboBox& choice, bool adaptive,
                           ds::GridScanSettings::RefineTarget target, bool tolerance);
// What an adaptive map keeps exact, for the status line.
QString map_exactness(const ds::GridScanSettings& settings);

}  // namespace dsui
