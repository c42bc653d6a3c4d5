#include "diffuscope/infer/baselines/grf_likelihood.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/runtime.h"
#include "numerics/fft.h"
#include "numerics/parallel.h"

namespace ds {

namespace {

void require_grid(int n, double box_size) {
  require_field_size(n);
  if (n % 2)
    throw InvalidArgument("GRF grid size " + std::to_string(n) +
                          " is odd: the model's Nyquist modes need an even size");
  if (!(box_size > 0.0) || !std::isfinite(box_size))
    throw InvalidArgument("GRF box size " + std::to_string(box_size) + " must be positive");
}

// Visits the independent modes of the half plane (power_spectrum_2d's enumeration), DC
// excluded: mode(i, j, m2, weight) with m2 = kx^2 + ky^2 in grid units and weight 1 for a complex
// mode, 1/2 for a self-conjugate one.
template <class F>
void for_each_independent_mode(int n, F mode) {
  const int middle = n / 2;
  for (int i = 0; i < n; ++i) {
    const int kx = i > middle ? i - n : i;  // index n/2 is +n/2
    for (int j = 0; j <= middle; ++j) {
      const bool edge = j == 0 || j == middle;
      if (edge && kx < 0) continue;  // conjugate of a mode already visited
      if (kx == 0 && j == 0) continue;
      const bool self_conjugate = edge && (kx == 0 || kx == middle);
      mode(i, j, kx * kx + j * j, self_conjugate ? 0.5 : 1.0);
    }
  }
}

}  // namespace

std::vector<double> grid_distinct_wavenumbers(int n, double box_size) {
  require_grid(n, box_size);
  std::vector<char> present(std::size_t(n) * n / 2 + 1, 0);
  for_each_independent_mode(n, [&](int, int, int m2, double) { present[m2] = 1; });
  std::vector<double> k;
  const double k_fundamental = 2.0 * M_PI / box_size;
  for (std::size_t m2 = 1; m2 < present.size(); ++m2)
    if (present[m2]) k.push_back(k_fundamental * std::sqrt(double(m2)));
  return k;
}

GrfLikelihood::GrfLikelihood(const double* delta, const GrfSettings& settings,
                             const Cosmology& background)
    : settings_(settings), background_(background) {
  init(delta);
}

GrfLikelihood::GrfLikelihood(const Field2D& field, double slab_thickness,
                             const Cosmology& background)
    : background_(background) {
  settings_.n = field.n;
  settings_.box_size = field.box_size;
  settings_.slab_thickness = slab_thickness;
  const std::size_t size = std::size_t(field.n) * std::max(field.n, 0);
  if (field.values.size() != size || size == 0)
    throw InvalidArgument("GRF likelihood: field holds " + std::to_string(field.values.size()) +
                          " values, expected " + std::to_string(size));
  if (field.kind == FieldKind::Contrast) {
    init(field.values.data());
    return;
  }
  double mean = 0.0;
  for (double v : field.values) mean += v;
  mean /= double(size);
  if (!(mean > 0.0) || !std::isfinite(mean))
    throw InvalidArgument("GRF likelihood: the mean of a density field must be positive");
  std::vector<double> delta(size);
  for (std::size_t i = 0; i < size; ++i) delta[i] = field.values[i] / mean - 1.0;
  init(delta.data());
}

void GrfLikelihood::init(const double* delta) {
  const int n = settings_.n;
  require_grid(n, settings_.box_size);
  if (!(settings_.slab_thickness > 0.0) || !std::isfinite(settings_.slab_thickness))
    throw InvalidArgument("GRF likelihood: slab thickness must be positive");
  background_.validate();
  const std::size_t size = std::size_t(n) * n;
  for (std::size_t i = 0; i < size; ++i)
    if (!std::isfinite(delta[i]))
      throw InvalidArgument("GRF likelihood: the field has a non-finite value at index " +
                            std::to_string(i));

  auto& fft = detail::RealFft2d::for_this_thread(n);
  std::copy(delta, delta + size, fft.real());
  fft.forward();
  const std::complex<double>* modes = fft.complex();
  const int half = fft.half();

  // Bin by m2 = |k|^2 in grid units: the model's variance depends on |k| only.
  std::vector<int> bin_of(size / 2 + 1, -1);
  for_each_independent_mode(n, [&](int, int, int m2, double) { bin_of[m2] = 0; });
  int bins = 0;
  for (int& b : bin_of)
    if (b == 0) b = bins++;
  k_.assign(bins, 0.0);
  weight_.assign(bins, 0.0);
  power_.assign(bins, 0.0);
  const double k_fundamental = 2.0 * M_PI / settings_.box_size;
  const double norm = std::pow(settings_.box_size / double(size), 2);  // (L/N^2)^2
  for_each_independent_mode(n, [&](int i, int j, int m2, double w) {
    const int b = bin_of[m2];
    k_[b] = k_fundamental * std::sqrt(double(m2));
    weight_[b] += w;
    power_[b] += w * std::norm(modes[std::size_t(i) * half + j]) * norm;
  });

  // The generator's table has the same k grid for every cosmology (it depends on n, L and the
  // slab only), so the interpolation stencils are computed once here.
  const ProjectedPowerSpectrum table = grf_spectrum_2d(background_, settings_);
  stencils_.resize(bins);
  for (int b = 0; b < bins; ++b) stencils_[b] = table.stencil(k_[b]);

  panels_ = std::make_shared<Panels>();
  tables_ = std::make_shared<TableCache>();
}

// ln P_b(Omega_m, sigma_8 = 1) on panel p as a Chebyshev series, from the tables at the panel's
// Chebyshev nodes: c_m = (2 / N) sum_j f(x_j) T_m(x_j) (c_0 halved).
const std::vector<double>& GrfLikelihood::panel(int p) const {
  Panels& panels = *panels_;
  std::call_once(panels.once[p], [&] {
    const int terms = kOmegaMTerms;
    const std::size_t bins = stencils_.size();
    const double width = prior_.omega_m.width() / kOmegaMPanels;
    const double lo = prior_.omega_m.lo + p * width;
    std::vector<std::vector<double>> node_values(terms);
    for (int j = 0; j < terms; ++j) {
      const double x = std::cos(M_PI * (j + 0.5) / terms);
      log_spectrum_direct(lo + 0.5 * (x + 1.0) * width, 1.0, node_values[j]);
    }
    std::vector<double>& c = panels.coefficients[p];
    c.assign(bins * terms, 0.0);
    for (std::size_t b = 0; b < bins; ++b)
      for (int m = 0; m < terms; ++m) {
        double sum = 0.0;
        for (int j = 0; j < terms; ++j)
          sum += node_values[j][b] * std::cos(M_PI * m * (j + 0.5) / terms);
        c[b * terms + m] = (m == 0 ? 1.0 : 2.0) * sum / terms;
      }
  });
  return panels.coefficients[p];
}

void GrfLikelihood::log_spectrum_direct(double omega_m, double sigma_8,
                                        std::vector<double>& out) const {
  Cosmology c = background_;
  c.omega_m = omega_m;
  c.sigma_8 = sigma_8;
  const ProjectedPowerSpectrum table = grf_spectrum_2d(c, settings_);
  out.resize(stencils_.size());
  for (std::size_t b = 0; b < stencils_.size(); ++b) out[b] = table.log_value(stencils_[b]);
}

void GrfLikelihood::log_spectrum(double omega_m, double sigma_8, std::vector<double>& out,
                                 std::vector<double>* d_omega_m) const {
  // The panel, x in [-1, 1] on it, T_m(x) and T_m'(x) = m U_{m-1}(x), then one dot product per
  // bin.
  const int terms = kOmegaMTerms;
  const double width = prior_.omega_m.width() / kOmegaMPanels;
  const int p =
      std::min(std::max(int((omega_m - prior_.omega_m.lo) / width), 0), kOmegaMPanels - 1);
  const std::vector<double>& coefficients = panel(p);
  const double x = 2.0 * (omega_m - prior_.omega_m.lo - p * width) / width - 1.0;
  double t[kOmegaMTerms], dt[kOmegaMTerms];
  double u_prev = 0.0, u = 1.0;  // U_{m-2}, U_{m-1}
  t[0] = 1.0;
  t[1] = x;
  dt[0] = 0.0;
  dt[1] = 1.0;
  for (int m = 2; m < terms; ++m) {
    t[m] = 2.0 * x * t[m - 1] - t[m - 2];
    const double u_next = 2.0 * x * u - u_prev;  // U_{m-1}
    u_prev = u;
    u = u_next;
    dt[m] = m * u;
  }
  const double scale = 2.0 / width;  // dx / dOmega_m
  const double log_amplitude = 2.0 * std::log(sigma_8);
  const std::size_t bins = stencils_.size();
  out.resize(bins);
  if (d_omega_m) d_omega_m->resize(bins);
  for (std::size_t b = 0; b < bins; ++b) {
    const double* c = coefficients.data() + b * terms;
    double value = 0.0, slope = 0.0;
    for (int m = 0; m < terms; ++m) {
      value += c[m] * t[m];
      slope += c[m] * dt[m];
    }
    out[b] = value + log_amplitude;
    if (d_omega_m) (*d_omega_m)[b] = slope * scale;
  }
}

std::shared_ptr<const std::vector<double>> GrfLikelihood::unit_spectrum(double omega_m) const {
  TableCache& cache = *tables_;
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    const auto it = cache.tables.find(omega_m);
    if (it != cache.tables.end()) return it->second;
  }
  auto table = std::make_shared<std::vector<double>>();
  log_spectrum_direct(omega_m, 1.0, *table);
  std::lock_guard<std::mutex> lock(cache.mutex);
  // A bounded cache: a grid revisits its columns; past the bound it starts afresh.
  if ((cache.tables.size() + 1) * table->size() > kCachedTableValues) cache.tables.clear();
  cache.tables.emplace(omega_m, table);
  return table;
}

void GrfLikelihood::log_spectrum_tabulated(double omega_m, double sigma_8,
                                           std::vector<double>& out) const {
  const auto table = unit_spectrum(omega_m);
  const double log_amplitude = 2.0 * std::log(sigma_8);
  out.resize(table->size());
  for (std::size_t b = 0; b < out.size(); ++b) out[b] = (*table)[b] + log_amplitude;
}

std::vector<double> GrfLikelihood::model_spectrum(double omega_m, double sigma_8) const {
  prior_.require_inside(omega_m, sigma_8);
  std::vector<double> log_p;
  log_spectrum_tabulated(omega_m, sigma_8, log_p);
  for (double& v : log_p) v = std::exp(v);
  return log_p;
}

GrfLogLikelihood GrfLikelihood::evaluate(double omega_m, double sigma_8, bool with_gradient) const {
  prior_.require_inside(omega_m, sigma_8);
  std::vector<double> log_p, d_log_p;
  if (with_gradient)
    log_spectrum(omega_m, sigma_8, log_p, &d_log_p);
  else
    log_spectrum_tabulated(omega_m, sigma_8, log_p);
  GrfLogLikelihood out;
  double value = 0.0, d_omega_m = 0.0, d_log = 0.0;
  for (std::size_t b = 0; b < log_p.size(); ++b) {
    const double ratio = power_[b] * std::exp(-log_p[b]);  // S_b / P_b
    value -= ratio + weight_[b] * log_p[b];
    if (with_gradient) {
      const double residual = ratio - weight_[b];
      d_log += residual;
      d_omega_m += residual * d_log_p[b];
    }
  }
  out.value = value;
  if (with_gradient) {
    out.gradient[0] = d_omega_m;
    out.gradient[1] = d_log * 2.0 / sigma_8;
  }
  return out;
}

double GrfLikelihood::log_likelihood(double omega_m, double sigma_8) const {
  return evaluate(omega_m, sigma_8, false).value;
}

std::vector<GrfLogLikelihood> GrfLikelihood::evaluate(
    const std::vector<std::array<double, 2>>& thetas, bool with_gradient,
    const JobContext& job) const {
  for (const auto& theta : thetas) prior_.require_inside(theta[0], theta[1]);
  std::vector<GrfLogLikelihood> out(thetas.size());
  // Points are independent, so each result is the same whichever thread computes it.
  detail::parallel_for(
      thetas.size(), thread_count(),
      [&](std::size_t i) { out[i] = evaluate(thetas[i][0], thetas[i][1], with_gradient); }, job,
      "GRF likelihood");
  return out;
}

}  // namespace ds
