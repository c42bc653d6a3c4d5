// Golden tests of the point-set statistics against the peer codes of
// ../shared/testdata/goldens/README.md: Pylians3 (MAS_library.MA + Pk_library.Pk, case pk3d_a),
// Corrfunc theory/DD (tpcf_a) and scipy cKDTree (knn_a).
#include <gtest/gtest.h>

#include <cmath>

#include "../test_helpers.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/stats/knn_cdf.h"
#include "diffuscope/stats/mass_assignment.h"
#include "diffuscope/stats/power_spectrum_3d.h"
#include "diffuscope/stats/two_point.h"

namespace {

ds::PointCloud golden_points() {
  const auto raw = ds::read_npy(dstest::testdata("goldens/points_a.npy"));
  EXPECT_EQ(raw.shape, (std::vector<std::size_t>{5000, 3}));
  ds::PointCloud points;
  points.box_size = 1000.0;
  for (std::size_t i = 0; i < raw.shape[0]; ++i)
    points.positions.push_back({raw.data[3 * i], raw.data[3 * i + 1], raw.data[3 * i + 2]});
  return points;
}

std::vector<std::array<double, 3>> rows_of(const ds::NpyArray& a) {
  std::vector<std::array<double, 3>> out;
  for (std::size_t i = 0; i < a.shape[0]; ++i)
    out.push_back({a.data[3 * i], a.data[3 * i + 1], a.data[3 * i + 2]});
  return out;
}

}  // namespace

// Worst |ours - Pylians| / max(1, Pylians) over the mesh.
double worst_mesh_difference(const std::vector<double>& mesh, const std::vector<double>& pylians) {
  double worst = 0.0;
  for (std::size_t c = 0; c < mesh.size(); ++c)
    worst = std::max(worst, std::abs(mesh[c] - pylians[c]) / std::max(1.0, pylians[c]));
  return worst;
}

TEST(PowerSpectrum3dGolden, CicMeshMatchesPyliansMassAssignment) {
  const auto points = golden_points();
  const auto expected = ds::read_npy(dstest::testdata("goldens/pk3d_a_painted_mesh.npy"));
  const auto mesh = ds::paint_mesh_3d(points.positions, 1000.0, 64, ds::MassAssignment::Cic);
  ASSERT_EQ(mesh.size(), expected.size());
  double sum = 0.0;
  for (double v : mesh) sum += v;
  EXPECT_NEAR(sum, 5000.0, 1e-9);
  // Pylians computes the cell coordinate x * (N/L) in float32 (README): its weights are off by
  // up to ~ulp(64)/2 = 4e-6 per axis and point, so a cell with a few contributions differs by a
  // few 1e-5.
  const double worst = worst_mesh_difference(mesh, expected.data);
  std::printf("pk3d_a mesh: worst difference %.3g relative to max(1, value)\n", worst);
  EXPECT_LT(worst, 5e-5);

  // Given Pylians' float32 cell coordinates, only float32 accumulation remains: the scheme itself
  // (grid points at integer cells, weights, periodic wrap) agrees to float32 rounding.
  const float cells_per_length = float(64) / float(1000.0);
  std::vector<std::array<double, 3>> float_cells = points.positions;
  for (auto& x : float_cells)
    for (double& v : x) v = double(float(v) * cells_per_length) * (1000.0 / 64.0);
  const auto mesh_f = ds::paint_mesh_3d(float_cells, 1000.0, 64, ds::MassAssignment::Cic);
  const double worst_f = worst_mesh_difference(mesh_f, expected.data);
  std::printf("pk3d_a mesh with float32 cell coordinates: worst difference %.3g\n", worst_f);
  EXPECT_LT(worst_f, 2e-6);
}

TEST(PowerSpectrum3dGolden, ReproducesPyliansPkMonopoleWithCic) {
  const auto points = golden_points();
  const auto expected = dstest::read_csv_columns(dstest::testdata("goldens/pk3d_a_expected.csv"));
  const auto pk = ds::power_spectrum_3d(points, 64, ds::MassAssignment::Cic);
  ASSERT_EQ(pk.size(), expected[0].size());
  ASSERT_EQ(pk.size(), std::size_t(std::sqrt(3.0) * 32));  // floor(sqrt(3) N/2) bins
  double worst_many = 0.0, worst_any = 0.0;
  for (std::size_t b = 0; b < pk.size(); ++b) {
    EXPECT_NEAR(pk.k[b], expected[0][b], 1e-12 * expected[0][b]) << "bin " << b;
    EXPECT_EQ(pk.nmodes[b], std::int64_t(expected[2][b])) << "bin " << b;
    const double rel = std::abs(pk.pk[b] / expected[1][b] - 1.0);
    worst_any = std::max(worst_any, rel);
    // README: bins with >= 10 modes agree to 5.5e-6 between Pylians (float32 mesh) and a float64
    // calculation; the single-mode corner bin to 7.6e-4.
    if (pk.nmodes[b] >= 10) {
      worst_many = std::max(worst_many, rel);
      EXPECT_LT(rel, 1e-5) << "bin " << b << " k " << pk.k[b] << " ours " << pk.pk[b] << " Pylians "
                           << expected[1][b];
    } else {
      EXPECT_LT(rel, 2e-3) << "bin " << b << " (" << pk.nmodes[b] << " modes)";
    }
  }
  RecordProperty("worst_rel_10_modes", std::to_string(worst_many));
  RecordProperty("worst_rel_any", std::to_string(worst_any));
  std::printf("pk3d_a: worst relative difference %.3g (>= 10 modes), %.3g (all bins)\n", worst_many,
              worst_any);
}

TEST(TwoPointGolden, PairCountsMatchCorrfuncExactly) {
  const auto points = golden_points();
  const auto edges = ds::read_npy(dstest::testdata("goldens/tpcf_a_edges.npy")).data;
  const auto expected = dstest::read_csv_columns(dstest::testdata("goldens/tpcf_a_expected.csv"));
  for (int threads : {1, 2, 3}) {
    ds::PointStatisticsOptions options;
    options.threads = threads;
    const auto xi = ds::two_point_correlation(points, edges, options);
    ASSERT_EQ(xi.npairs.size(), expected[0].size());
    for (std::size_t b = 0; b < xi.npairs.size(); ++b) {
      EXPECT_EQ(xi.r_lo[b], expected[0][b]);
      EXPECT_EQ(xi.r_hi[b], expected[1][b]);
      EXPECT_EQ(xi.npairs[b], std::int64_t(expected[2][b]))
          << "bin " << b << " threads " << threads;
      EXPECT_NEAR(xi.xi[b], expected[3][b], 1e-12 * std::max(1.0, std::abs(expected[3][b])))
          << "bin " << b;
    }
  }
}

TEST(KnnGolden, DistancesAndCdfsMatchScipyExactly) {
  const auto points = golden_points();
  const auto queries = rows_of(ds::read_npy(dstest::testdata("goldens/knn_a_queries.npy")));
  const auto r = ds::read_npy(dstest::testdata("goldens/knn_a_rgrid.npy")).data;
  const auto scipy = ds::read_npy(dstest::testdata("goldens/knn_a_distances.npy"));
  const auto expected = dstest::read_csv_columns(dstest::testdata("goldens/knn_a_expected.csv"));
  ASSERT_EQ(queries.size(), 20000u);
  ds::PointStatisticsOptions options;
  options.threads = 2;
  const auto d = ds::knn_distances(points, queries, {1, 5, 9}, options);
  std::size_t differing = 0;
  for (std::size_t q = 0; q < d.queries; ++q)
    for (std::size_t i = 0; i < 3; ++i)
      if (d.at(q, i) != scipy.data[q * 3 + i]) ++differing;
  EXPECT_EQ(differing, 0u) << "distances differing from scipy cKDTree (bitwise)";
  const auto cdf = ds::knn_cdf(d, r);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < r.size(); ++j)
      EXPECT_EQ(cdf[i][j], expected[i + 1][j]) << "k index " << i << " r " << r[j];
}
