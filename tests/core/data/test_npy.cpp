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

// --- Untrusted headers (issue 18): refused before anything is allocated --------------------

namespace {
// A version 1.0 .npy file with the given header dict and payload.
std::string write_raw_npy(const fs::path& dir, const std::string& name, const std::string& dict,
                          const std::string& payload) {
  const auto path = (dir / name).string();
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(char(dict.size() & 0xff)).put(char(dict.size() >> 8));
  out << dict << payload;
  return path;
}
}  // namespace

// fuzz_npy: a version 2.0 header length of 1056964666 bytes in an 86-byte file made read_npy
// allocate a gigabyte for the header text before noticing the file is short.
TEST(Npy, FuzzRegressionHeaderLengthBeyondTheFileIsRefusedBeforeAllocating) {
  const std::string path = dstest::fuzz_regression("npy_header_length_oversize.npy");
  const std::string reason = expect_file_error(path);
  EXPECT_NE(reason.find("truncated npy header: it claims 1056964666 bytes"), std::string::npos)
      << reason;
  EXPECT_THROW(ds::NpyMap{path}, ds::FileError);
}

TEST(Npy, ShapeWhoseElementCountOverflowsIsRefused) {
  const auto dir = dstest::scratch_dir("npy-overflow");
  // 2^32 x 2^32 elements wrap to 0 in 64 bits: the file would pass a plain size check.
  const auto path = write_raw_npy(
      dir, "wrap.npy",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", "");
  const std::string reason = expect_file_error(path);
  EXPECT_NE(reason.find("absurd shape (4294967296, 4294967296)"), std::string::npos) << reason;
  EXPECT_NE(reason.find("element count overflows"), std::string::npos) << reason;
  // 2^61 doubles: the count fits, the size in bytes does not.
  const auto bytes = write_raw_npy(
      dir, "bytes.npy",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }\n", "");
  EXPECT_NE(expect_file_error(bytes).find("size in bytes overflows"), std::string::npos);
  EXPECT_THROW(ds::NpyMap{path}, ds::FileError);
}

TEST(Npy, ShapeBeyondTheFileSizeIsRefusedBeforeAllocating) {
  const auto dir = dstest::scratch_dir("npy-oversize");
  const auto path = write_raw_npy(
      dir, "big.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }\n",
      std::string(16, '\0'));
  const std::string reason = expect_file_error(path);
  EXPECT_NE(reason.find("truncated: the header promises 4000000000"), std::string::npos) << reason;
}

// The header used to be parsed with std::regex, whose matcher recurses once per character: a
// 60 kB shape or descr overflowed the stack (found with a crafted input while fuzzing).
TEST(Npy, LongHeaderValuesAreRefusedWithoutOverflowingTheStack) {
  const auto dir = dstest::scratch_dir("npy-long-header");
  const auto shape = write_raw_npy(
      dir, "shape.npy",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::string(60000, '1') + "), }", "");
  EXPECT_NE(expect_file_error(shape).find("malformed shape"), std::string::npos);
  const auto descr = write_raw_npy(
      dir, "descr.npy",
      "{'descr': '" + std::string(60000, '<') + "', 'fortran_order': False, 'shape': (1,), }", "");
  EXPECT_NE(expect_file_error(descr).find("unsupported dtype"), std::string::npos);
}
