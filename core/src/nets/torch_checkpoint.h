// Weights-only reading of torch.save archives (zip files since PyTorch 1.6): the archive is opened
// with LibTorch's own zip reader, data.pkl is run through the whitelisted pickle machine of
// data/pickle.h, and tensors are rebuilt from the data/<key> storage records. Nothing in the file
// is ever executed. Also tells a torch.save checkpoint from a TorchScript archive.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diffuscope/data/pickle.h"

namespace caffe2::serialize {
class PyTorchStreamReader;
}

namespace ds::nets {

// A torch.save or torch.jit.save zip archive. Throws FileError naming the path when the file is
// missing, is not a zip archive, or is truncated.
class TorchArchive {
 public:
  explicit TorchArchive(const std::string& path);
  ~TorchArchive();
  TorchArchive(const TorchArchive&) = delete;
  TorchArchive& operator=(const TorchArchive&) = delete;

  const std::string& path() const { return path_; }
  bool has_record(const std::string& name) const;  // names below the archive's top folder
  // TorchScript archives carry constants.pkl and code/; torch.save archives only data.pkl.
  bool is_torchscript() const;

  // Runs the whitelisted pickle machine over a record (data.pkl for torch.save).
  PickleValuePtr read_pickle_record(const std::string& name = "data.pkl") const;

  // Rebuilds a tensor (contiguous, on the CPU, in its stored dtype) from its storage record.
  torch::Tensor tensor(const PickleTensor& t);

 private:
  // Runs a call of LibTorch's reader, turning its c10::Error into a FileError naming the file.
  template <class F>
  auto guarded(const std::string& what, F&& read) const;

  std::string path_;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader_;
  std::map<std::string, torch::Tensor> storages_;  // by key: views of one storage share it
};

// What a Diffusion-HMC training checkpoint holds (only the metadata and one set of weights are
// materialised; the optimizer state stays unread).
struct TorchCheckpoint {
  std::string path;
  std::vector<std::string> keys;  // top-level keys in file order
  std::string model_type;         // "explicitconditional"; empty when absent
  nlohmann::json model_kwargs = nlohmann::json::object();
  std::string schedule;  // e.g. "custom_linear_beta_schedule"; empty when absent
  nlohmann::json schedule_args = nlohmann::json::object();
  std::vector<double> betas;                        // [T], empty when absent
  std::int64_t epoch = -1;                          // -1 when absent
  std::int64_t iteration = -1;                      // "itn"
  bool has_ema = false;                             // model_ema_state_dict present
  std::string weights_key;                          // which state dict was loaded
  std::map<std::string, torch::Tensor> state_dict;  // parameter name -> tensor (CPU, stored dtype)
};

// Reads a torch.save checkpoint dict and the state dict under weights_key ("model_state_dict" or
// "model_ema_state_dict"). Throws FileError naming the path: not a checkpoint, TorchScript
// archive, refused pickle, missing or malformed entries.
TorchCheckpoint read_torch_checkpoint(const std::string& path,
                                      const std::string& weights_key = "model_state_dict");

// A plain-data pickle value as JSON (tuples become arrays, tensors {"tensor": shape, "dtype"});
// throws InvalidArgument for values with no JSON form (bytes, non-string dict keys).
nlohmann::json pickle_to_json(const PickleValue& value);

}  // namespace ds::nets
