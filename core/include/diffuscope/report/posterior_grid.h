// A field's posterior on a grid fine enough to read its intervals from (report.h, calibration):
// the likelihood (no prior; defined on the prior box) is evaluated on a coarse n_coarse x
// n_coarse grid over the prior box, then on windows of window_points x window_points around the
// maximum, each axis with its own half-width, until every marginal sd spans at least
// cells_per_sd grid steps and the 1-sigma region (-2 Delta ln L <= 2.30) touches no window edge
// that is not the prior's own edge.
//
// Window of the next level, per parameter: centred on the maximum (on the peak of the quadratic
// below when the grid does not sample the posterior), half-width
// window_sigmas * sd, with sd the marginal sd of the grid when it spans half a grid step or
// more, otherwise the sd of the Gaussian whose log density matches a quadratic fitted to the
// 3 x 3 grid points around the maximum (the marginal sd from the inverse Hessian, kept within
// [step / 20, step]; a third of a step when the fit is not concave). A posterior the grid samples
// (sd >= half a step) also keeps the extent of its 2-sigma region in the window (skewed and
// prior-truncated posteriors reach further than +-3 sd from the maximum), and a window that cut
// the 1-sigma region grows past it by its own width on that side. The grid is clipped to the prior
// box. At most max_levels windows; the last grid is the result.
//
// Rows of a grid (one sigma_8 value each) are evaluated as one batch; cancellation is checked
// between rows.
#pragma once

#include <cstddef>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/baselines/calibration.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "diffuscope/jobs/job.h"

namespace ds {

struct PosteriorGridSettings {
  // Defaults sized for the default model's report on 2 CPU cores (a VLB point at T_MAX 20 costs
  // about 0.3 s): a window's step is 5.5 / 8 = 0.69 sd, so a window sized from a good sd estimate
  // passes the 1.25-cells test with 16% to spare, its 68% interval spans ~2.9 cells and it holds
  // +-2.75 sd (0.6% of a Gaussian's mass outside per parameter).
  int coarse_points = 5;  // per axis over the prior box, >= 3
  int window_points = 9;  // per axis of each window, >= 5
  double window_sigmas = 2.75;
  double cells_per_sd = 1.25;
  int max_levels = 4;  // windows after the coarse grid, >= 1
  // Climb to the maximum before the first window: a pattern search from the best coarse point
  // (the 8 neighbours at +-h per axis in one batch; move to a better one, else halve h; h starts at
  // half a coarse step) until the neighbours lie within -2 Delta ln L < 8 of the centre or h is
  // 1e-5 of the box, at most climb_iterations stencils. The first window is then centred on the
  // climbed maximum, sized by a quadratic fitted to its last stencil. For likelihoods far sharper
  // than the coarse step, whose narrow ridge a 5 x 5 scan misses (a halo model's ELBO: sd ~0.003
  // against a coarse step of 0.1): without the climb the windows creep along the ridge and stop
  // at a false maximum. Off by default (the field reports were made without it).
  bool climb = false;
  int climb_iterations = 60;
  Prior prior = kDefaultPrior;
};

struct PosteriorGrid {
  GridScan scan;                // the final grid (log_like, axes, maximum, delta_chi2)
  int levels = 0;               // windows evaluated after the coarse grid
  std::size_t climb_evaluations = 0;  // of those below, spent by the climb
  std::size_t evaluations = 0;  // likelihood points evaluated in all
  bool resolved = false;        // the stopping rule was met (else max_levels ran out)
};

// Throws InvalidArgument for bad settings or a likelihood of dimension other than 2, Cancelled
// when cancelled, and whatever the likelihood throws.
PosteriorGrid refine_posterior_grid(const LogDensity& likelihood,
                                    const PosteriorGridSettings& settings,
                                    const JobContext& job = {});

// The marginal posterior of one parameter on a grid (cell rule of grid_posterior.h).
struct GridMarginal {
  std::vector<double> axis, weights;  // weights normalised to sum 1
};
// index 0: Omega_m (sum over rows), 1: sigma_8 (sum over columns).
GridMarginal grid_marginal(const GridScan& scan, std::size_t parameter);

// The marginal CDF at x under the cell rule (the inverse of grid_marginal_percentile / 100):
// 0 below the first grid point, 1 above the last. The SBC rank statistic of a truth.
double grid_marginal_cdf(const GridMarginal& marginal, double x);

}  // namespace ds
