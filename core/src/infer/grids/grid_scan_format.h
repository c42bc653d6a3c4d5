// The likelihood grid file (grid_scan.h): names shared by the scan and the file reader/writer.
#pragma once

#include <algorithm>

#include "diffuscope/infer/grids/grid_scan.h"

namespace ds::detail {

inline constexpr const char* kGridFormat = "diffuscope-likelihood-grid";
inline constexpr const char* kGridLayout =
    "maps are [sigma_8, Omega_m]: row i = sigma_8[i], column j = Omega_m[j]; terms are "
    "[T, sigma_8, Omega_m]";

// The stride of the adaptive scan's coarse sub-grid: the setting, or n / 10 (at least 2).
inline int grid_coarse_stride(const GridScanSettings& s) {
  if (s.coarse_stride > 0) return s.coarse_stride;
  return std::max(2, s.n / 10);
}

}  // namespace ds::detail
