// What `diffuscope-cli data info` and `data convert` do: recognise an input (our HDF5 dataset, a
// CAMELS map stack, a processed point-cloud array, a plain .npy array, a Quijote folder),
// describe it, and turn it into a Dataset.
#pragma once

#include <string>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/quijote.h"
#include "diffuscope/jobs/job.h"

namespace ds {

enum class InputKind { Dataset, CamelsMaps, ProcessedClouds, NpyFields, NpyPoints, QuijoteFolder };

// Throws FileError when the path is none of the above.
InputKind classify_input(const std::string& path);

// A few lines: kind, shape, dtype, parameter ranges, source, box size.
std::string describe_input(const std::string& path);

struct ConvertOptions {
  std::string params_path;           // labels for CAMELS / processed clouds / plain npy (optional)
  int downsample = 1;                // fields: block averaging of the linear field
  double box_size = 0.0;             // plain npy: Mpc/h (default 25 for fields, 1000 for points)
  std::size_t first = 0, count = 0;  // CAMELS: a range of maps (count 0: all)
  std::size_t n_halos = 5000;        // Quijote: the N heaviest
  HaloFeatures features = HaloFeatures::All;
  int snapshot = 4;
};

Dataset load_as_dataset(const std::string& path, const ConvertOptions& options,
                        const JobContext& job = {});

}  // namespace ds
