// Quijote halo catalogues (reference/formats.md): FoF group_tab files of one snapshot, all
// sub-files; cosmologies from latin_hypercube_params.txt (Omega_m, Omega_b, h, n_s, sigma_8);
// processed point-cloud arrays [sims, halos, 7] from the point-cloud paper's code.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/jobs/job.h"

namespace ds {

inline constexpr double kQuijoteBoxSize = 1000.0;  // Mpc/h

struct HaloCatalogue {
  std::vector<std::array<double, 3>> positions;   // Mpc/h, in [0, box)
  std::vector<std::array<double, 3>> velocities;  // peculiar, km/s
  std::vector<double> masses;                     // Msun/h
  std::vector<std::int32_t> lengths;              // particles per halo
  std::size_t size() const { return masses.size(); }
};

// Redshift of a Quijote snapshot number (4 -> 0, 3 -> 0.5, 2 -> 1, 1 -> 2, 0 -> 3).
double quijote_snapshot_redshift(int snapshot);

// Reads groups_NNN/group_tab_NNN.* in `simulation_dir`. Checks every sub-file is present (the
// count comes from the header), consumed exactly, and that the halo totals agree. Throws
// FileError naming the offending file.
HaloCatalogue read_quijote_fof(const std::string& simulation_dir, int snapshot = 4);

// The n heaviest halos, heaviest first (stable for equal masses).
HaloCatalogue heaviest(const HaloCatalogue& halos, std::size_t n);

enum class HaloFeatures { Positions, All };  // 3: x y z; 7: + vx vy vz log10_mass

struct QuijoteConvertOptions {
  std::size_t n_halos = 5000;
  HaloFeatures features = HaloFeatures::All;
  int snapshot = 4;
  std::string params_path;  // empty: latin_hypercube_params.txt in the root (or its parent)
};

// root is one simulation folder (holding groups_NNN) or a folder of numbered simulation folders
// next to latin_hypercube_params.txt. Simulation folder i takes row i of the params file.
Dataset quijote_to_dataset(const std::string& root, const QuijoteConvertOptions& options,
                           const JobContext& job = {});

// A processed array [sims, halos, 7] (x y z [Mpc/h], vx vy vz [km/s], M [Msun/h] or log10 M)
// with a table of cosmologies (header naming Omega_m / sigma_8 columns, or the five Quijote
// columns in their order). Masses above 100 are taken as linear and converted to log10.
Dataset processed_clouds_to_dataset(const std::string& npy_path, const std::string& params_path,
                                    HaloFeatures features = HaloFeatures::All);

std::vector<std::string> halo_feature_names(HaloFeatures features);

}  // namespace ds
