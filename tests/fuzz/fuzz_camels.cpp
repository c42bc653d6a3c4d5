// CAMELS map stacks (data/camels.cpp): a .npy stack named as CAMELS names it, its params table
// (data/text_table.cpp), and the conversion of the first maps to a dataset.
// Input: <npy bytes> kFileSeparator <params text>.
#include "diffuscope/data/camels.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = ds::fuzz::split_files(data, size, 2);
  const auto& scratch = ds::fuzz::Scratch::get();
  const std::string maps = scratch.write("Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy", parts[0]);
  scratch.write("params_LH_IllustrisTNG.txt", parts[1]);
  ds::fuzz::expect_only_ds_errors([&] {
    ds::CamelsMaps camels(maps);
    ds::CamelsConvertOptions options;
    options.count = 2;
    options.downsample = camels.resolution() % 2 == 0 ? 2 : 1;
    (void)camels.to_dataset(options);
  });
  return 0;
}
