// The halo-emulator check: per cosmology of a 1P reference set, kNN-CDF and 2PCF of generated
// clouds against the mocks, next to the mocks' own leave-one-out scatter.
#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/pointcloud/point_check.h"

namespace {

ds::Dataset reference_set() {
  ds::HaloCatalogueSettings halos;
  halos.n_halos = 300;
  halos.mesh = 32;
  ds::SetDesign design;
  design.kind = ds::SetKind::OneParameter;
  design.n_cosmo = 3;  // 0.1/0.3/0.5 in Omega_m and 0.6/0.8/1.0 in sigma_8: 5 cosmologies
  design.per_cosmo = 8;
  design.seed = 11;
  return ds::generate_halo_set(halos, ds::HaloFeatures::Positions, design);
}

ds::PointCloudModel random_model(const ds::Dataset& reference) {
  ds::PointNetConfig net;
  net.n_features = 3;
  net.k = 6;
  net.hidden = 16;
  net.mlp_layers = 1;
  net.latent = 8;
  net.message_passing = 1;
  net.cond_mlp = {16, 8};
  const auto transform = ds::PointTransform::fit(reference.samples, 3, reference.feature_names,
                                                 reference.box_size);
  return ds::PointCloudModel::with_random_weights(net, transform, 3);
}

}  // namespace

TEST(PointCheck, MocksAgreeWithThemselvesAndAnUntrainedModelDoesNot) {
  const auto reference = reference_set();
  const auto model = random_model(reference);
  ds::PointCheckSettings settings;
  settings.samples = 3;
  settings.sampler.steps = 8;
  settings.queries = 1000;
  const auto rows = ds::check_point_emulator(model, reference, settings);
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    // The fiducial 0.3/0.8 is in both one-parameter sweeps.
    const bool fiducial = std::abs(row.theta[0] - 0.3) < 1e-9 && std::abs(row.theta[1] - 0.8) < 1e-9;
    EXPECT_EQ(row.mocks, fiducial ? 16 : 8);
    EXPECT_EQ(row.generated, 3);
    ASSERT_EQ(row.knn_median_mock.size(), 3u);
    // Higher neighbour orders reach further.
    EXPECT_LT(row.knn_median_mock[0], row.knn_median_mock[1]);
    EXPECT_LT(row.knn_median_mock[1], row.knn_median_mock[2]);
    // 300 halos in (1 Gpc/h)^3: the Poisson median 1st-neighbour distance of a random query is
    // (3 ln 2 / (4 pi n))^(1/3) = 82 Mpc/h; clustering leaves more empty space, so a bit more.
    EXPECT_GT(row.knn_median_mock[0], 75.0);
    EXPECT_LT(row.knn_median_mock[0], 130.0);
    EXPECT_GT(row.xi_mock, 0.0);  // halos are clustered on 10-50 Mpc/h
    // Each mock against the other seven: reduced chi^2 of order one (about 1.7 for Gaussian
    // bins: the variance is estimated from 7 clouds); the untrained network's clouds are nothing
    // like halos.
    EXPECT_GT(row.knn_chi2_loo, 0.3);
    EXPECT_LT(row.knn_chi2_loo, 6.0);
    EXPECT_GT(row.knn_chi2_generated, 10.0 * row.knn_chi2_loo);
  }
  // The 1P trend of the mocks: clustering grows with sigma_8 at fixed Omega_m.
  const auto at = [&](double om, double s8) {
    for (const auto& r : rows)
      if (std::abs(r.theta[0] - om) < 1e-9 && std::abs(r.theta[1] - s8) < 1e-9) return r;
    ADD_FAILURE() << "no row at " << om << ", " << s8;
    return rows.front();
  };
  EXPECT_LT(at(0.3, 0.6).xi_mock, at(0.3, 1.0).xi_mock);
}

TEST(PointCheck, RefusesSetsItCannotUse) {
  const auto reference = reference_set();
  const auto model = random_model(reference);
  ds::Dataset fields;
  fields.kind = ds::SampleKind::Fields;
  fields.shape = {3, 8, 8};
  ds::PointCheckSettings settings;
  EXPECT_THROW(ds::check_point_emulator(model, fields, settings), ds::InvalidArgument);
  settings.samples = 1;
  EXPECT_THROW(ds::check_point_emulator(model, reference, settings), ds::InvalidArgument);
}
