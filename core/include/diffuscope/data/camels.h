// CAMELS Multifield Dataset 2D maps (reference/formats.md): Maps_{field}_{suite}_{set}_z=0.00.npy
// [M, N, N] float32 in (Msun/h)/(Mpc/h)^2 for mass fields, 25 Mpc/h periodic; labels in
// params_{set}_{suite}.txt (or params_{suite}.txt), one row per simulation with columns
// Omega_m, sigma_8, A_SN1, A_AGN1, A_SN2, A_AGN2; map i belongs to row i / 15.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/jobs/job.h"

namespace ds {

inline constexpr int kCamelsMapsPerSimulation = 15;
inline constexpr double kCamelsBoxSize = 25.0;  // Mpc/h

struct CamelsMapName {
  std::string field;  // Mcdm, Mgas, T, ...
  std::string suite;  // IllustrisTNG, SIMBA, Nbody_IllustrisTNG, ...
  std::string set;    // LH, 1P, CV, EX, BE
};

// Parses the file name (not the directory); throws InvalidArgument for other names.
CamelsMapName parse_camels_map_name(const std::string& file_name);

// Finds the params file next to the maps: params_{set}_{suite}.txt, then params_{suite}.txt.
// Returns an empty string when neither exists.
std::string find_camels_params(const std::string& maps_path);

struct CamelsConvertOptions {
  std::size_t first = 0;  // first map
  std::size_t count = 0;  // 0: all maps from `first`
  int downsample = 1;     // block-average factor of the linear field (N must divide)
};

class CamelsMaps {
 public:
  // params_path empty: find_camels_params. Throws FileError when the maps are not [M, N, N]
  // square, when no params file is found, or when its row count does not match M / 15.
  explicit CamelsMaps(const std::string& maps_path, std::string params_path = {});

  const CamelsMapName& name() const { return name_; }
  std::size_t count() const { return maps_->header().shape[0]; }
  int resolution() const { return int(maps_->header().shape[1]); }
  const std::string& params_path() const { return params_path_; }
  const std::vector<std::vector<double>>& simulations() const { return params_; }

  // Map i as n x n float values (memory-mapped read).
  std::vector<float> map(std::size_t i) const;

  Dataset to_dataset(const CamelsConvertOptions& options, const JobContext& job = {}) const;

 private:
  std::string maps_path_;
  std::string params_path_;
  CamelsMapName name_;
  std::unique_ptr<NpyMap> maps_;
  std::vector<std::vector<double>> params_;
};

// Block-averages an n x n field by factor f (n % f == 0): the mean of each f x f block, which
// conserves the total mass of a density map.
std::vector<float> block_average(const std::vector<float>& field, int n, int f);

}  // namespace ds
