// k nearest neighbours in a periodic box (minimum image) for batches of point clouds, with
// nanoflann KD-trees over the points and their periodic images near the faces (never a dense
// N x N search). Torch-free, so the bench and tests can call it directly.
#pragma once

#include <cstdint>
#include <vector>

namespace ds::nets {

// positions: [batch, n, 3] physical coordinates (any real values; wrapped into [0, box) first).
// Returns [batch, n, k] indices into each cloud: for every point its k nearest neighbours under
// the minimum-image distance, itself first (distance 0), then by increasing distance (ties by
// index). k must be in [1, n]. Clouds are shared out over `threads` threads (0: ds::thread_count);
// the result does not depend on the thread count. Throws InvalidArgument for k outside [1, n],
// a non-positive box or non-finite positions.
std::vector<std::int64_t> periodic_knn(const float* positions, std::int64_t batch, std::int64_t n,
                                       int k, double box, int threads = 0);

// The same by brute force, O(n^2) per cloud: the reference for tests.
std::vector<std::int64_t> periodic_knn_brute_force(const float* positions, std::int64_t batch,
                                                   std::int64_t n, int k, double box);

}  // namespace ds::nets
