// Diffuscope HDF5 datasets (data/dataset.cpp over data/hdf5_file.cpp).
#include "diffuscope/data/dataset.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("dataset.h5", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] { ds::read_dataset_hdf5(path); });
  return 0;
}
