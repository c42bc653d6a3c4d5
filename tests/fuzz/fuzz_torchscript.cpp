// TorchScript archives as far as Diffuscope parses them itself (nets/torch_checkpoint.cpp and the
// format dispatch of ScoreNet2d::load): the zip container, the records that tell TorchScript from
// torch.save, and constants.pkl through the whitelisted pickle machine. torch::jit::load, which
// compiles the archive's code/ with LibTorch's own parser, is not fuzzed here (LibTorch's code,
// not ours; README "Untrusted files").
#include "../../core/src/nets/torch_checkpoint.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      ds::fuzz::Scratch::get().write("module.pt", {reinterpret_cast<const char*>(data), size});
  ds::fuzz::expect_only_ds_errors([&] {
    ds::nets::TorchArchive archive(path);
    if (archive.is_torchscript()) {
      // Tensor constants are ordinary pickled tensors; reading them must be as safe as data.pkl.
      if (archive.has_record("constants.pkl")) {
        const auto constants = archive.read_pickle_record("constants.pkl");
        for (const auto& item : constants->items)
          if (item->is(ds::PickleKind::Tensor)) archive.tensor(item->tensor);
      }
    } else if (archive.has_record("data.pkl")) {
      (void)ds::nets::pickle_to_json(*archive.read_pickle_record("data.pkl"));
    }
  });
  return 0;
}
