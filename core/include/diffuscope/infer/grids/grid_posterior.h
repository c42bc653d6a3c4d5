// The posterior of a likelihood grid (grid_scan.h) under the flat prior on the grid's box, in the
// form of a calibration check (calibration.h), so grids and chains fill one table of per-field
// posteriors: the weight of grid point (row i, column j) is exp(log L - max log L) (0 where
// log L is not finite); each parameter's marginal sums the weights over the other axis.
// Mean and sd (ddof 0) are moments of the discrete marginal over the grid points. The 68% / 95%
// intervals are the 16/84 and 2.5/97.5 percentiles of the marginal with each point's weight
// spread evenly over its cell (point +- half a grid step), clipped to the first and last grid
// point. r_hat and ess_bulk are NaN (no draws); z and inside_* compare with field.truth (NaN
// truth: NaN z, never inside).
#pragma once

#include "diffuscope/infer/baselines/calibration.h"
#include "diffuscope/infer/grids/grid_scan.h"

namespace ds {

// Percentile (q in [0, 100]) of weights on an ascending, evenly spaced axis under the cell rule
// above. Throws InvalidArgument for sizes that differ, fewer than 2 points or a zero total weight.
double grid_marginal_percentile(const std::vector<double>& axis, const std::vector<double>& weights,
                                double q);

// Omega_m then sigma_8. Throws InvalidArgument when no log L value is finite.
FieldCalibration check_grid(const CalibrationField& field, const GridScan& scan);

}  // namespace ds
