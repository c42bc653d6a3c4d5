// What a batch run needs to know about its fields file before running anything: how many 2D
// fields it holds and, for the merged table, their true (Omega_m, sigma_8) when it carries them.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace ds {

// Fields of a file the field commands read (observed_field.h): an HDF5 dataset (/fields [M, N,
// N]) or a .npy of [N, N] (1 field), [M, N, N] or [M, 1, N, N]. Reads headers only. Throws
// FileError naming the path and the problem (missing, point clouds, another rank).
std::size_t count_fields(const std::string& path);

// True (Omega_m, sigma_8) of the given fields: an HDF5 dataset's /params (names Omega_m,
// sigma_8 first) or, for a CAMELS map stack (Maps_*.npy), the params file next to it (map i
// belongs to simulation i / 15). Empty when the file carries none (a plain .npy). Throws
// FileError for a params table that does not cover an index.
std::vector<std::array<double, 2>> field_truths(const std::string& path,
                                                const std::vector<std::size_t>& indices);

}  // namespace ds
