// Physical <-> model space for point clouds (DESIGN.md, Transform): per-feature standardisation
// (x - mean) / std over all training halos, with the box size for periodic wrapping
// (reference/point-cloud.md, "Data"). Torch-free; stored as JSON in the model file ("transform").
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ds {

struct PointTransform {
  std::vector<double> mean;  // [F]
  std::vector<double> std;   // [F], > 0
  std::vector<std::string> feature_names;  // [F], e.g. x y z vx vy vz log10_mass
  double box_size = 1000.0;                // Mpc/h; features 0..2 are positions in [0, box)

  std::size_t features() const { return mean.size(); }

  // Mean and standard deviation of every feature over all clouds and points of `samples`
  // ([M, N, F] C order). Throws InvalidArgument for F < 3, an empty set, a constant feature or
  // non-finite values.
  static PointTransform fit(const std::vector<float>& samples, std::size_t features,
                            const std::vector<std::string>& feature_names, double box_size);

  // In place on [..., F] buffers.
  void standardise(std::vector<float>& values) const;
  // Inverse; positions wrapped into [0, box_size) when `wrap`.
  void unstandardise(std::vector<float>& values, bool wrap = true) const;

  std::string to_json() const;
  static PointTransform from_json(const std::string& json);  // InvalidArgument on bad content
};

}  // namespace ds
