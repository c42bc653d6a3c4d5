// Reading the observed field a likelihood is evaluated on, in the model's space.
#pragma once

#include <cstddef>
#include <cstdint>
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

// The field `index` of `path` (read_observation in data/observation.h: any file kind that holds
// fields), in the model's space: a plain .npy of [N, N], [M, N, N] or [M, C, N, N] is taken as
// model space unless `physical`; a file that records physical units (HDF5 dataset, CAMELS stack)
// is always transformed. index < 0 means "the only one" and fails for stacks of several fields.
// Throws FileError naming the path and the problem (kind, shape, channels, index out of range,
// values the transform cannot take, a size the network cannot take).
ObservedField load_observed_field(const std::string& path, const DiffusionModel2d& model,
                                  long index = -1, bool physical = false);

// Observation noise for robustness checks (issue 6(c); the paper used sigma = 0.01, 0.02, 0.05):
// adds seeded N(0, sigma) to the LOG10 of the physical field for a log10-minmax transform
// (sigma * 2 / (hi - lo) in model space), to the physical field for an affine transform
// (sigma / scale in model space), to the values themselves for the identity. values are in model
// space, [C, N, N]; the noise comes from Rng(seed, a stream of its own). sigma = 0 leaves them
// unchanged; a negative or non-finite sigma throws InvalidArgument.
void add_observation_noise(std::vector<float>& values, const FieldTransform& transform,
                           double sigma, std::uint64_t seed);

}  // namespace ds
