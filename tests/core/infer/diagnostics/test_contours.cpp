// Marching squares (core/infer/diagnostics/contours.h): the level set of r^2 is one closed circle
// of the right radius and area; a linear ramp gives one straight open line at the analytic
// position; a NaN hole cuts a line in two (and one away from the line does not); saddle cells
// follow the centre value; two bumps give two closed loops; bad input throws.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/infer/diagnostics/contours.h"

namespace {

std::vector<double> linspace(double lo, double hi, std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = lo + (hi - lo) * double(k) / double(n - 1);
  return v;
}

template <class F>
std::vector<double> tabulate(const std::vector<double>& x, const std::vector<double>& y, F f) {
  std::vector<double> map(x.size() * y.size());
  for (std::size_t i = 0; i < y.size(); ++i)
    for (std::size_t j = 0; j < x.size(); ++j) map[i * x.size() + j] = f(x[j], y[i]);
  return map;
}

// Shoelace area of a closed polyline (first point repeated at the end).
double enclosed_area(const ds::ContourLine& line) {
  double twice = 0.0;
  for (std::size_t k = 0; k + 1 < line.x.size(); ++k)
    twice += line.x[k] * line.y[k + 1] - line.x[k + 1] * line.y[k];
  return 0.5 * std::abs(twice);
}

TEST(Contours, CircleOfRadiusSquaredIsOneClosedLine) {
  const auto x = linspace(-1, 1, 41), y = linspace(-1, 1, 41);
  const auto map = tabulate(x, y, [](double a, double b) { return a * a + b * b; });
  const auto lines = ds::contour_lines(map, x, y, 0.25);
  ASSERT_EQ(lines.size(), 1u);
  const auto& c = lines[0];
  EXPECT_TRUE(c.closed);
  ASSERT_EQ(c.x.size(), c.y.size());
  ASSERT_GT(c.x.size(), 20u);
  EXPECT_EQ(c.x.front(), c.x.back());
  EXPECT_EQ(c.y.front(), c.y.back());
  for (std::size_t k = 0; k < c.x.size(); ++k) {
    const double r = std::hypot(c.x[k], c.y[k]);
    EXPECT_NEAR(r, 0.5, 0.01) << "point " << k << " at (" << c.x[k] << ", " << c.y[k] << ")";
  }
  // The polygon through the crossings: pi r^2 = 0.785 less the chord segments, O(h^2).
  EXPECT_NEAR(enclosed_area(c), M_PI * 0.25, 0.01);
}

TEST(Contours, LinearRampGivesOneStraightOpenLine) {
  // f = 2 x + 1 crosses 1.7 at x = 0.35, between columns 0.3 and 0.4.
  const auto x = linspace(0, 1, 11), y = linspace(0, 2, 6);
  const auto map = tabulate(x, y, [](double a, double) { return 2 * a + 1; });
  const auto lines = ds::contour_lines(map, x, y, 1.7);
  ASSERT_EQ(lines.size(), 1u);
  const auto& line = lines[0];
  EXPECT_FALSE(line.closed);
  ASSERT_EQ(line.x.size(), y.size());  // one crossing per row of the grid
  for (double v : line.x) EXPECT_NEAR(v, 0.35, 1e-12);
  // It runs from border to border, the rows in order.
  EXPECT_DOUBLE_EQ(std::min(line.y.front(), line.y.back()), 0.0);
  EXPECT_DOUBLE_EQ(std::max(line.y.front(), line.y.back()), 2.0);
  for (std::size_t k = 1; k < line.y.size(); ++k)
    EXPECT_NEAR(std::abs(line.y[k] - line.y[k - 1]), 0.4, 1e-12);
}

TEST(Contours, LevelOnGridValuesGivesNoDuplicatePoints) {
  // 1.6 is the value of column x = 0.3 exactly: a corner at the level counts as inside.
  const auto x = linspace(0, 1, 11), y = linspace(0, 2, 6);
  const auto map = tabulate(x, y, [](double a, double) { return 2 * a + 1; });
  const auto lines = ds::contour_lines(map, x, y, 2 * x[3] + 1);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].x.size(), y.size());
  for (double v : lines[0].x) EXPECT_NEAR(v, 0.3, 1e-12);
}

TEST(Contours, NanHoleSplitsTheLine) {
  const auto x = linspace(0, 1, 11), y = linspace(0, 2, 6);
  auto map = tabulate(x, y, [](double a, double) { return 2 * a + 1; });
  // A NaN far from the line changes nothing.
  auto far = map;
  far[2 * x.size() + 9] = NAN;
  EXPECT_EQ(ds::contour_lines(far, x, y, 1.7).size(), 1u);

  // The vertex (x = 0.3, y = 0.8) is a corner of the cells the line crosses in rows 1 and 2.
  map[2 * x.size() + 3] = NAN;
  const auto lines = ds::contour_lines(map, x, y, 1.7);
  ASSERT_EQ(lines.size(), 2u);
  double covered = 0.0;
  for (const auto& line : lines) {
    EXPECT_FALSE(line.closed);
    for (double v : line.x) EXPECT_NEAR(v, 0.35, 1e-12);
    for (double v : line.y)
      EXPECT_FALSE(v > y[1] && v < y[3]) << "a point at y = " << v << " crosses the hole";
    covered += std::abs(line.y.back() - line.y.front());
  }
  // Rows 0 (y 0..0.4) and 3-4 (y 1.2..2) remain.
  EXPECT_NEAR(covered, 0.4 + 0.8, 1e-12);
}

TEST(Contours, SaddleFollowsTheCentreValue) {
  // Corners 1 (bottom-left), 0 (bottom-right), 1 (top-right), 0 (top-left): centre 0.5.
  const std::vector<double> x{0, 1}, y{0, 1};
  const std::vector<double> map{1, 0, 0, 1};
  auto endpoints = [](const ds::ContourLine& l) {
    return std::vector<double>{l.x.front(), l.y.front(), l.x.back(), l.y.back()};
  };
  auto same_segment = [&](const ds::ContourLine& l, std::vector<double> a, std::vector<double> b) {
    const auto e = endpoints(l);
    const std::vector<double> ab{a[0], a[1], b[0], b[1]}, ba{b[0], b[1], a[0], a[1]};
    auto near = [](const std::vector<double>& u, const std::vector<double>& v) {
      for (std::size_t k = 0; k < 4; ++k)
        if (std::abs(u[k] - v[k]) > 1e-12) return false;
      return true;
    };
    return near(e, ab) || near(e, ba);
  };

  // Level 0.5: the centre is inside, so the two high corners connect and the line cuts off the
  // low corners (1, 0) and (0, 1).
  auto lines = ds::contour_lines(map, x, y, 0.5);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_FALSE(l.closed);
    EXPECT_EQ(l.x.size(), 2u);
  }
  EXPECT_TRUE(same_segment(lines[0], {0.5, 0}, {1, 0.5}) ||
              same_segment(lines[1], {0.5, 0}, {1, 0.5}));
  EXPECT_TRUE(same_segment(lines[0], {0.5, 1}, {0, 0.5}) ||
              same_segment(lines[1], {0.5, 1}, {0, 0.5}));

  // Level 0.6: the centre is outside, so the line cuts off the high corners (0, 0) and (1, 1).
  lines = ds::contour_lines(map, x, y, 0.6);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(same_segment(lines[0], {0.4, 0}, {0, 0.4}) ||
              same_segment(lines[1], {0.4, 0}, {0, 0.4}));
  EXPECT_TRUE(same_segment(lines[0], {1, 0.6}, {0.6, 1}) ||
              same_segment(lines[1], {1, 0.6}, {0.6, 1}));
}

TEST(Contours, TwoBumpsGiveTwoClosedLoops) {
  const auto x = linspace(-3, 3, 61), y = linspace(-2, 2, 41);
  const auto map = tabulate(x, y, [](double a, double b) {
    return std::exp(-((a - 1.5) * (a - 1.5) + b * b) / 0.5) +
           std::exp(-((a + 1.5) * (a + 1.5) + b * b) / 0.5);
  });
  const auto lines = ds::contour_lines(map, x, y, 0.5);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_TRUE(l.closed);
    // exp(-r^2 / 0.5) = 0.5 at r = sqrt(0.5 ln 2) = 0.589 (the other bump adds < 1e-5).
    EXPECT_NEAR(enclosed_area(l), M_PI * 0.5 * std::log(2.0), 0.02);
  }
  // A level above the peaks or below the floor gives nothing.
  EXPECT_TRUE(ds::contour_lines(map, x, y, 2.0).empty());
  EXPECT_TRUE(ds::contour_lines(map, x, y, -1.0).empty());
}

TEST(Contours, RejectsBadInput) {
  const auto x = linspace(0, 1, 3), y = linspace(0, 1, 4);
  const std::vector<double> map(12, 0.0);
  EXPECT_NO_THROW(ds::contour_lines(map, x, y, 0.5));
  EXPECT_THROW(ds::contour_lines(std::vector<double>(11), x, y, 0.5), ds::InvalidArgument);
  EXPECT_THROW(ds::contour_lines(std::vector<double>(4), {0.0}, y, 0.5), ds::InvalidArgument);
  EXPECT_THROW(ds::contour_lines(map, {0.0, 2.0, 1.0}, y, 0.5), ds::InvalidArgument);
  EXPECT_THROW(ds::contour_lines(map, x, {0.0, 1.0, 1.0, 2.0}, 0.5), ds::InvalidArgument);
  EXPECT_THROW(ds::contour_lines(map, x, y, NAN), ds::InvalidArgument);
}

}  // namespace
