// read_observation: the one input path for observations (fields and clouds from every file kind).
#include <gtest/gtest.h>

#include <fstream>

#include "../test_helpers.h"
#include "data_fixtures.h"
#include "diffuscope/data/observation.h"
#include "diffuscope/error.h"

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

std::string npy(const std::filesystem::path& dir, const std::string& name, const char* descr,
                const std::string& shape, const std::string& payload) {
  const std::string path = (dir / name).string();
  dstest::write_raw_npy(
      path,
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }",
      payload);
  return path;
}

ds::ObservationRequest want(long index, std::optional<ds::SampleKind> kind = std::nullopt) {
  ds::ObservationRequest r;
  r.index = index;
  r.kind = kind;
  return r;
}

}  // namespace

TEST(Observation, PlainNpyStackPicksOneFieldAndKeepsFloat64) {
  const auto dir = dstest::scratch_dir("observation-npy");
  std::vector<double> v(3 * 4 * 4);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * double(i) + 1e-12;  // not a float
  const std::string path = npy(dir, "f.npy", "<f8", "(3, 4, 4)", dstest::bytes_of(v));

  const ds::ObservedSample o = ds::read_observation(path, want(2));
  EXPECT_EQ(o.kind, ds::SampleKind::Fields);
  EXPECT_EQ(o.source, ds::InputKind::NpyFields);
  EXPECT_EQ(o.shape, (std::vector<std::size_t>{1, 4, 4}));
  EXPECT_EQ(o.count, 3u);
  EXPECT_EQ(o.index, 2u);
  EXPECT_EQ(o.resolution(), 4);
  EXPECT_EQ(o.channels(), 1);
  EXPECT_FALSE(o.physical);  // a plain .npy says nothing about its units
  EXPECT_EQ(o.box_size, 0.0);
  EXPECT_FALSE(o.truth());
  ASSERT_EQ(o.values.size(), 16u);
  EXPECT_EQ(o.values[0], v[32]);  // bit for bit: float64 kept
  EXPECT_EQ(o.values[15], v[47]);
  EXPECT_EQ(o.field().values, std::vector<double>(v.begin() + 32, v.end()));

  EXPECT_NE(message_of([&] {
              ds::read_observation(path, want(-1));
            }).find("f.npy: holds 3 fields; choose one with --index"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              ds::read_observation(path, want(3));
            }).find("f.npy: has 3 fields; index 3 is out of range"),
            std::string::npos);
  // The kind asked for decides how a plain array reads: [3, 4, 4] as clouds is 3 clouds of 4
  // points with 4 columns.
  const auto cloud = ds::read_observation(path, want(1, ds::SampleKind::Points));
  EXPECT_EQ(cloud.kind, ds::SampleKind::Points);
  EXPECT_EQ(cloud.n_points(), 4u);
  EXPECT_EQ(cloud.n_features(), 4);
  EXPECT_EQ(cloud.values[0], v[16]);
}

TEST(Observation, PlainNpyShapesOfEachKind) {
  const auto dir = dstest::scratch_dir("observation-shapes");
  // [M, C, N, N]: fields of two channels.
  std::vector<float> two(2 * 2 * 4 * 4);
  for (std::size_t i = 0; i < two.size(); ++i) two[i] = float(i);
  const std::string multi = npy(dir, "c2.npy", "<f4", "(2, 2, 4, 4)", dstest::bytes_of(two));
  const auto m = ds::read_observation(multi, want(1));
  EXPECT_EQ(m.shape, (std::vector<std::size_t>{2, 4, 4}));
  EXPECT_EQ(m.channels(), 2);
  EXPECT_EQ(m.values.front(), 32.0);
  EXPECT_EQ(m.field(1).values.front(), 48.0);
  EXPECT_NE(message_of([&] { m.field(); }).find("c2.npy: holds fields of 2 channels"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              ds::read_observation(multi, want(0, ds::SampleKind::Points));
            }).find("c2.npy: holds 2D fields, not point clouds"),
            std::string::npos);

  // A rectangle is no field, with the sizes named.
  const std::string rect = npy(dir, "rect.npy", "<f4", "(4, 8)", std::string(4 * 8 * 4, '\0'));
  EXPECT_NE(message_of([&] {
              ds::read_observation(rect, want(0, ds::SampleKind::Fields));
            }).find("rect.npy: the field is 4 x 8, not square"),
            std::string::npos);
  // ... but without a kind asked for, it is a cloud of 4 points with 8 columns.
  const auto as_cloud = ds::read_observation(rect);
  EXPECT_EQ(as_cloud.kind, ds::SampleKind::Points);
  EXPECT_EQ(as_cloud.n_points(), 4u);
  EXPECT_EQ(as_cloud.n_features(), 8);

  // Clouds: [P, F], [M, P, F]; fewer than 3 columns and empty clouds are refused.
  std::vector<float> cloud(2 * 5 * 3);
  for (std::size_t i = 0; i < cloud.size(); ++i) cloud[i] = float(i);
  const std::string stack = npy(dir, "c.npy", "<f4", "(2, 5, 3)", dstest::bytes_of(cloud));
  const auto c = ds::read_observation(stack, want(1, ds::SampleKind::Points));
  EXPECT_EQ(c.shape, (std::vector<std::size_t>{5, 3}));
  EXPECT_EQ(c.values.front(), 15.0);
  EXPECT_TRUE(c.feature_names.empty());  // a plain .npy: positions first by convention
  EXPECT_NE(message_of([&] {
              ds::read_observation(stack, want(-1, ds::SampleKind::Points));
            }).find("holds 2 clouds; choose one with --index"),
            std::string::npos);
  const std::string narrow = npy(dir, "n.npy", "<f4", "(5, 2)", std::string(40, '\0'));
  EXPECT_NE(message_of([&] {
              ds::read_observation(narrow, want(0, ds::SampleKind::Points));
            }).find("n.npy: points need at least 3 columns (x, y, z), got 2"),
            std::string::npos);
  const std::string empty = npy(dir, "e.npy", "<f4", "(0, 3)", "");
  EXPECT_NE(message_of([&] {
              ds::read_observation(empty, want(-1, ds::SampleKind::Points));
            }).find("e.npy: holds an empty cloud"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              ds::read_observation((dir / "missing.npy").string());
            }).find("missing.npy: does not exist; cannot open it"),
            std::string::npos);
}

TEST(Observation, PlainNpyWithAParamsFileHasItsTruth) {
  const auto dir = dstest::scratch_dir("observation-params");
  const std::string path =
      npy(dir, "f.npy", "<f4", "(2, 4, 4)", dstest::bytes_of(std::vector<float>(32, 1.0f)));
  std::ofstream(dir / "p.txt") << "Omega_m sigma_8\n0.3 0.8\n0.4 0.7\n";
  ds::ObservationRequest r = want(1);
  r.params_path = (dir / "p.txt").string();
  const auto o = ds::read_observation(path, r);
  ASSERT_TRUE(o.truth());
  EXPECT_DOUBLE_EQ((*o.truth())[0], 0.4);
  EXPECT_DOUBLE_EQ((*o.truth())[1], 0.7);
}

TEST(Observation, Hdf5DatasetsAreReadWithUnitsBoxAndTruth) {
  const auto dir = dstest::scratch_dir("observation-h5");
  ds::Dataset fields;
  fields.kind = ds::SampleKind::Fields;
  fields.shape = {2, 4, 4};
  fields.samples.resize(32);
  for (std::size_t i = 0; i < 32; ++i) fields.samples[i] = 0.25f * float(i) - 2.0f;
  fields.param_names = {"Omega_m", "sigma_8"};
  fields.params = {0.3, 0.8, 0.35, 0.75};
  fields.box_size = 50.0;
  fields.units = "density contrast";
  fields.generator = "grf";
  const std::string f = (dir / "fields.h5").string();
  ds::write_dataset_hdf5(f, fields);

  const auto o = ds::read_observation(f, want(1, ds::SampleKind::Fields));
  EXPECT_EQ(o.source, ds::InputKind::Dataset);
  EXPECT_TRUE(o.physical);
  EXPECT_EQ(o.box_size, 50.0);
  EXPECT_EQ(o.generator, "grf");
  ASSERT_TRUE(o.truth());
  EXPECT_DOUBLE_EQ((*o.truth())[0], 0.35);
  EXPECT_DOUBLE_EQ((*o.truth())[1], 0.75);
  const ds::Field2D field = o.field();
  EXPECT_EQ(field.kind, ds::FieldKind::Contrast);
  EXPECT_EQ(field.box_size, 50.0);
  EXPECT_EQ(field.values.front(), double(fields.samples[16]));
  EXPECT_NE(message_of([&] {
              ds::read_observation(f, want(0, ds::SampleKind::Points));
            }).find("fields.h5: holds 2D fields, not point clouds"),
            std::string::npos);

  ds::Dataset clouds;
  clouds.kind = ds::SampleKind::Points;
  clouds.shape = {3, 4, 3};
  clouds.samples.assign(36, 10.0f);
  clouds.feature_names = {"x", "y", "z"};
  clouds.param_names = {"Omega_m", "sigma_8"};
  clouds.params = {0.3, 0.8, 0.3, 0.8, 0.3, 0.8};
  clouds.box_size = 1000.0;
  const std::string c = (dir / "clouds.h5").string();
  ds::write_dataset_hdf5(c, clouds);
  const auto cloud = ds::read_observation(c, want(2));
  EXPECT_EQ(cloud.kind, ds::SampleKind::Points);
  EXPECT_EQ(cloud.feature_names, clouds.feature_names);
  EXPECT_EQ(cloud.n_points(), 4u);
  EXPECT_NE(message_of([&] {
              ds::read_observation(c, want(0, ds::SampleKind::Fields));
            }).find("clouds.h5: holds point clouds, not 2D fields"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              ds::read_observation(c, want(-1));
            }).find("clouds.h5: holds 3 clouds; choose one with --index"),
            std::string::npos);
}

TEST(Observation, CamelsStackReadsOnlyTheMapAskedForWithItsSimulationsParameters) {
  const auto dir = dstest::scratch_dir("observation-camels");
  std::vector<float> maps(30 * 64);
  for (int m = 0; m < 30; ++m)
    for (int p = 0; p < 64; ++p) maps[m * 64 + p] = float(m) + 0.01f * float(p);
  const std::string path =
      npy(dir, "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy", "<f4", "(30, 8, 8)", dstest::bytes_of(maps));
  std::ofstream(dir / "params_LH_IllustrisTNG.txt")
      << "# Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2\n0.2 0.7 1 1 1 1\n0.3 0.8 1 1 1 1\n";
  const auto o = ds::read_observation(path, want(17));
  EXPECT_EQ(o.source, ds::InputKind::CamelsMaps);
  EXPECT_EQ(o.count, 30u);
  EXPECT_EQ(o.index, 17u);
  EXPECT_TRUE(o.physical);
  EXPECT_EQ(o.box_size, 25.0);
  EXPECT_FLOAT_EQ(float(o.values[0]), 17.0f);
  EXPECT_FLOAT_EQ(float(o.values[63]), 17.0f + 0.63f);
  ASSERT_TRUE(o.truth());
  EXPECT_DOUBLE_EQ((*o.truth())[0], 0.3);  // map 17: simulation 1
  EXPECT_DOUBLE_EQ((*o.truth())[1], 0.8);
  EXPECT_NE(message_of([&] {
              ds::read_observation(path, want(30));
            }).find("has 30 fields; index 30 is out of range"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              ds::read_observation(path, want(0, ds::SampleKind::Points));
            }).find("holds 2D fields, not point clouds"),
            std::string::npos);
}
