// Smoothed marginal densities of MCMC draws and credible-region levels, for the corner plot and
// the likelihood heatmap (the GUI draws what these return; contours come from contours.h).
//
// Units: every coordinate and bandwidth is in the parameter's own units; a density is per unit
// parameter (per unit^2 in 2D). Grids are uniform and include both ends of the range:
// x[k] = lo + k (hi - lo) / (points - 1). A 2D density is [ny, nx] row-major,
// density[i * nx + j] at (x[j], y[i]), the layout contour_lines takes.
//
// Method (a Gaussian kernel density estimate, binned): the draws inside the range are linearly
// binned onto a fine grid (1024 nodes in 1D, 256 x 256 in 2D, GetDist's fine_bins and
// fine_bins_2D), and the fine histogram is convolved with the kernel evaluated at the output grid
// points (in 2D separably, one axis after the other). The kernel is cut at 8 bandwidths. The
// bandwidth is never smaller than one fine-grid step or half an output-grid step, the finest
// kernel the grids resolve (this floor, not the rule, sets it for a posterior much narrower than
// the range, or for identical draws). With `reflect`, each draw also gets a mirror
// image about lo and about hi (method of images, first order): the estimate then has zero slope at
// the edges and keeps all its mass inside, which is what a hard prior edge needs. Without it the
// kernel mass past an edge is lost. Either way the result is scaled so its trapezoid integral over
// the grid is exactly 1, i.e. it is the density conditioned on the range.
//
// Bandwidths:
//   1D: Silverman's rule of thumb (Silverman 1986, eq. 3.31; R's bw.nrd0),
//       h = 0.9 * min(sd, IQR / 1.34) * n^(-1/5) * smooth_scale,
//       sd the sample standard deviation (n - 1) and IQR the interquartile range of the n draws
//       inside the range (sd alone when the IQR is 0).
//   2D: Scott's rule per axis (Scott 1992, d = 2), h_x = sd_x * n^(-1/6) * smooth_scale, the same
//       for y, with the n pairs whose x and y are both inside their ranges; the kernel is the
//       product of the two 1D Gaussians (axis-aligned, no correlation term).
//   n is the raw number of draws: correlated MCMC draws make the effective number smaller, so the
//   rules smooth a little less than they would for independent draws.
//
// How this compares to GetDist (getdist/analysis_defaults.ini; arXiv:1910.13970), the usual
// reference for cosmology corner plots. GetDist's defaults are more elaborate: an automatic
// bandwidth (improved Sheather-Jones plug-in, with the effective number of samples) in 1D and an
// automatic bandwidth *matrix* in 2D whose kernel is elliptical, following the correlation of the
// two parameters (up to max_corr_2D = 0.99); a linear boundary kernel at range edges
// (boundary_correction_order = 1), which also gets the slope at the edge right, where reflection
// forces it to zero; and multiplicative bias correction (mult_bias_correction_order = 1), which
// undoes most of the peak flattening and contour widening that smoothing causes. Ours is simpler:
// rule-of-thumb bandwidths, an axis-aligned product kernel, reflection, no bias correction. So our
// 1D curves are somewhat broader and flatter, and our 2D contours are somewhat wider, than
// GetDist's for the same draws (for a Gaussian, the 2D variances grow by a factor 1 + n^(-1/3):
// 1.05 at n = 10 000). The conventions we do follow: the same fine binning, contours at the
// levels whose super-level sets hold 68% and 95% of the smoothed mass on the grid (mass_levels),
// and densities normalised over the plotted range.
#pragma once

#include <cstddef>
#include <vector>

namespace ds {

// A 1D marginal: density[k] at x[k], [points] each; the trapezoid integral over [lo, hi] is 1.
struct Density1d {
  std::vector<double> x, density;
  double bandwidth = 0;  // the kernel's standard deviation, parameter units
};

// A 2D marginal: x [nx], y [ny], density [ny, nx] row-major as contour_lines takes it; the
// trapezoid integral over the rectangle is 1.
struct Density2d {
  std::vector<double> x, y;
  std::vector<double> density;
  double bandwidth_x = 0, bandwidth_y = 0;
};

// A closed interval [lo, hi] of one parameter, typically its prior box or the plotted range.
struct Range1d {
  double lo, hi;
};

// Kernel density estimate of `draws` on `points` points over `range` (see the file comment for
// the bandwidth rule and boundary treatment). Draws outside [lo, hi] (and non-finite ones) are
// ignored. Choose a range near the draws' support: with a range much wider than the posterior the
// fine grid (and the output grid) under-resolve the kernel.
// Throws InvalidArgument for no draws (or none inside the range), a non-finite range or
// lo >= hi, points < 2, or smooth_scale not finite and > 0.
Density1d kde_1d(const std::vector<double>& draws, Range1d range, int points = 128,
                 double smooth_scale = 1.0, bool reflect = true);

// The 2D analogue for the pairs (x[k], y[k]) (a product Gaussian kernel, Scott's rule per axis,
// reflection at all four edges). A pair with either coordinate outside its range is ignored.
// Throws InvalidArgument for x.size() != y.size() and as kde_1d does.
Density2d kde_2d(const std::vector<double>& x, const std::vector<double>& y, Range1d range_x,
                 Range1d range_y, int points = 96, double smooth_scale = 1.0, bool reflect = true);

// Thresholds t_m such that the cells with density >= t_m hold (at least, by the smallest cell
// that reaches it) a fraction masses[m] of the total mass, the cells weighted equally (a uniform
// grid): the levels of the highest-density credible regions, e.g. masses {0.68, 0.95}, to fill or
// to pass to contour_lines. One threshold per mass, in the order given. Non-finite and
// non-positive cells hold no mass. Works on any layout (the map is only a list of cells).
// Throws InvalidArgument for a mass outside (0, 1) or no finite positive cell.
std::vector<double> mass_levels(const std::vector<double>& density,
                                const std::vector<double>& masses);

// The posterior on a likelihood grid under a flat prior: p = exp(log_like - max) over the finite
// cells, normalised to sum 1 (a probability per cell, not a density). Non-finite cells (NaN, -inf,
// +inf) get 0, so the result holds no NaN. Same shape as log_like. Subtracting the maximum keeps
// log likelihoods of any magnitude from under- or overflowing.
// Throws InvalidArgument when no cell is finite.
std::vector<double> normalised_grid_posterior(const std::vector<double>& log_like);

// Rank plot counts (Vehtari et al. 2021, Bayesian Analysis 16, 667; ArviZ plot_rank): the draws
// of one parameter, values[chain * draws + draw], are ranked over all chains together (average
// ranks for ties, 1..N, N = chains * draws), and each chain's ranks are counted in `bins`
// equal-width bins over [0, N] (the last bin closed). Returns [chains, bins] row-major counts;
// each row sums to `draws`. For chains that sample the same distribution every bin expects
// draws / bins; a chain stuck high or low piles up at one end.
// Throws InvalidArgument for values.size() != chains * draws, no draws, bins < 1, or a
// non-finite value.
std::vector<double> rank_histograms(const std::vector<double>& values, std::size_t chains,
                                    std::size_t draws, int bins = 20);

}  // namespace ds
