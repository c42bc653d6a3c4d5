// .npy files (data/npy.cpp): the header parser, the whole-array reader and the memory map that
// CAMELS stacks are read through.
#include <vector>

#include "diffuscope/data/npy.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("input.npy", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] { ds::read_npy(path, true); });
  ds::fuzz::Scratch::get().write("input.npy", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] {
    ds::NpyMap map(path);
    const std::size_t n = map.header().count();
    std::vector<float> out(n < 4096 ? n : 4096);
    map.read(0, out.size(), out.data(), false);
    if (n > 0) map.read(n - 1, 1, out.data(), true);
  });
  return 0;
}
