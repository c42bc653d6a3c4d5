// torch.save checkpoints (nets/torch_checkpoint.cpp): LibTorch's zip reader, the pickle machine
// over data.pkl, and the rebuilding of tensors from data/<key> storage records.
#include "../../core/src/nets/torch_checkpoint.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("checkpoint.pt", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] { ds::nets::read_torch_checkpoint(path); });
  ds::fuzz::Scratch::get().write("checkpoint.pt", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors(
      [&] { ds::nets::read_torch_checkpoint(path, "model_ema_state_dict"); });
  return 0;
}
