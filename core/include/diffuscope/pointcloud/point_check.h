// How well a halo emulator follows held-out mocks (issue 7, "its kNN-CDF (k = 1, 5, 9) and 2PCF
// compared with held-out mocks at several cosmologies"): for every cosmology of a reference set
// with several clouds per cosmology (a `single`, `cv` or `1p` halo set), draw clouds from the model
// at those parameters and compare their statistics with the mocks':
//   - kNN-CDFs of k = 1, 5, 9 (5000 uniform queries, radii 5..250 Mpc/h) and the 2PCF on the
//     published bins (linspace(0.5, 150, 25) Mpc/h, natural estimator);
//   - per statistic, the diagonal reduced chi^2 of each generated cloud against the mocks' mean and
//     scatter (Diffusion-HMC eq. 10), next to the same for each mock against the other mocks
//     (leave-one-out): what a perfect emulator would score;
//   - summaries a reader can judge a cosmology trend by: the median k-th neighbour distance
//     (radius where the kNN-CDF crosses 1/2) and the mean xi over 10-50 Mpc/h, generated and mock.
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/pointcloud/point_model.h"

namespace ds {

struct PointCheckSettings {
  int samples = 10;  // generated clouds per cosmology
  std::uint64_t seed = 0;
  PointSampleSettings sampler;  // ancestral 100 by default (seed overridden per cosmology)
  std::vector<int> ks{1, 5, 9};
  int queries = 5000;
};

struct PointCheckRow {
  std::vector<double> theta;  // the cosmology
  int mocks = 0, generated = 0;
  // [ks.size()] median k-th neighbour distance (Mpc/h): mean over clouds, generated and mock
  std::vector<double> knn_median_generated, knn_median_mock;
  double xi_generated = 0.0, xi_mock = 0.0;  // mean xi over 10-50 Mpc/h
  double knn_chi2_generated = 0.0, knn_chi2_loo = 0.0;  // mean reduced chi^2
  double xi_chi2_generated = 0.0, xi_chi2_loo = 0.0;
};

// Throws InvalidArgument when the reference set is not a Points set, has fewer features than the
// model, or no cosmology with >= 3 clouds.
std::vector<PointCheckRow> check_point_emulator(const PointCloudModel& model,
                                                const Dataset& reference,
                                                const PointCheckSettings& settings,
                                                const JobContext& job = {});

}  // namespace ds
