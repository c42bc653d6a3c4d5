// The statistics of a halo catalogue that an emulator is judged by, on one set of bins shared by
// the emulated catalogues and the mocks they are compared with: kNN-CDFs (Banerjee & Abel 2021),
// the two-point correlation function, the cumulative mass function (when the catalogue has
// masses) and the mean pairwise radial velocity v12(r) (when it has velocities). The app's halo
// statistics panel and the point-model report (report.h) both measure through this header, so
// the two show the same numbers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/stats/ensemble.h"

namespace ds {

struct HaloStatisticBins {
  std::vector<int> ks{1, 5, 9};
  int queries = 20000;             // uniform random query points of the kNN-CDFs
  std::uint64_t query_seed = 1;    // their seed (uniform_queries)
  std::vector<double> radii;       // Mpc/h, of the kNN-CDFs
  std::vector<double> xi_edges;    // Mpc/h
  std::vector<double> logm_edges;  // log10 (M / (Msun/h)); empty: no mass function
  std::vector<double> v12_edges;   // Mpc/h
};

// Bins for catalogues of n_points halos in a periodic box: `radii` log-spaced radii of the CDFs
// around the mean separation s = box / n^(1/3) (0.08 s .. 2.5 s; the k-th neighbour of a Poisson
// set sits at about (3k / 4 pi n)^(1/3)), 12 log bins of xi from xi_max / 15 to xi_max =
// min(box / 6, 3 s), 10 bins of v12 over the same separations (a mean over pairs: the smallest
// bin holds about 30 pairs in a 1000-halo catalogue). No mass bins (set_mass_edges).
HaloStatisticBins halo_statistic_bins(std::int64_t n_points, double box_size, int radii = 40);

// 12 linear bins of log10 mass spanning every mass of the given catalogues (the mocks').
void set_mass_edges(HaloStatisticBins& bins, const std::vector<std::vector<double>>& log10_masses);

// A catalogue split into what the statistics read. From rows in the layout
// x y z [vx vy vz [log10_mass]] (`features` columns: >= 3; velocities from 6, masses from 7), the
// positions wrapped periodically into [0, box) (an ODE may leave a halo a hair outside).
struct HaloCatalogueColumns {
  PointCloud points;
  std::vector<double> log10_mass;                 // empty without masses
  std::vector<std::array<double, 3>> velocities;  // empty without velocities
};
HaloCatalogueColumns halo_catalogue_columns(const float* rows, std::int64_t n_points, int features,
                                            double box_size);

struct HaloStatistics {
  std::vector<std::vector<double>> knn;  // [k][radius]
  std::vector<double> xi;                // per xi bin
  std::vector<double> n_greater;         // (Mpc/h)^-3 per mass edge; empty without masses
  std::vector<double> v12;  // km/s per v12 bin, NaN for a bin without pairs; empty without
                            // velocities
};

// `threads`: of the kNN, pair and velocity loops (0: thread_count()). Cancellable between
// statistics.
HaloStatistics measure_halo_statistics(const HaloCatalogueColumns& catalogue,
                                       const HaloStatisticBins& bins, int threads = 1,
                                       const JobContext& job = {});

// The 16-84% envelope of a statistic with empty bins (NaN): per bin the mean and percentiles over
// the samples with a value there, NaN where none has (ensemble_envelope for one without).
Envelope finite_envelope(const SampleSet& set);

// The emulator test of Diffusion-HMC eq. 10 on any statistic: the diagonal reduced chi^2 of each
// generated sample against the mocks' mean and scatter (mean and sd over the generated samples),
// next to each mock against the other mocks (leave-one-out). Bins where the mocks do not scatter
// with any one of them left out (a kNN-CDF at 0 or 1, an empty v12 bin) carry no information and
// are left out of both; `bins_used` counts the rest. Needs >= 3 mocks; generated samples with a
// non-finite used bin are skipped (`generated` counts those used; chi2 is infinite when none is).
struct EmulatorChi2 {
  double chi2 = 0.0, chi2_sd = 0.0, loo = 0.0, loo_sd = 0.0;
  int generated = 0, bins_used = 0;
};
EmulatorChi2 emulator_chi2(const SampleSet& generated, const SampleSet& mocks);

}  // namespace ds
