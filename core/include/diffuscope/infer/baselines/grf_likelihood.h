// Exact log-likelihood of a 2D density-contrast field under the model of cosmological_grf_2d
// (mock/gaussian_field.h): a zero-mean Gaussian random field on a periodic N x N grid of side L
// whose unnormalised FFT has E|delta_k|^2 (L/N^2)^2 = P_2D(|k|; Omega_m, sigma_8), P_2D the
// slab-projected spectrum of grf_spectrum_2d (the very table the generator colours with).
//
// The independent Fourier modes are those of power_spectrum_2d (half plane; on the ky = 0 and
// ky = N/2 lines only kx >= 0), DC excluded. With sigma_k^2 = P_2D(|k|) N^4 / L^2:
//   a complex mode (real and imaginary parts independent, each of variance sigma_k^2 / 2)
//     contributes -|delta_k|^2 / sigma_k^2 - ln sigma_k^2,
//   a self-conjugate (real) mode, (kx, ky) in {0, N/2}^2, is one real Gaussian of variance
//     sigma_k^2 and contributes -delta_k^2 / (2 sigma_k^2) - ln(sigma_k^2) / 2,
// up to constants. Written with per-mode weights w = 1 (complex) or 1/2 (real) and summed over
// the distinct |k| of the grid (bins b), dropping the parameter-independent constants:
//   ln L = -sum_b [ S_b / P_b + W_b ln P_b ],
//   S_b = sum_{modes in b} w |delta_k|^2 (L/N^2)^2,   W_b = sum_{modes in b} w.
// The gradient is sum_b (S_b / P_b - W_b) d ln P_b / d theta with d ln P_b / d sigma_8 =
// 2 / sigma_8 exactly (P is proportional to sigma_8^2).
//
// Two ways to ln P_b, both exact up to the figures below. P_2D is proportional to sigma_8^2, so
// only its Omega_m dependence needs tables:
//  - a value without the gradient (grid scans, model_spectrum) comes from the P_2D table at the
//    point's Omega_m, kept per Omega_m (a grid needs one table per column, about a millisecond
//    each);
//  - a value with the gradient (HMC, NUTS) comes from Chebyshev series of ln P_b(Omega_m, 1) on
//    kOmegaMPanels equal panels of the prior's Omega_m range, each built on first use from the
//    tables at its kOmegaMTerms Chebyshev nodes: a point costs one dot product per bin instead of
//    three tables, and d ln P_b / d Omega_m is the series' own derivative.
// The two agree to 1e-11 nats in a 1000 Mpc/h box and to 3e-7 (64x64) and 2.5e-5 nats (256x256)
// in 25 Mpc/h: there the undamped baryon term of the EH98 transfer function makes ln P_2D
// oscillate in Omega_m at ~1e-10 of its value, finer than a smooth series follows
// (tests/core/infer/baselines/test_grf_likelihood.cpp bounds it by 1e-4 nats).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/mock/gaussian_field.h"

namespace ds {

struct GrfLogLikelihood {
  double value = 0.0;                // ln L (see above), dimensionless
  std::array<double, 2> gradient{};  // d ln L / d(Omega_m, sigma_8); zero when not requested
};

// The distinct |k| of an n x n grid of side box_size (h/Mpc), ascending, DC excluded.
std::vector<double> grid_distinct_wavenumbers(int n, double box_size);

class GrfLikelihood {
 public:
  // ln P_b(Omega_m) as Chebyshev series on kOmegaMPanels equal panels of the prior's Omega_m
  // range, kOmegaMTerms terms each (a panel costs that many P_2D tables, on first use).
  static constexpr int kOmegaMPanels = 32;
  static constexpr int kOmegaMTerms = 16;
  // delta: settings.n x settings.n row-major density contrast (settings.n even, 16..512; its
  // mean, the DC mode, is ignored). background: Omega_b, h, n_s, T_CMB of the model (its Omega_m
  // and sigma_8 are ignored). Throws InvalidArgument for a bad size or non-finite values.
  GrfLikelihood(const double* delta, const GrfSettings& settings, const Cosmology& background = {});
  // A Contrast field is used as is; a Density field is turned into field / mean - 1 first.
  explicit GrfLikelihood(const Field2D& field,
                         double slab_thickness = ProjectedPowerSpectrum::kDefaultSlabThickness,
                         const Cosmology& background = {});

  // ln L at (Omega_m, sigma_8) (from the table at Omega_m, see above); throws InvalidArgument
  // outside the prior box.
  double log_likelihood(double omega_m, double sigma_8) const;
  // With the gradient: from the Omega_m series; without: from the table at Omega_m (see above).
  GrfLogLikelihood evaluate(double omega_m, double sigma_8, bool with_gradient = true) const;

  // Many points at once (grid scans, HMC chains), spread over thread_count() threads; the result
  // does not depend on the thread count. Throws InvalidArgument naming the first point outside
  // the prior before evaluating anything.
  std::vector<GrfLogLikelihood> evaluate(const std::vector<std::array<double, 2>>& thetas,
                                         bool with_gradient, const JobContext& job = {}) const;

  // P_2D of the model at wavenumbers(), (Mpc/h)^2.
  std::vector<double> model_spectrum(double omega_m, double sigma_8) const;

  const std::vector<double>& wavenumbers() const { return k_; }         // h/Mpc, ascending
  const std::vector<double>& mode_weights() const { return weight_; }   // W_b
  const std::vector<double>& weighted_power() const { return power_; }  // S_b, (Mpc/h)^2
  const GrfSettings& settings() const { return settings_; }
  const Prior& prior() const { return prior_; }

 private:
  void init(const double* delta);
  // ln P_b for every bin at one cosmology (no prior check): from the Chebyshev series (with
  // d ln P_b / d Omega_m when asked), or from a table computed there.
  void log_spectrum(double omega_m, double sigma_8, std::vector<double>& out,
                    std::vector<double>* d_omega_m) const;
  void log_spectrum_direct(double omega_m, double sigma_8, std::vector<double>& out) const;
  // From the table at omega_m, kept per Omega_m (ln P_b at sigma_8 = 1).
  void log_spectrum_tabulated(double omega_m, double sigma_8, std::vector<double>& out) const;
  std::shared_ptr<const std::vector<double>> unit_spectrum(double omega_m) const;

  GrfSettings settings_;
  Cosmology background_;
  Prior prior_ = kDefaultPrior;
  std::vector<double> k_, weight_, power_;
  std::vector<ProjectedPowerSpectrum::Stencil> stencils_;  // of grf_spectrum_2d's table at k_
  // Panel p's series, [bins, kOmegaMTerms] of ln P_b(Omega_m, sigma_8 = 1), built once on first
  // use (thread-safe; shared by copies).
  struct Panels {
    std::once_flag once[kOmegaMPanels];
    std::vector<double> coefficients[kOmegaMPanels];
  };
  const std::vector<double>& panel(int p) const;
  std::shared_ptr<Panels> panels_;
  // Tables per Omega_m, up to kCachedTableValues doubles in all (then it starts afresh).
  static constexpr std::size_t kCachedTableValues = std::size_t(1) << 22;  // 32 MB
  struct TableCache {
    std::mutex mutex;
    std::map<double, std::shared_ptr<const std::vector<double>>> tables;
  };
  std::shared_ptr<TableCache> tables_;
};

}  // namespace ds
