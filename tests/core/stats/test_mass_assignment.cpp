// Mass-assignment painting (Pylians' grid convention: grid points at integer cells) and windows.
#include <gtest/gtest.h>

#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/mass_assignment.h"

namespace {
const ds::MassAssignment kSchemes[] = {ds::MassAssignment::Ngp, ds::MassAssignment::Cic,
                                       ds::MassAssignment::Tsc, ds::MassAssignment::Pcs};
std::size_t cell(int n, int i, int j, int l) {
  auto w = [n](int a) { return std::size_t((a % n + n) % n); };
  return (w(i) * n + w(j)) * n + w(l);
}
}  // namespace

TEST(MassAssignment, EverySchemeConservesMass) {
  ds::Rng rng(5);
  std::vector<std::array<double, 3>> points(1000);
  for (auto& x : points)
    for (double& v : x) v = rng.uniform(0.0, 50.0);
  for (auto scheme : kSchemes) {
    const auto mesh = ds::paint_mesh_3d(points, 50.0, 16, scheme);
    double sum = 0.0, least = 0.0;
    for (double v : mesh) sum += v, least = std::min(least, v);
    EXPECT_NEAR(sum, 1000.0, 1e-9) << ds::kMassAssignments.name(scheme);
    EXPECT_GE(least, 0.0);
  }
}

TEST(MassAssignment, KernelsOnAGridPointAndBetweenTwo) {
  const int n = 8;
  const double box = 8.0;  // cell size 1
  // On grid point 3 (x = 3): the B-spline kernels' values at 0 and +-1.
  const std::vector<std::array<double, 3>> on{{3.0, 3.0, 3.0}};
  const double centre[] = {1.0, 1.0, 0.75, 2.0 / 3.0}, side[] = {0.0, 0.0, 0.125, 1.0 / 6.0};
  for (int s = 0; s < 4; ++s) {
    const auto mesh = ds::paint_mesh_3d(on, box, n, kSchemes[s]);
    EXPECT_NEAR(mesh[cell(n, 3, 3, 3)], std::pow(centre[s], 3), 1e-15) << s;
    EXPECT_NEAR(mesh[cell(n, 3, 3, 4)], std::pow(centre[s], 2) * side[s], 1e-15) << s;
    EXPECT_NEAR(mesh[cell(n, 3, 3, 2)], std::pow(centre[s], 2) * side[s], 1e-15) << s;
  }
  // Half-way between grid points 7 and 0 (x = 7.5): CIC splits evenly across the periodic edge;
  // NGP rounds up (Pylians: int(x + 0.5)), to 8 = 0.
  const std::vector<std::array<double, 3>> edge{{7.5, 3.0, 3.0}};
  const auto cic = ds::paint_mesh_3d(edge, box, n, ds::MassAssignment::Cic);
  EXPECT_NEAR(cic[cell(n, 7, 3, 3)], 0.5, 1e-15);
  EXPECT_NEAR(cic[cell(n, 0, 3, 3)], 0.5, 1e-15);
  const auto ngp = ds::paint_mesh_3d(edge, box, n, ds::MassAssignment::Ngp);
  EXPECT_EQ(ngp[cell(n, 0, 3, 3)], 1.0);
  // TSC half-way: nearest grid point 8 = 0 at d = -1/2, weights 0.5 (cell 7), 0.5 (cell 0), 0.
  const auto tsc = ds::paint_mesh_3d(edge, box, n, ds::MassAssignment::Tsc);
  EXPECT_NEAR(tsc[cell(n, 7, 3, 3)] / 0.75 / 0.75, 0.5, 1e-15);
  EXPECT_NEAR(tsc[cell(n, 0, 3, 3)] / 0.75 / 0.75, 0.5, 1e-15);
}

TEST(MassAssignment, WindowIsSincToTheSchemeOrder) {
  EXPECT_EQ(ds::mass_assignment_window(5, 32, ds::MassAssignment::None), 1.0);
  EXPECT_EQ(ds::mass_assignment_window(0, 32, ds::MassAssignment::Pcs), 1.0);
  // At the Nyquist index sinc(pi/2) = 2/pi.
  EXPECT_NEAR(ds::mass_assignment_window(16, 32, ds::MassAssignment::Cic), 4 / (M_PI * M_PI),
              1e-15);
  EXPECT_NEAR(ds::mass_assignment_window(-16, 32, ds::MassAssignment::Tsc), std::pow(2 / M_PI, 3),
              1e-15);
  EXPECT_EQ(ds::kMassAssignments.from_string("pcs"), ds::MassAssignment::Pcs);
  EXPECT_THROW(ds::kMassAssignments.from_string("sph"), ds::InvalidArgument);
}

TEST(MassAssignment, BadInputIsRejected) {
  const std::vector<std::array<double, 3>> one{{1.0, 1.0, 1.0}};
  EXPECT_THROW(ds::paint_mesh_3d(one, 10.0, 8, ds::MassAssignment::None), ds::InvalidArgument);
  EXPECT_THROW(ds::paint_mesh_3d(one, 0.0, 8, ds::MassAssignment::Cic), ds::InvalidArgument);
  EXPECT_THROW(ds::paint_mesh_3d(one, 10.0, 1, ds::MassAssignment::Cic), ds::InvalidArgument);
}
