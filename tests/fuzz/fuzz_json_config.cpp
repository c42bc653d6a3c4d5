// JSON configurations: the U-Net's model_kwargs (nets/unet_config.cpp), the point networks'
// (nets/point_net_config.cpp) and training configurations (train/train_config.cpp). The first
// byte picks the parser, the rest is the document.
#include <string>

#include "diffuscope/nets/point_net_config.h"
#include "diffuscope/nets/unet_config.h"
#include "diffuscope/train/train_config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string json(reinterpret_cast<const char*>(data) + 1, size - 1);
  ds::fuzz::expect_only_ds_errors([&] {
    switch (data[0] % 3) {
      case 0:
        (void)ds::UnetConfig::from_json(json);
        break;
      case 1:
        (void)ds::PointNetConfig::from_json(json);
        break;
      default:
        (void)ds::TrainConfig::from_json(json, "fuzz.json");
        break;
    }
  });
  return 0;
}
