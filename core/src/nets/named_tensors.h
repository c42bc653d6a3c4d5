// Conversions between torch module state and the torch-free NamedArray of model_file.h (private
// to core; only for translation units that already include torch).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "diffuscope/data/model_file.h"

namespace ds::train {

inline NamedArray to_named_array(const std::string& name, const torch::Tensor& tensor) {
  const auto t = tensor.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  NamedArray a;
  a.name = name;
  a.shape.assign(t.sizes().begin(), t.sizes().end());
  a.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return a;
}

inline torch::Tensor to_tensor(const NamedArray& a) {
  return torch::from_blob(const_cast<float*>(a.values.data()), a.shape,
                          torch::TensorOptions().dtype(torch::kFloat32))
      .clone();
}

inline std::map<std::string, torch::Tensor> to_state_map(const std::vector<NamedArray>& arrays) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& a : arrays) state.emplace(a.name, to_tensor(a));
  return state;
}

// Parameters and buffers of a module, by their module-tree names.
inline std::vector<NamedArray> module_state(torch::nn::Module& module) {
  std::vector<NamedArray> out;
  for (const auto& item : module.named_parameters(true))
    out.push_back(to_named_array(item.key(), item.value()));
  for (const auto& item : module.named_buffers(true))
    out.push_back(to_named_array(item.key(), item.value()));
  return out;
}

}  // namespace ds::train
