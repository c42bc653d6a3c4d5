// The nanoflann KD-tree over 3D points that the periodic neighbour searches share (kNN-CDFs in
// stats/knn_cdf.cpp, the point GNN's graph in nets/periodic_knn.cpp).
#pragma once

#include <nanoflann.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ds {

struct Point3Adaptor {
  const std::vector<std::array<double, 3>>& points;
  std::size_t kdtree_get_point_count() const { return points.size(); }
  double kdtree_get_pt(std::uint32_t i, std::size_t axis) const { return points[i][axis]; }
  template <class BoundingBox>
  bool kdtree_get_bbox(BoundingBox&) const {
    return false;  // nanoflann computes the bounding box itself
  }
};

using Point3KdTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Point3Adaptor>,
                                        Point3Adaptor, 3, std::uint32_t>;

}  // namespace ds
