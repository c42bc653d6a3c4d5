#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../test_helpers.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/error.h"

namespace fs = std::filesystem;

namespace {
ds::Dataset small_fields() {
  ds::Dataset d;
  d.kind = ds::SampleKind::Fields;
  d.shape = {3, 4, 4};
  for (int i = 0; i < 48; ++i) d.samples.push_back(0.25f * i);
  d.param_names = {"Omega_m", "sigma_8"};
  d.params = {0.1, 0.6, 0.3, 0.8, 0.5, 1.0};
  d.box_size = 25.0;
  d.set_kind = ds::SetKind::LatinHypercube;
  d.source = "mock";
  d.generator = "grf";
  d.seed = 1234567890123ULL;
  d.units = "density contrast";
  return d;
}

std::string expect_file_error(const std::string& path) {
  try {
    ds::read_dataset_hdf5(path);
  } catch (const ds::FileError& e) {
    EXPECT_EQ(e.path(), path);
    return e.reason();
  }
  ADD_FAILURE() << "no FileError for " << path;
  return {};
}
}  // namespace

TEST(Dataset, FieldsRoundTripThroughHdf5) {
  const auto dir = dstest::scratch_dir("dataset-fields");
  const auto d = small_fields();
  const std::string path = (dir / "f.h5").string();
  ds::write_dataset_hdf5(path, d);
  const auto r = ds::read_dataset_hdf5(path);
  EXPECT_EQ(r.kind, ds::SampleKind::Fields);
  EXPECT_EQ(r.shape, d.shape);
  EXPECT_EQ(r.samples, d.samples);
  EXPECT_EQ(r.params, d.params);
  EXPECT_EQ(r.param_names, d.param_names);
  EXPECT_EQ(r.box_size, 25.0);
  EXPECT_EQ(r.set_kind, ds::SetKind::LatinHypercube);
  EXPECT_EQ(r.source, "mock");
  EXPECT_EQ(r.generator, "grf");
  EXPECT_EQ(r.seed, d.seed);
  EXPECT_EQ(r.units, "density contrast");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(Dataset, PointsRoundTripWithFeatureNames) {
  const auto dir = dstest::scratch_dir("dataset-points");
  ds::Dataset d;
  d.kind = ds::SampleKind::Points;
  d.shape = {2, 5, 3};
  d.samples.assign(30, 1.5f);
  d.feature_names = {"x", "y", "z"};
  d.param_names = {"Omega_m", "sigma_8"};
  d.params = {0.3, 0.8, 0.31, 0.81};
  d.box_size = 1000.0;
  d.set_kind = ds::SetKind::CosmicVariance;
  const std::string path = (dir / "p.h5").string();
  ds::write_dataset_hdf5(path, d);
  const auto r = ds::read_dataset_hdf5(path);
  EXPECT_EQ(r.kind, ds::SampleKind::Points);
  EXPECT_EQ(r.feature_names, d.feature_names);
  EXPECT_EQ(r.samples, d.samples);
  EXPECT_EQ(r.sample_size(), 15u);
}

TEST(Dataset, InvalidDatasetsAreRefusedBeforeWriting) {
  const auto dir = dstest::scratch_dir("dataset-invalid");
  auto d = small_fields();
  d.samples[7] = std::nanf("");
  EXPECT_THROW(ds::write_dataset_hdf5((dir / "nan.h5").string(), d), ds::InvalidArgument);
  d = small_fields();
  d.params.pop_back();
  EXPECT_THROW(ds::write_dataset_hdf5((dir / "params.h5").string(), d), ds::InvalidArgument);
  d = small_fields();
  d.shape = {3, 4, 2};
  d.samples.resize(24);
  EXPECT_THROW(ds::write_dataset_hdf5((dir / "square.h5").string(), d), ds::InvalidArgument);
  EXPECT_TRUE(fs::is_empty(dir)) << "nothing written for invalid input";
  EXPECT_THROW(ds::write_dataset_hdf5((dir / "missing/dir/x.h5").string(), small_fields()),
               ds::FileError);
}

TEST(Dataset, BadFilesNameTheProblem) {
  const auto dir = dstest::scratch_dir("dataset-bad");
  EXPECT_NE(expect_file_error((dir / "none.h5").string()).find("does not exist"),
            std::string::npos);
  std::ofstream((dir / "text.h5").string()) << "not hdf5";
  EXPECT_NE(expect_file_error((dir / "text.h5").string()).find("not an HDF5 file"),
            std::string::npos);
  const std::string good = (dir / "good.h5").string();
  ds::write_dataset_hdf5(good, small_fields());
  fs::copy_file(good, dir / "cut.h5");
  fs::resize_file(dir / "cut.h5", fs::file_size(good) / 2);
  EXPECT_FALSE(expect_file_error((dir / "cut.h5").string()).empty());
}

TEST(Dataset, UnlabelledSamplesRoundTrip) {
  const auto dir = dstest::scratch_dir("dataset-unlabelled");
  auto d = small_fields();
  d.param_names.clear();
  d.params.clear();
  const std::string path = (dir / "u.h5").string();
  ds::write_dataset_hdf5(path, d);
  const auto r = ds::read_dataset_hdf5(path);
  EXPECT_EQ(r.param_count(), 0u);
  EXPECT_EQ(r.count(), 3u);
}

// Issue 18: an HDF5 dataset's shape is a claim of the file. A chunked dataset of 4e11 floats
// whose chunks were never written takes a few kB on disk; reading it used to allocate 1.6 TB.
TEST(Dataset, AbsurdHdf5ShapeIsRefusedBeforeAllocating) {
  const auto dir = dstest::scratch_dir("dataset-absurd");
  for (const bool compressed : {false, true}) {
    const std::string path = (dir / (compressed ? "deflate.h5" : "plain.h5")).string();
    {
      const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      const hsize_t dims[3] = {100000, 2000, 2000}, chunk[3] = {1, 64, 64};
      const hid_t space = H5Screate_simple(3, dims, nullptr);
      const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(properties, 3, chunk);
      if (compressed) H5Pset_deflate(properties, 4);
      const hid_t set =
          H5Dcreate2(file, "/fields", H5T_IEEE_F32LE, space, H5P_DEFAULT, properties, H5P_DEFAULT);
      ASSERT_GE(set, 0);
      H5Dclose(set);
      H5Pclose(properties);
      H5Sclose(space);
      H5Fclose(file);
    }
    try {
      ds::read_dataset_hdf5(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const ds::FileError& e) {
      EXPECT_EQ(e.path(), path);
      const std::string expected = std::string(
                                       "dataset /fields claims [100000, 2000, 2000] values "
                                       "of 4 bytes, more than the file's ") +
                                   std::to_string(fs::file_size(path)) + " bytes can hold" +
                                   (compressed ? " even compressed" : "");
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}
