// The whitelisted pickle machine (data/pickle.cpp) on raw bytes, then the JSON view that
// checkpoint metadata (model_kwargs, schedule_args) goes through.
#include "../../core/src/nets/torch_checkpoint.h"
#include "diffuscope/data/pickle.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ds::fuzz::expect_only_ds_errors([&] {
    const ds::PickleValuePtr root = ds::read_pickle(data, size, "fuzz.pkl");
    if (root->is(ds::PickleKind::Dict)) root->find("model_kwargs");
    (void)ds::nets::pickle_to_json(*root);
  });
  return 0;
}
