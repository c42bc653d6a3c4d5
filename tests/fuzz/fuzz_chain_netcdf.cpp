// ArviZ InferenceData chains, netCDF-4 / HDF5 (infer/chains/chain_netcdf.cpp).
#include "diffuscope/infer/chains/chain_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("chains.nc", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] { (void)ds::read_arviz_netcdf(path); });
  return 0;
}
