// Helpers shared by the mock tests.
#pragma once

#include <cmath>
#include <functional>
#include <vector>

#include "diffuscope/data/field.h"

namespace dstest {

// The expectation of power_spectrum_2d's estimator for a field with spectrum P: the mean of P over
// the independent modes of each bin (the modes the estimator uses), so no binning bias enters.
inline std::vector<double> expected_binned_2d(const std::function<double(double)>& power, int n,
                                              double box) {
  const int middle = n / 2, bins = int(std::sqrt(2.0) * middle) + 1;
  std::vector<double> sum(bins, 0.0);
  std::vector<int> count(bins, 0);
  const double kf = 2.0 * M_PI / box;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= middle; ++j) {
      const int kx = i > middle ? i - n : i;
      if ((j == 0 || j == middle) && kx < 0) continue;
      const double k = std::sqrt(double(kx * kx + j * j));
      if (int(k) == 0) continue;
      sum[int(k)] += power(k * kf);
      ++count[int(k)];
    }
  std::vector<double> out;
  for (int b = 1; b < bins; ++b) out.push_back(sum[b] / count[b]);
  return out;
}

// A Contrast copy of a Density field whose mean is 1 in expectation: delta = value - 1, without
// dividing by the sample mean (which would bias the low-k bins of a single map).
inline ds::Field2D contrast_of_unit_mean(const ds::Field2D& field) {
  ds::Field2D out = field;
  out.kind = ds::FieldKind::Contrast;
  for (double& v : out.values) v -= 1.0;
  return out;
}

inline double mean_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s / double(v.size());
}

}  // namespace dstest
