#include <gtest/gtest.h>

#include <cmath>

#include "../test_helpers.h"
#include "data_fixtures.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"

TEST(NpyFormats, ReadsVersions2And3AndInt64) {
  const auto dir = dstest::scratch_dir("npy-versions");
  const std::vector<std::int64_t> v = {1, -2, 3, 4};
  for (int version : {2, 3}) {
    const std::string path = (dir / ("v" + std::to_string(version) + ".npy")).string();
    dstest::write_raw_npy(path, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                          dstest::bytes_of(v), version);
    const auto a = ds::read_npy(path);
    EXPECT_EQ(a.dtype, "<i8");
    EXPECT_EQ(a.data, (std::vector<double>{1, -2, 3, 4})) << "version " << version;
    EXPECT_EQ(ds::read_npy_header(path).data_offset % 64, 0u);
  }
}

TEST(NpyFormats, FortranOrderIsTransposedToC) {
  const auto dir = dstest::scratch_dir("npy-fortran");
  // The 2 x 3 array [[0, 1, 2], [3, 4, 5]] in column-major order is 0 3 1 4 2 5.
  const std::vector<double> column_major = {0, 3, 1, 4, 2, 5};
  const std::string path = (dir / "f.npy").string();
  dstest::write_raw_npy(path, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                        dstest::bytes_of(column_major));
  const auto a = ds::read_npy(path);
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_THROW(ds::NpyMap{path}, ds::FileError);  // cannot be sliced sample by sample
}

TEST(NpyFormats, MemoryMapReadsSlicesAndChecksValues) {
  const auto dir = dstest::scratch_dir("npy-map");
  std::vector<float> values(3 * 4 * 4);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(i);
  values[40] = std::nanf("");
  const std::string path = (dir / "m.npy").string();
  dstest::write_raw_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 4), }",
                        dstest::bytes_of(values));
  const ds::NpyMap map(path);
  std::vector<float> slice(16);
  map.read(16, 16, slice.data());
  EXPECT_EQ(slice[0], 16.0f);
  EXPECT_EQ(slice[15], 31.0f);
  try {
    map.read(32, 16, slice.data());
    FAIL() << "NaN not reported";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("flat index 40"), std::string::npos) << e.what();
  }
  EXPECT_THROW(map.read(40, 16, slice.data()), ds::InvalidArgument);
}

TEST(NpyFormats, RefusesUnsupportedDtypesAndShortFiles) {
  const auto dir = dstest::scratch_dir("npy-refuse");
  const std::string big_endian = (dir / "be.npy").string();
  dstest::write_raw_npy(big_endian, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                        std::string(8, '\0'));
  try {
    ds::read_npy(big_endian);
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported dtype '>f8'"), std::string::npos);
  }
  const std::string short_file = (dir / "short.npy").string();
  dstest::write_raw_npy(short_file, "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }",
                        std::string(40, '\0'));
  try {
    ds::read_npy_header(short_file);
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
}
