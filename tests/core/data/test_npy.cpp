#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../test_helpers.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"

namespace fs = std::filesystem;

namespace {
std::string expect_file_error(const std::string& path) {
  try {
    ds::read_npy(path);
  } catch (const ds::FileError& e) {
    EXPECT_EQ(e.path(), path);
    return e.reason();
  }
  ADD_FAILURE() << "no FileError for " << path;
  return {};
}
}  // namespace

TEST(Npy, RoundTripsFloat64AndFloat32) {
  const auto dir = dstest::scratch_dir("npy-roundtrip");
  const std::vector<double> data = {1.0, -2.5, 3.25, 1e-300, 7.0, 8.0};
  ds::write_npy((dir / "a.npy").string(), {2, 3}, data);
  const auto a = ds::read_npy((dir / "a.npy").string());
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.data, data);
  ds::write_npy((dir / "b.npy").string(), {6}, data, true);
  const auto b = ds::read_npy((dir / "b.npy").string());
  EXPECT_EQ(b.dtype, "<f4");
  EXPECT_EQ(b.shape, (std::vector<std::size_t>{6}));
  EXPECT_FLOAT_EQ(float(b.data[2]), 3.25f);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 2)
      << "no temporary files left behind";
}

TEST(Npy, ReadsThePeerFiles) {
  const auto a = ds::read_npy(dstest::testdata("goldens/pk2d_a_delta.npy"));
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{64, 64}));
}

TEST(Npy, ReportsMissingCorruptTruncatedAndNonFiniteFiles) {
  const auto dir = dstest::scratch_dir("npy-errors");
  EXPECT_NE(expect_file_error((dir / "missing.npy").string()).find("cannot open"),
            std::string::npos);
  std::ofstream((dir / "text.npy").string()) << "hello world, not numpy";
  EXPECT_NE(expect_file_error((dir / "text.npy").string()).find("not a NumPy"), std::string::npos);

  ds::write_npy((dir / "full.npy").string(), {100}, std::vector<double>(100, 1.0));
  fs::copy_file(dir / "full.npy", dir / "cut.npy");
  fs::resize_file(dir / "cut.npy", fs::file_size(dir / "full.npy") - 17);
  EXPECT_NE(expect_file_error((dir / "cut.npy").string()).find("truncated"), std::string::npos);

  ds::write_npy((dir / "nan.npy").string(), {3}, {1.0, std::nan(""), 2.0});
  EXPECT_NE(expect_file_error((dir / "nan.npy").string()).find("non-finite"), std::string::npos);
}

TEST(Npy, FailedWriteLeavesTheTargetUntouched) {
  const auto dir = dstest::scratch_dir("npy-atomic");
  const std::string target = (dir / "keep.npy").string();
  ds::write_npy(target, {2}, {1.0, 2.0});
  EXPECT_THROW(ds::write_npy(target, {3}, {1.0, 2.0}), ds::InvalidArgument);  // shape mismatch
  EXPECT_EQ(ds::read_npy(target).data, (std::vector<double>{1.0, 2.0}));
  EXPECT_THROW(ds::write_npy((dir / "no/such/dir/x.npy").string(), {1}, {1.0}), ds::FileError);
}
