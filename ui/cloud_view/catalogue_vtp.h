// A halo catalogue as VTK XML PolyData (.vtp), for ParaView and other VTK tools: one vertex per
// halo at (x, y, z) in Mpc/h; every feature of the catalogue as a named point-data array in its
// physical units (x y z vx vy vz log10_mass), plus "velocity" (3 components, km/s) when the
// catalogue has vx, vy, vz; field data Omega_m, sigma_8, box_size (Mpc/h), model, seed, steps.
// Raw binary appended data, zlib-compressed (reference/formats.md), written atomically
// (ds::write_path_atomically). diffuscope-cli data convert writes the same layout from a dataset.
#pragma once

#include <string>

namespace dsui {

struct HaloSnapshot;

// Throws ds::FileError naming path when the snapshot has no catalogue or the file cannot be
// written; the target is then untouched.
void write_catalogue_vtp(const std::string& path, const HaloSnapshot& snapshot);

}  // namespace dsui
