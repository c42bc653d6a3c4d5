#include "nets/periodic_knn.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "numerics/parallel.h"
#include "stats/kd_tree.h"
#include "stats/stats_util.h"

namespace ds::nets {

namespace {

using Point = std::array<double, 3>;

using KdTree = Point3KdTree;

double wrap_into_box(double x, double box) {
  x -= box * std::floor(x / box);
  return x < box ? x : 0.0;  // a tiny negative x rounds up to box: its image is 0
}

// The one distance every path ranks by (tree, fallback and brute force), so that the order of
// near-equal distances does not depend on which path found the candidates.
double min_image_distance2(const Point& a, const Point& b, double box) {
  double sum = 0;
  for (int d = 0; d < 3; ++d) {
    double delta = a[d] - b[d];
    if (delta >= 0.5 * box)
      delta -= box;
    else if (delta < -0.5 * box)
      delta += box;
    sum += delta * delta;
  }
  return sum;
}

std::vector<Point> wrapped_cloud(const float* positions, std::int64_t n, double box) {
  std::vector<Point> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) {
      const double x = positions[3 * i + d];
      if (!std::isfinite(x))
        throw InvalidArgument("periodic_knn: position " + std::to_string(i) + " is not finite");
      out[std::size_t(i)][std::size_t(d)] = wrap_into_box(x, box);
    }
  return out;
}

// The k nearest of `cloud` to point i, given candidate indices that include them: itself first,
// then by distance, ties by index.
void rank_candidates(const std::vector<Point>& cloud, std::int64_t i, double box,
                     std::vector<std::pair<double, std::int64_t>>& candidates, int k,
                     std::int64_t* out) {
  for (auto& c : candidates)
    c.first = c.second == i
                  ? -1.0
                  : min_image_distance2(cloud[std::size_t(i)], cloud[std::size_t(c.second)], box);
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end());
  for (int j = 0; j < k; ++j) out[j] = candidates[std::size_t(j)].second;
}

void brute_force_point(const std::vector<Point>& cloud, std::int64_t i, int k, double box,
                       std::vector<std::pair<double, std::int64_t>>& scratch, std::int64_t* out) {
  scratch.resize(cloud.size());
  for (std::size_t j = 0; j < cloud.size(); ++j) scratch[j].second = std::int64_t(j);
  rank_candidates(cloud, i, box, scratch, k, out);
}

// One cloud (already wrapped) into out [n, k]. Points whose k-th neighbour lies farther than the
// margin are redone with twice the margin; at box / 4 and beyond they are searched exhaustively.
void knn_cloud(const std::vector<Point>& cloud, int k, double box, int threads, std::int64_t* out) {
  const std::int64_t n = std::int64_t(cloud.size());
  // Radius holding about 2k points of a uniform cloud: almost every point's k-th neighbour is
  // well inside it, so the first pass usually settles all points.
  const double volume = box * box * box;
  double margin = std::cbrt(3.0 * 2.0 * k * volume / (4.0 * M_PI * double(n)));
  std::vector<std::int64_t> pending(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) pending[std::size_t(i)] = i;

  while (!pending.empty()) {
    if (margin >= 0.25 * box) {
      // Few points per face-margin volume: an exhaustive search costs about as much as the tree.
      constexpr std::size_t kChunk = 64;
      detail::parallel_for((pending.size() + kChunk - 1) / kChunk, threads, [&](std::size_t c) {
        std::vector<std::pair<double, std::int64_t>> scratch;
        const std::size_t end = std::min(pending.size(), (c + 1) * kChunk);
        for (std::size_t s = c * kChunk; s < end; ++s)
          brute_force_point(cloud, pending[s], k, box, scratch, out + pending[s] * k);
      });
      return;
    }
    // The points plus every periodic image within `margin` of a face: images in
    // [-margin, box + margin)^3. For a query in the box whose k-th distance d is <= margin
    // (< box / 2), every image within d is in the set, and no two images of one point are.
    std::vector<Point> images = cloud;
    std::vector<std::int64_t> owner(cloud.size());
    for (std::int64_t i = 0; i < n; ++i) owner[std::size_t(i)] = i;
    for (std::int64_t i = 0; i < n; ++i) {
      const Point& p = cloud[std::size_t(i)];
      int lo[3], hi[3];
      for (int d = 0; d < 3; ++d) {
        lo[d] = p[d] >= box - margin ? -1 : 0;  // image shifted by -box lands below margin
        hi[d] = p[d] < margin ? 1 : 0;
      }
      for (int sx = lo[0]; sx <= hi[0]; ++sx)
        for (int sy = lo[1]; sy <= hi[1]; ++sy)
          for (int sz = lo[2]; sz <= hi[2]; ++sz) {
            if (!sx && !sy && !sz) continue;
            images.push_back({p[0] + sx * box, p[1] + sy * box, p[2] + sz * box});
            owner.push_back(i);
          }
    }
    if (images.size() >= (std::size_t(1) << 32))
      throw InvalidArgument("periodic_knn: more than 2^32 points with their images");
    const Point3Adaptor adaptor{images};
    KdTree tree(3, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(16));
    const double margin2 = margin * margin;
    // One more than k: when the (k+1)-th is strictly farther than the k-th, no point tied with
    // the k-th was dropped; otherwise ask for more until the ties end.
    const std::size_t first_want = std::min(images.size(), std::size_t(k) + 1);

    std::vector<char> failed(pending.size(), 0);
    constexpr std::size_t kChunk = 256;
    detail::parallel_for((pending.size() + kChunk - 1) / kChunk, threads, [&](std::size_t c) {
      std::vector<std::uint32_t> index;
      std::vector<double> dist2;
      std::vector<std::pair<double, std::int64_t>> candidates;
      const std::size_t end = std::min(pending.size(), (c + 1) * kChunk);
      for (std::size_t s = c * kChunk; s < end; ++s) {
        const std::int64_t i = pending[s];
        const Point& q = cloud[std::size_t(i)];
        std::size_t want = first_want, found = 0;
        double kth = 0;
        for (;;) {
          index.resize(want);
          dist2.resize(want);
          nanoflann::KNNResultSet<double, std::uint32_t> result(want);
          result.init(index.data(), dist2.data());
          tree.findNeighbors(result, q.data(), nanoflann::SearchParams());
          found = result.size();
          if (found < std::size_t(k)) break;
          kth = dist2[std::size_t(k) - 1];
          if (found < want || dist2[found - 1] > kth || want == images.size()) break;
          want = std::min(images.size(), 2 * want);
        }
        if (found < std::size_t(k) || !(kth <= margin2)) {
          failed[s] = 1;
          continue;
        }
        candidates.clear();
        for (std::size_t j = 0; j < found && dist2[j] <= kth; ++j)
          candidates.push_back({0.0, owner[index[j]]});
        rank_candidates(cloud, i, box, candidates, k, out + i * k);
      }
    });
    std::vector<std::int64_t> next;
    for (std::size_t s = 0; s < pending.size(); ++s)
      if (failed[s]) next.push_back(pending[s]);
    pending.swap(next);
    margin *= 2;
  }
}

void check_arguments(std::int64_t batch, std::int64_t n, int k, double box) {
  if (batch < 0 || n < 1)
    throw InvalidArgument("periodic_knn: need at least one point per cloud (n = " +
                          std::to_string(n) + ", batch = " + std::to_string(batch) + ")");
  if (k < 1 || k > n)
    throw InvalidArgument("periodic_knn: k = " + std::to_string(k) + " must be in [1, " +
                          std::to_string(n) + "]");
  if (!(box > 0) || !std::isfinite(box))
    throw InvalidArgument("periodic_knn: box size " + detail::format_number(box) +
                          " must be positive and finite");
}

}  // namespace

std::vector<std::int64_t> periodic_knn(const float* positions, std::int64_t batch, std::int64_t n,
                                       int k, double box, int threads) {
  check_arguments(batch, n, k, box);
  threads = detail::resolve_threads(threads);
  std::vector<std::int64_t> out(static_cast<std::size_t>(batch * n * k));
  // Many clouds: one thread per cloud. Few clouds: the threads share each cloud's queries. Every
  // point's result depends only on its cloud, so the thread count never changes the output.
  const bool per_cloud = batch >= threads;
  detail::parallel_for(std::size_t(batch), per_cloud ? threads : 1, [&](std::size_t b) {
    const auto cloud = wrapped_cloud(positions + std::int64_t(b) * n * 3, n, box);
    knn_cloud(cloud, k, box, per_cloud ? 1 : threads, out.data() + std::int64_t(b) * n * k);
  });
  return out;
}

std::vector<std::int64_t> periodic_knn_brute_force(const float* positions, std::int64_t batch,
                                                   std::int64_t n, int k, double box) {
  check_arguments(batch, n, k, box);
  std::vector<std::int64_t> out(static_cast<std::size_t>(batch * n * k));
  std::vector<std::pair<double, std::int64_t>> scratch;
  for (std::int64_t b = 0; b < batch; ++b) {
    const auto cloud = wrapped_cloud(positions + b * n * 3, n, box);
    for (std::int64_t i = 0; i < n; ++i)
      brute_force_point(cloud, i, k, box, scratch, out.data() + (b * n + i) * k);
  }
  return out;
}

}  // namespace ds::nets
