// Text chain files (infer/chains/chain_getdist.cpp, chain_csv.cpp, chain_files.cpp): a GetDist root
// (ROOT_1.txt, ROOT_2.txt, ROOT.paramnames, ROOT.ranges) and a CSV chain file.
// Input: <chain 1> sep <chain 2> sep <paramnames> sep <ranges>, with sep kFileSeparator. The
// first part is also read as a CSV chain file.
#include "diffuscope/infer/chains/chain_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = ds::fuzz::split_files(data, size, 4);
  const auto& scratch = ds::fuzz::Scratch::get();
  const std::string csv = scratch.write("chains.csv", parts[0]);
  ds::fuzz::expect_only_ds_errors([&] { (void)ds::read_chains(csv); });
  scratch.write("root_1.txt", parts[0]);
  if (!parts[1].empty()) scratch.write("root_2.txt", parts[1]);
  if (!parts[2].empty()) scratch.write("root.paramnames", parts[2]);
  if (!parts[3].empty()) scratch.write("root.ranges", parts[3]);
  ds::fuzz::expect_only_ds_errors(
      [&] { (void)ds::read_chains((scratch.dir() / "root").string()); });
  return 0;
}
