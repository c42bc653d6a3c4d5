#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "../test_helpers.h"
#include "data/hdf5_file.h"
#include "data_fixtures.h"
#include "diffuscope/data/inspect.h"
#include "diffuscope/error.h"

TEST(Inspect, PlainNpyFieldsWithParamsConvertAndDownsample) {
  const auto dir = dstest::scratch_dir("inspect-npy");
  std::vector<float> f(2 * 4 * 4, 1.0f);
  dstest::write_raw_npy((dir / "f.npy").string(),
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 4), }",
                        dstest::bytes_of(f));
  std::ofstream(dir / "p.txt") << "0.3 0.8\n0.4 0.7\n";
  ds::ConvertOptions o;
  o.params_path = (dir / "p.txt").string();
  o.downsample = 2;
  const auto d = ds::load_as_dataset((dir / "f.npy").string(), o);
  EXPECT_EQ(d.shape, (std::vector<std::size_t>{2, 2, 2}));
  EXPECT_DOUBLE_EQ(d.param(1, 0), 0.4);
  EXPECT_EQ(d.box_size, 25.0);
  const std::string text = ds::describe_input((dir / "f.npy").string());
  EXPECT_NE(text.find("kind: fields"), std::string::npos) << text;
  EXPECT_NE(text.find("shape: [2, 4, 4]"), std::string::npos) << text;
}

TEST(Inspect, WrongRankIsRefused) {
  const auto dir = dstest::scratch_dir("inspect-rank");
  dstest::write_raw_npy((dir / "r4.npy").string(),
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 2), }",
                        std::string(32, '\0'));
  EXPECT_THROW(ds::classify_input((dir / "r4.npy").string()), ds::FileError);
  EXPECT_THROW(ds::classify_input((dir / "notes.txt").string()), ds::FileError);
}

TEST(Inspect, Hdf5WithoutTheExpectedDatasetsIsRefused) {
  const auto dir = dstest::scratch_dir("inspect-h5");
  const std::string path = (dir / "other.h5").string();
  auto file = ds::detail::Hdf5File::create(path);
  const double x = 1.0;
  file.write("/something_else", {1}, &x);
  file.close();
  try {
    ds::read_dataset_hdf5(path);
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("no /fields or /points"), std::string::npos) << e.what();
  }
}

TEST(Inspect, UnwritableOutputLeavesNothing) {
  const auto dir = dstest::scratch_dir("inspect-unwritable");
  std::vector<float> f(16, 1.0f);
  dstest::write_raw_npy((dir / "f.npy").string(),
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
                        dstest::bytes_of(f));
  const auto d = ds::load_as_dataset((dir / "f.npy").string(), {});
  EXPECT_THROW(ds::write_dataset_hdf5((dir / "missing" / "out.h5").string(), d), ds::FileError);
  std::filesystem::create_directory(dir / "readonly");
  std::filesystem::permissions(
      dir / "readonly", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  if (::geteuid() != 0) {  // root ignores permissions
    EXPECT_THROW(ds::write_dataset_hdf5((dir / "readonly" / "out.h5").string(), d), ds::FileError);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir / "readonly"));
}
