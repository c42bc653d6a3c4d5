#include "diffuscope/infer/diagnostics/posterior_density.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>

#include "diffuscope/error.h"

namespace ds {

namespace {

constexpr std::size_t kFineNodes1d = 1024;  // GetDist fine_bins
constexpr std::size_t kFineNodes2d = 256;   // GetDist fine_bins_2D
// Kernel support in bandwidths: exp(-8^2 / 2) = 1.3e-14 of the peak, below double rounding of
// the sums it would enter.
constexpr double kCutoff = 8.0;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

void check_range(Range1d r, const char* function, const char* name) {
  if (!std::isfinite(r.lo) || !std::isfinite(r.hi) || !(r.lo < r.hi))
    throw InvalidArgument(std::string(function) + ": range " + name + " [" + std::to_string(r.lo) +
                          ", " + std::to_string(r.hi) + "] must be finite with lo < hi");
}

void check_settings(int points, double smooth_scale, const char* function) {
  if (points < 2)
    throw InvalidArgument(std::string(function) + ": points must be >= 2, got " +
                          std::to_string(points));
  if (!std::isfinite(smooth_scale) || !(smooth_scale > 0))
    throw InvalidArgument(std::string(function) + ": smooth_scale must be finite and > 0, got " +
                          std::to_string(smooth_scale));
}

bool in_range(double v, Range1d r) {
  return v >= r.lo && v <= r.hi;
}  // false for NaN

std::vector<double> uniform_axis(Range1d r, std::size_t n) {
  std::vector<double> axis(n);
  for (std::size_t k = 0; k < n; ++k) axis[k] = r.lo + (r.hi - r.lo) * double(k) / double(n - 1);
  axis.back() = r.hi;
  return axis;
}

double fine_step(Range1d r, std::size_t nodes) {
  return (r.hi - r.lo) / double(nodes - 1);
}

// The smallest bandwidth the grids resolve: a kernel narrower than one fine step is lost in the
// binning, and one narrower than half an output step can fall between output points (a spike, or
// a density that is 0 everywhere when all draws coincide).
double min_bandwidth(Range1d r, std::size_t nodes, int points) {
  return std::max(fine_step(r, nodes), 0.5 * (r.hi - r.lo) / double(points - 1));
}

// Linear binning: a draw between nodes k and k + 1 gives them 1 - f and f. Unlike nearest-node
// binning this keeps the draws' mean, so the binned estimate has no O(step) shift.
void bin_position(double v, Range1d r, std::size_t nodes, std::size_t& k, double& f) {
  const double u = (v - r.lo) / fine_step(r, nodes);
  k = std::min(std::size_t(std::max(u, 0.0)), nodes - 2);
  f = std::clamp(u - double(k), 0.0, 1.0);
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double sum2 = 0.0;
  for (double a : v) sum2 += (a - mean) * (a - mean);
  return std::sqrt(sum2 / double(v.size() - 1));
}

// Quantile with linear interpolation between order statistics (R type 7, numpy's default).
double quantile_sorted(const std::vector<double>& sorted, double p) {
  const double h = double(sorted.size() - 1) * p;
  const std::size_t lo = std::size_t(h);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - double(lo)) * (sorted[hi] - sorted[lo]);
}

// Output point p's weights over the fine nodes first .. first + weights.size() - 1: the kernel at
// distance x_p - g_k, plus the images of g_k mirrored about lo and hi when reflecting. An image
// only reaches x_p when both lie within the cutoff of the edge, so it never widens the band.
struct KernelBand {
  std::size_t first = 0;
  std::vector<double> weights;
};

std::vector<KernelBand> kernel_bands(const std::vector<double>& out, Range1d r, std::size_t nodes,
                                     double h, bool reflect) {
  const double step = fine_step(r, nodes);
  const double reach = kCutoff * h;
  const double norm = kInvSqrt2Pi / h;
  auto kernel = [&](double d) {
    return std::abs(d) < reach ? norm * std::exp(-0.5 * (d / h) * (d / h)) : 0.0;
  };
  std::vector<KernelBand> bands(out.size());
  for (std::size_t p = 0; p < out.size(); ++p) {
    const double first = std::ceil((out[p] - reach - r.lo) / step);
    const double last = std::floor((out[p] + reach - r.lo) / step);
    const std::size_t k0 = std::size_t(std::clamp(first, 0.0, double(nodes - 1)));
    const std::size_t k1 = std::size_t(std::clamp(last, 0.0, double(nodes - 1)));
    bands[p].first = k0;
    bands[p].weights.resize(k1 - k0 + 1);
    for (std::size_t k = k0; k <= k1; ++k) {
      const double g = r.lo + step * double(k);
      double w = kernel(out[p] - g);
      if (reflect) w += kernel(out[p] - (2 * r.lo - g)) + kernel(out[p] - (2 * r.hi - g));
      bands[p].weights[k - k0] = w;
    }
  }
  return bands;
}

// Trapezoid weights of a uniform axis.
std::vector<double> trapezoid(const std::vector<double>& axis) {
  const double step = (axis.back() - axis.front()) / double(axis.size() - 1);
  std::vector<double> w(axis.size(), step);
  w.front() = w.back() = 0.5 * step;
  return w;
}

}  // namespace

Density1d kde_1d(const std::vector<double>& draws, Range1d range, int points, double smooth_scale,
                 bool reflect) {
  if (draws.empty()) throw InvalidArgument("kde_1d: no draws");
  check_range(range, "kde_1d", "");
  check_settings(points, smooth_scale, "kde_1d");

  std::vector<double> kept;
  kept.reserve(draws.size());
  for (double v : draws)
    if (in_range(v, range)) kept.push_back(v);
  if (kept.empty()) throw InvalidArgument("kde_1d: no draw inside the range");

  const std::size_t nodes = kFineNodes1d;
  std::vector<double> histogram(nodes, 0.0);
  for (double v : kept) {
    std::size_t k;
    double f;
    bin_position(v, range, nodes, k, f);
    histogram[k] += 1.0 - f;
    histogram[k + 1] += f;
  }

  std::sort(kept.begin(), kept.end());
  const double sd = sample_sd(kept);
  const double iqr = quantile_sorted(kept, 0.75) - quantile_sorted(kept, 0.25);
  double spread = std::min(sd, iqr / 1.34);
  if (!(spread > 0)) spread = sd;
  const double n = double(kept.size());
  const double h = std::max(0.9 * spread * std::pow(n, -0.2) * smooth_scale,
                            min_bandwidth(range, nodes, points));

  Density1d out;
  out.x = uniform_axis(range, std::size_t(points));
  out.bandwidth = h;
  out.density.assign(out.x.size(), 0.0);
  const auto bands = kernel_bands(out.x, range, nodes, h, reflect);
  for (std::size_t p = 0; p < out.x.size(); ++p) {
    double sum = 0.0;
    for (std::size_t k = 0; k < bands[p].weights.size(); ++k)
      sum += bands[p].weights[k] * histogram[bands[p].first + k];
    out.density[p] = sum;
  }
  const auto w = trapezoid(out.x);
  const double total = std::inner_product(w.begin(), w.end(), out.density.begin(), 0.0);
  // total > 0: every kept draw has binned weight within about one bandwidth of an output point.
  for (double& d : out.density) d /= total;
  return out;
}

Density2d kde_2d(const std::vector<double>& x, const std::vector<double>& y, Range1d range_x,
                 Range1d range_y, int points, double smooth_scale, bool reflect) {
  if (x.size() != y.size())
    throw InvalidArgument("kde_2d: x has " + std::to_string(x.size()) + " draws, y has " +
                          std::to_string(y.size()));
  if (x.empty()) throw InvalidArgument("kde_2d: no draws");
  check_range(range_x, "kde_2d", "x");
  check_range(range_y, "kde_2d", "y");
  check_settings(points, smooth_scale, "kde_2d");

  const std::size_t nodes = kFineNodes2d;
  // Fine histogram [node_y, node_x], bilinear binning.
  std::vector<double> histogram(nodes * nodes, 0.0);
  std::vector<double> kept_x, kept_y;
  kept_x.reserve(x.size());
  kept_y.reserve(y.size());
  for (std::size_t d = 0; d < x.size(); ++d) {
    if (!in_range(x[d], range_x) || !in_range(y[d], range_y)) continue;
    kept_x.push_back(x[d]);
    kept_y.push_back(y[d]);
    std::size_t kx, ky;
    double fx, fy;
    bin_position(x[d], range_x, nodes, kx, fx);
    bin_position(y[d], range_y, nodes, ky, fy);
    double* row = &histogram[ky * nodes + kx];
    row[0] += (1 - fy) * (1 - fx);
    row[1] += (1 - fy) * fx;
    row[nodes] += fy * (1 - fx);
    row[nodes + 1] += fy * fx;
  }
  if (kept_x.empty()) throw InvalidArgument("kde_2d: no draw inside the ranges");

  const double scott = std::pow(double(kept_x.size()), -1.0 / 6.0) * smooth_scale;
  Density2d out;
  out.bandwidth_x = std::max(sample_sd(kept_x) * scott, min_bandwidth(range_x, nodes, points));
  out.bandwidth_y = std::max(sample_sd(kept_y) * scott, min_bandwidth(range_y, nodes, points));
  out.x = uniform_axis(range_x, std::size_t(points));
  out.y = uniform_axis(range_y, std::size_t(points));
  const std::size_t nx = out.x.size(), ny = out.y.size();
  const auto bands_x = kernel_bands(out.x, range_x, nodes, out.bandwidth_x, reflect);
  const auto bands_y = kernel_bands(out.y, range_y, nodes, out.bandwidth_y, reflect);

  // Separable convolution: along x, fine rows -> [node_y, nx]; then along y -> [ny, nx].
  std::vector<double> along_x(nodes * nx, 0.0);
  for (std::size_t r = 0; r < nodes; ++r) {
    const double* row = &histogram[r * nodes];
    if (std::all_of(row, row + nodes, [](double v) { return v == 0.0; })) continue;
    for (std::size_t p = 0; p < nx; ++p) {
      const KernelBand& band = bands_x[p];
      double sum = 0.0;
      for (std::size_t k = 0; k < band.weights.size(); ++k)
        sum += band.weights[k] * row[band.first + k];
      along_x[r * nx + p] = sum;
    }
  }
  out.density.assign(ny * nx, 0.0);
  for (std::size_t q = 0; q < ny; ++q) {
    const KernelBand& band = bands_y[q];
    double* out_row = &out.density[q * nx];
    for (std::size_t k = 0; k < band.weights.size(); ++k) {
      const double w = band.weights[k];
      if (w == 0.0) continue;
      const double* in_row = &along_x[(band.first + k) * nx];
      for (std::size_t p = 0; p < nx; ++p) out_row[p] += w * in_row[p];
    }
  }

  const auto wx = trapezoid(out.x), wy = trapezoid(out.y);
  double total = 0.0;
  for (std::size_t q = 0; q < ny; ++q)
    for (std::size_t p = 0; p < nx; ++p) total += wy[q] * wx[p] * out.density[q * nx + p];
  for (double& d : out.density) d /= total;
  return out;
}

std::vector<double> mass_levels(const std::vector<double>& density,
                                const std::vector<double>& masses) {
  for (double m : masses)
    if (!(m > 0.0 && m < 1.0))
      throw InvalidArgument("mass_levels: mass " + std::to_string(m) + " is outside (0, 1)");
  std::vector<double> cells;
  cells.reserve(density.size());
  for (double v : density)
    if (std::isfinite(v) && v > 0.0) cells.push_back(v);
  if (cells.empty()) throw InvalidArgument("mass_levels: no finite positive cell");
  std::sort(cells.begin(), cells.end(), std::greater<double>());
  std::vector<double> cumulative(cells.size());
  std::partial_sum(cells.begin(), cells.end(), cumulative.begin());
  const double total = cumulative.back();
  std::vector<double> levels;
  levels.reserve(masses.size());
  for (double m : masses) {
    // The first cell (densest first) at which the enclosed mass reaches m: every cell at or above
    // its value is inside. m < 1 keeps the index in range.
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), m * total);
    levels.push_back(cells[std::size_t(it - cumulative.begin())]);
  }
  return levels;
}

std::vector<double> normalised_grid_posterior(const std::vector<double>& log_like) {
  double peak = -INFINITY;
  for (double v : log_like)
    if (std::isfinite(v)) peak = std::max(peak, v);
  if (!std::isfinite(peak)) throw InvalidArgument("normalised_grid_posterior: no finite cell");
  std::vector<double> p(log_like.size(), 0.0);
  double total = 0.0;
  for (std::size_t k = 0; k < log_like.size(); ++k) {
    if (!std::isfinite(log_like[k])) continue;
    p[k] = std::exp(log_like[k] - peak);
    total += p[k];
  }
  for (double& v : p) v /= total;  // total >= 1: the peak cell gives exp(0)
  return p;
}

std::vector<double> rank_histograms(const std::vector<double>& values, std::size_t chains,
                                    std::size_t draws, int bins) {
  if (chains == 0 || draws == 0) throw InvalidArgument("rank_histograms: no draws");
  if (values.size() != chains * draws)
    throw InvalidArgument("rank_histograms: " + std::to_string(values.size()) +
                          " values, expected chains * draws = " + std::to_string(chains) + " * " +
                          std::to_string(draws));
  if (bins < 1) throw InvalidArgument("rank_histograms: bins must be >= 1");
  for (double v : values)
    if (!std::isfinite(v)) throw InvalidArgument("rank_histograms: a value is not finite");

  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> rank(n);
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start + 1;
    while (end < n && values[order[end]] == values[order[start]]) ++end;
    // Ties share the average of the 1-based ranks start + 1 .. end.
    const double average = 0.5 * double(start + 1 + end);
    for (std::size_t k = start; k < end; ++k) rank[order[k]] = average;
    start = end;
  }

  const std::size_t b = std::size_t(bins);
  std::vector<double> counts(chains * b, 0.0);
  for (std::size_t c = 0; c < chains; ++c) {
    for (std::size_t d = 0; d < draws; ++d) {
      const double r = rank[c * draws + d];
      const std::size_t bin = std::min(std::size_t(r * double(b) / double(n)), b - 1);
      counts[c * b + bin] += 1.0;
    }
  }
  return counts;
}

}  // namespace ds
