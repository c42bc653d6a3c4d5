// Field transforms: Diffusion-HMC's constants, round trips, JSON, bad values.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "diffuscope/diffusion/transform.h"
#include "diffuscope/error.h"

namespace {

TEST(FieldTransform, DiffusionHmcConstantsMapTheirRangeToPlusMinusOne) {
  const auto t = ds::FieldTransform::diffusion_hmc();
  EXPECT_NEAR(t.to_model(std::pow(10.0, 9.421)), -1.0, 1e-12);
  EXPECT_NEAR(t.to_model(std::pow(10.0, 15.445)), 1.0, 1e-12);
  // x = log10(map), x_n = (x - 9.421) / (15.445 - 9.421) * 2 - 1 (reference document)
  EXPECT_NEAR(t.to_model(1e12), (12.0 - 9.421) / (15.445 - 9.421) * 2 - 1, 1e-12);
}

TEST(FieldTransform, RoundTripsForEveryKind) {
  const std::vector<ds::FieldTransform> transforms{ds::FieldTransform::diffusion_hmc(),
                                                   ds::FieldTransform::affine(0.2, 3.5),
                                                   ds::FieldTransform::identity()};
  for (const auto& t : transforms) {
    SCOPED_TRACE(t.describe());
    for (double x : {1e10, 3.3e11, 7e13, 2e15}) {
      EXPECT_NEAR(t.to_physical(t.to_model(x)) / x, 1.0, 1e-12);
    }
    for (double m : {-1.3, -0.2, 0.0, 0.7, 1.1})
      EXPECT_NEAR(t.to_model(t.to_physical(m)), m, 1e-12);
    const auto back = ds::FieldTransform::from_json(t.to_json());
    EXPECT_EQ(back.kind, t.kind);
    EXPECT_EQ(back.to_json(), t.to_json());
  }
  std::vector<float> values{1e10f, 5e12f, 3e14f};
  const auto original = values;
  const auto t = ds::FieldTransform::diffusion_hmc();
  t.to_model(values);
  t.to_physical(values);
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(values[i] / original[i], 1.0f, 1e-5f);
}

TEST(FieldTransform, FitsItsConstants) {
  const std::vector<float> positive{1e10f, 1e12f, 1e14f};
  const auto minmax = ds::FieldTransform::fit_log10_min_max(positive);
  EXPECT_NEAR(minmax.lo, 10.0, 1e-6);
  EXPECT_NEAR(minmax.hi, 14.0, 1e-6);
  const auto affine = ds::FieldTransform::fit_affine({1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_DOUBLE_EQ(affine.offset, 2.5);
  EXPECT_NEAR(affine.scale, std::sqrt(5.0 / 3.0), 1e-12);
}

TEST(FieldTransform, AFloorAdmitsEmptyPixelsAndRoundTrips) {
  const std::vector<float> with_zero{0.0f, 1.0f, 2.0f, 5.0f};  // mean 2
  EXPECT_THROW(ds::FieldTransform::fit_log10_min_max(with_zero), ds::InvalidArgument);
  const auto t = ds::FieldTransform::fit_log10_min_max(with_zero, 0.01);
  EXPECT_DOUBLE_EQ(t.floor, 0.02);
  EXPECT_NEAR(t.lo, std::log10(0.02), 1e-12);
  EXPECT_NEAR(t.hi, std::log10(5.02), 1e-7);
  EXPECT_DOUBLE_EQ(t.to_model(0.0), -1.0);
  EXPECT_NEAR(t.to_model(5.0), 1.0, 1e-7);
  for (double x : {0.0, 0.5, 3.0}) EXPECT_NEAR(t.to_physical(t.to_model(x)), x, 1e-12);
  const auto back = ds::FieldTransform::from_json(t.to_json());
  EXPECT_DOUBLE_EQ(back.floor, 0.02);
  EXPECT_THROW(t.to_model(-0.5), ds::InvalidArgument);
  // No zero: no floor, the plain transform.
  EXPECT_DOUBLE_EQ(ds::FieldTransform::fit_log10_min_max({1.0f, 10.0f}, 0.01).floor, 0.0);
  EXPECT_THROW(ds::FieldTransform::log10_min_max(0.0, 1.0, -1.0), ds::InvalidArgument);
}

TEST(FieldTransform, RefusesValuesLog10CannotTake) {
  std::vector<float> values{1e11f, 0.0f, 1e12f};
  try {
    ds::FieldTransform::diffusion_hmc().to_model(values);
    FAIL() << "zero accepted";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("index 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ds::FieldTransform::log10_min_max(2.0, 1.0), ds::InvalidArgument);
  EXPECT_THROW(ds::FieldTransform::affine(0.0, 0.0), ds::InvalidArgument);
  EXPECT_THROW(ds::FieldTransform::from_json("{\"kind\": \"sqrt\"}"), ds::InvalidArgument);
  EXPECT_THROW(ds::FieldTransform::from_json("{\"kind\": \"affine\"}"), ds::InvalidArgument);
}

}  // namespace
