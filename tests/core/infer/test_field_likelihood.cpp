// The likelihoods of one observation (core/infer/field_likelihood.h) and ObservedLogDensity: each
// equals the density built by hand, bad observations are refused naming the origin and the
// problem, and the observer sees exactly the points a caller evaluates.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/data/npy.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/exact_grf.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"
#include "diffuscope/infer/field_likelihood.h"
#include "diffuscope/mock/field_set.h"

namespace {

const std::string kDir = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/";

ds::Field2D grf_mock(int n) {
  ds::MockFieldSettings s;
  s.kind = ds::MockFieldKind::Grf;
  s.n = n;
  return ds::make_field_generator(s, ds::Cosmology{})->draw(3);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ds::InvalidArgument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(FieldLikelihood, ExactGrfEqualsTheGrfLikelihoodAndRefusesDensities) {
  const ds::Field2D field = grf_mock(32);
  ASSERT_EQ(field.kind, ds::FieldKind::Contrast);
  const auto likelihood = ds::exact_grf_likelihood(field, "mock");
  const ds::GrfLikelihood direct(field);
  std::vector<double> values, gradients;
  likelihood->evaluate({0.3, 0.8, 0.25, 0.9}, 2, values, &gradients);
  EXPECT_DOUBLE_EQ(values[0], direct.log_likelihood(0.3, 0.8));
  EXPECT_DOUBLE_EQ(values[1], direct.log_likelihood(0.25, 0.9));
  EXPECT_EQ(gradients.size(), 4u);

  ds::Field2D density = field;
  density.kind = ds::FieldKind::Density;
  const std::string refused = message_of([&] { ds::exact_grf_likelihood(density, "map.npy"); });
  EXPECT_NE(refused.find("map.npy"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Gaussian-random-field"), std::string::npos) << refused;
  ds::Field2D holed = field;
  holed.values[5] = std::nan("");
  const std::string nan = message_of([&] { ds::exact_grf_likelihood(holed, "holed.npy"); });
  EXPECT_NE(nan.find("holed.npy: pixel (0, 5)"), std::string::npos) << nan;
}

TEST(FieldLikelihood, VlbOfAPhysicalFieldEqualsTheVlbOfItsModelSpaceValues) {
  const auto model = ds::DiffusionModel2d::load(kDir + "checkpoint_tiny.pt");
  const auto x0 = ds::read_npy(kDir + "vlb_x0.npy");
  const int n = int(std::lround(std::sqrt(double(x0.data.size()))));
  ds::VlbSettings settings;
  settings.t_max = 3;
  settings.noise = ds::VlbNoiseMode::Common;
  settings.draws = 2;
  settings.seed = 4;
  // By hand: the model-space field straight into the VLB.
  std::vector<float> model_space(x0.data.begin(), x0.data.end());
  ds::VlbLogLikelihood by_hand(std::make_shared<ds::TruncatedVlb>(model, model_space, n, settings),
                               2);
  // Through the factory: the same field in physical units.
  std::vector<float> physical = model_space;
  model.transform.to_physical(physical);
  ds::Field2D field;
  field.n = n;
  field.box_size = 25.0;
  field.values.assign(physical.begin(), physical.end());
  const auto vlb = ds::vlb_likelihood(model, field, settings, "field.npy");
  std::vector<double> a, b;
  by_hand.evaluate({0.3, 0.8}, 1, a, nullptr);
  vlb->evaluate({0.3, 0.8}, 1, b, nullptr);
  EXPECT_NEAR(b[0], a[0], 1e-3 * std::abs(a[0]));

  // A size the network cannot take and a value the transform cannot take are refused by name.
  ds::Field2D odd = field;
  odd.n = n - 2;
  odd.values.resize(std::size_t(odd.n) * std::size_t(odd.n));
  const std::string size = message_of([&] { ds::vlb_likelihood(model, odd, settings, "odd.npy"); });
  EXPECT_NE(size.find("odd.npy"), std::string::npos) << size;
  ds::Field2D negative = field;
  negative.values[0] = -1.0;
  const std::string neg =
      message_of([&] { ds::vlb_likelihood(model, negative, settings, "neg.npy"); });
  EXPECT_NE(neg.find("neg.npy: the model's transform cannot take this field"), std::string::npos)
      << neg;
}

TEST(ObservedLogDensity, ReportsEveryEvaluatedBatchAfterEvaluatingIt) {
  const ds::Field2D field = grf_mock(32);
  auto inner = ds::exact_grf_posterior(std::make_shared<const ds::GrfLikelihood>(field));
  std::vector<std::vector<double>> seen;
  std::vector<double> seen_values;
  const ds::ObservedLogDensity observed(
      inner,
      [&](const std::vector<double>& thetas, std::size_t batch, const std::vector<double>& values) {
        seen.push_back(std::vector<double>(thetas.begin(), thetas.begin() + 2 * batch));
        seen_values.insert(seen_values.end(), values.begin(), values.begin() + batch);
      });
  std::vector<double> values;
  observed.evaluate({0.3, 0.8, 0.7, 0.8}, 2, values, nullptr);  // the second is outside the box
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<double>{0.3, 0.8, 0.7, 0.8}));
  EXPECT_EQ(seen_values, values);
  EXPECT_TRUE(std::isinf(values[1]));
  EXPECT_EQ(observed.dimension(), 2u);
  EXPECT_EQ(observed.ranges(), inner->ranges());
}
