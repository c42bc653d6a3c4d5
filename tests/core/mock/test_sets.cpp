// Set layouts (LH strata, 1P shared seeds, CV fiducial, single) and field sets as datasets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "../test_helpers.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/sets.h"

TEST(MockSets, LatinHypercubePutsOneCosmologyInEveryStratumOfEachParameter) {
  ds::SetDesign design;
  design.kind = ds::SetKind::LatinHypercube;
  design.n_cosmo = 50;
  design.per_cosmo = 3;
  design.seed = 4;
  const auto samples = ds::make_set(design);
  ASSERT_EQ(samples.size(), 150u);
  std::vector<int> om_strata(50, 0), s8_strata(50, 0);
  std::set<std::uint64_t> seeds;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    EXPECT_EQ(s.cosmology, int(i / 3));
    seeds.insert(s.seed);
    if (i % 3) {  // maps of one cosmology share its parameters
      EXPECT_EQ(s.omega_m, samples[i - 1].omega_m);
      continue;
    }
    ASSERT_TRUE(ds::kDefaultPrior.contains(s.omega_m, s.sigma_8));
    ++om_strata[int((s.omega_m - 0.1) / 0.4 * 50)];
    ++s8_strata[int((s.sigma_8 - 0.6) / 0.4 * 50)];
  }
  for (int k = 0; k < 50; ++k) {
    EXPECT_EQ(om_strata[k], 1) << "Omega_m stratum " << k;
    EXPECT_EQ(s8_strata[k], 1) << "sigma_8 stratum " << k;
  }
  EXPECT_EQ(seeds.size(), 150u);  // distinct seeds
  // A different seed gives a different hypercube; the same seed the same one.
  auto other = design;
  other.seed = 5;
  EXPECT_NE(ds::make_set(other)[0].omega_m, samples[0].omega_m);
  EXPECT_EQ(ds::make_set(design)[0].omega_m, samples[0].omega_m);
}

TEST(MockSets, OneParameterSetReusesTheSameSeedsForEveryValue) {
  ds::SetDesign design;
  design.kind = ds::SetKind::OneParameter;
  design.n_cosmo = 5;
  design.per_cosmo = 4;
  design.seed = 9;
  const auto samples = ds::make_set(design);
  ASSERT_EQ(samples.size(), 2u * 5 * 4);
  const double om_values[] = {0.1, 0.2, 0.3, 0.4, 0.5}, s8_values[] = {0.6, 0.7, 0.8, 0.9, 1.0};
  for (int p = 0; p < 2; ++p)
    for (int v = 0; v < 5; ++v)
      for (int m = 0; m < 4; ++m) {
        const auto& s = samples[std::size_t((p * 5 + v) * 4 + m)];
        EXPECT_EQ(s.seed, samples[std::size_t(m)].seed) << "value " << v << " map " << m;
        EXPECT_NEAR(s.omega_m, p == 0 ? om_values[v] : 0.3, 1e-12);
        EXPECT_NEAR(s.sigma_8, p == 1 ? s8_values[v] : 0.8, 1e-12);
        EXPECT_EQ(s.cosmology, p * 5 + v);
      }
  EXPECT_NE(samples[0].seed, samples[1].seed);
}

TEST(MockSets, CosmicVarianceAndSingleSets) {
  ds::SetDesign design;
  design.kind = ds::SetKind::CosmicVariance;
  design.n_cosmo = 3;
  design.per_cosmo = 5;
  const auto cv = ds::make_set(design);
  ASSERT_EQ(cv.size(), 15u);
  std::set<std::uint64_t> seeds;
  for (const auto& s : cv) {
    EXPECT_EQ(s.omega_m, 0.3);
    EXPECT_EQ(s.sigma_8, 0.8);
    seeds.insert(s.seed);
  }
  EXPECT_EQ(seeds.size(), 15u);
  design.kind = ds::SetKind::Single;
  design.omega_m = 0.25;
  design.sigma_8 = 0.9;
  for (const auto& s : ds::make_set(design)) {
    EXPECT_EQ(s.omega_m, 0.25);
    EXPECT_EQ(s.sigma_8, 0.9);
  }
  design.omega_m = 0.7;
  EXPECT_THROW(ds::make_set(design), ds::InvalidArgument);
  design.omega_m = 0.3;
  design.per_cosmo = 0;
  EXPECT_THROW(ds::make_set(design), ds::InvalidArgument);
}

TEST(MockSets, FieldSetsAreByteIdenticalForOneAndTwoThreadsAndRoundTripThroughHdf5) {
  const auto dir = dstest::scratch_dir("mock-sets");
  for (const auto& entry : ds::kFieldKinds.entries()) {
    ds::MockFieldSettings settings;
    settings.kind = entry.value;
    settings.n = 32;
    ds::SetDesign design;
    design.kind = ds::SetKind::LatinHypercube;
    design.n_cosmo = 3;
    design.per_cosmo = 2;
    design.seed = 123;
    const ds::Dataset one = ds::generate_field_set(settings, design, {}, 1);
    const ds::Dataset two = ds::generate_field_set(settings, design, {}, 2);
    ASSERT_EQ(one.shape, (std::vector<std::size_t>{6, 32, 32})) << entry.name;
    EXPECT_EQ(one.samples, two.samples) << entry.name;
    EXPECT_EQ(one.params, two.params);
    EXPECT_EQ(one.generator, entry.name);
    EXPECT_EQ(one.source, "mock");
    EXPECT_EQ(one.set_kind, ds::SetKind::LatinHypercube);
    EXPECT_EQ(one.param_names, (std::vector<std::string>{"Omega_m", "sigma_8"}));
    // Maps of one cosmology differ (distinct seeds); each map is the generator's draw.
    EXPECT_FALSE(std::equal(one.sample(0), one.sample(0) + 1024, one.sample(1)));
    const auto generator =
        ds::make_field_generator(settings, ds::sample_cosmology(ds::make_set(design)[3]));
    const auto field = generator->draw(ds::make_set(design)[3].seed);
    for (std::size_t p = 0; p < 1024; ++p) ASSERT_EQ(one.sample(3)[p], float(field.values[p]));
    const std::string path = (dir / (std::string(entry.name) + ".h5")).string();
    ds::write_dataset_hdf5(path, one);
    const ds::Dataset back = ds::read_dataset_hdf5(path);
    EXPECT_EQ(back.samples, one.samples);
    EXPECT_EQ(back.params, one.params);
    EXPECT_EQ(back.units, ds::mock_field_units(entry.value));
    EXPECT_EQ(back.seed, 123u);
  }
}

TEST(MockSets, CancellationStopsAFieldSet) {
  ds::CancellationToken token;
  token.request();
  ds::MockFieldSettings settings;
  settings.n = 16;
  ds::SetDesign design;
  design.kind = ds::SetKind::CosmicVariance;
  design.n_cosmo = 1;
  design.per_cosmo = 10;
  EXPECT_THROW(ds::generate_field_set(settings, design, ds::JobContext({}, token), 2),
               ds::Cancelled);
}
