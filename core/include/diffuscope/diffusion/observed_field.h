// Reading the observed field a likelihood is evaluated on, in the model's space.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "diffuscope/diffusion/diffusion_model.h"

namespace ds {

struct ObservedField {
  std::vector<float> values;  // model space, [C, N, N]
  int n = 0;
  std::size_t index = 0;  // which field of a stack
  std::size_t count = 1;  // fields in the file
};

// path: .npy of [N, N], [M, N, N] or [M, C, N, N] (model space, or physical units when
// `physical`, then the model's transform is applied), or an HDF5 dataset (/fields [M, N, N],
// physical units: always transformed). `index` selects a field of a stack; index < 0 means "the
// only one" and fails for stacks of several fields. Throws FileError naming the path and the
// problem (shape, index out of range, values the transform cannot take, a size the network
// cannot take).
ObservedField load_observed_field(const std::string& path, const DiffusionModel2d& model,
                                  long index = -1, bool physical = false);

}  // namespace ds
