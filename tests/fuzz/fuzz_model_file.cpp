// Diffuscope HDF5 model files (data/model_file.cpp): the modality probe every file-open dialog
// runs, and the full checkpoint reader (config, schedule, weights, EMA, optimizer, train state).
#include "diffuscope/data/model_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("model.h5", {reinterpret_cast<const char*>(data), size});
  (void)ds::model_file_modality(path);  // documented never to throw
  ds::fuzz::expect_only_ds_errors(
      [&] { ds::read_model_checkpoint(path, ds::CheckpointParts::Everything); });
  return 0;
}
