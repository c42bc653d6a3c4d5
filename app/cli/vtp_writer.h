// .vtp (VTK XML PolyData) export of one point cloud for ParaView (reference/formats.md).
#pragma once

#include <string>

#include "diffuscope/data/dataset.h"

namespace dscli {

// Writes sample `index` of a point-cloud dataset: points (Float32 x3), one vertex cell per
// point, point-data arrays velocity (3 components) and log10_mass when present, the cosmology as
// field data. Atomic (temporary file + rename).
void write_point_cloud_vtp(const std::string& path, const ds::Dataset& dataset, std::size_t index);

}  // namespace dscli
