// Likelihood grid files, HDF5 (infer/grids/grid_scan.cpp's reader).
#include "diffuscope/infer/grids/grid_scan.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("grid.h5", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] { (void)ds::read_grid_scan(path); });
  return 0;
}
