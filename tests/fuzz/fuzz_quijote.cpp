// Quijote halo catalogues (data/quijote.cpp): FoF group_tab sub-files of snapshot 4 and the
// conversion of a simulation folder with its latin_hypercube_params.txt to a point-cloud
// dataset; also processed [sims, halos, 7] .npy clouds.
// Input: <group_tab_004.0> sep <group_tab_004.1> sep <params text>, where sep is kFileSeparator;
// when the first part starts with the .npy magic it is read as processed clouds instead.
#include <string_view>

#include "diffuscope/data/quijote.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = ds::fuzz::split_files(data, size, 3);
  const auto& scratch = ds::fuzz::Scratch::get();
  if (parts[0].substr(0, 6) == std::string_view("\x93NUMPY", 6)) {
    const std::string clouds = scratch.write("clouds.npy", parts[0]);
    const std::string params = scratch.write("params.txt", parts[2]);
    ds::fuzz::expect_only_ds_errors([&] { (void)ds::processed_clouds_to_dataset(clouds, params); });
    return 0;
  }
  scratch.write("sim/0/groups_004/group_tab_004.0", parts[0]);
  if (!parts[1].empty()) scratch.write("sim/0/groups_004/group_tab_004.1", parts[1]);
  scratch.write("sim/latin_hypercube_params.txt", parts[2]);
  ds::fuzz::expect_only_ds_errors([&] {
    ds::QuijoteConvertOptions options;
    options.n_halos = 4;
    (void)ds::quijote_to_dataset((scratch.dir() / "sim").string(), options);
  });
  return 0;
}
