#include "diffuscope/report/calibration_summary.h"

#include <algorithm>
#include <cmath>

#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/calibration.h"

namespace ds {

namespace {

void mean_sd(const std::vector<double>& v, double& mean, double& sd) {
  mean = sd = std::numeric_limits<double>::quiet_NaN();
  if (v.empty()) return;
  double s = 0.0;
  for (double x : v) s += x;
  mean = s / double(v.size());
  if (v.size() < 2) {
    sd = 0.0;
    return;
  }
  double q = 0.0;
  for (double x : v) q += (x - mean) * (x - mean);
  sd = std::sqrt(q / double(v.size() - 1));
}

}  // namespace

std::vector<double> default_coverage_levels() {
  std::vector<double> levels;
  for (int i = 1; i <= 19; ++i) levels.push_back(0.05 * i);
  levels.push_back(0.99);
  return levels;
}

double interval_overlap(double a_lo, double a_hi, double b_lo, double b_hi) {
  const double inter = std::min(a_hi, b_hi) - std::max(a_lo, b_lo);
  const double uni = std::max(a_hi, b_hi) - std::min(a_lo, b_lo);
  if (inter < 0.0) return 0.0;
  if (!(uni > 0.0)) return 1.0;
  return inter / uni;
}

ParameterCalibrationSummary summarize_parameter(const std::string& name,
                                                const std::vector<ReportParameterPosterior>& fields,
                                                int rank_bins, const std::vector<double>& levels) {
  if (fields.size() < 2)
    throw InvalidArgument("calibration summary: need at least 2 fields, have " +
                          std::to_string(fields.size()));
  if (rank_bins < 1) throw InvalidArgument("calibration summary: rank_bins must be >= 1");
  ParameterCalibrationSummary s;
  s.name = name;
  s.fields = fields.size();
  const double K = double(fields.size());
  std::size_t inner = 0, outer = 0;
  std::vector<double> z, bias, relative, sds, ratio, shift, overlap;
  s.rank_histogram.assign(std::size_t(rank_bins), 0);
  for (const auto& f : fields) {
    inner += f.inside_inner ? 1 : 0;
    outer += f.inside_outer ? 1 : 0;
    z.push_back(f.z);
    bias.push_back(f.mean - f.truth);
    relative.push_back((f.mean - f.truth) / f.truth);
    sds.push_back(f.sd);
    const std::size_t bin = std::min<std::size_t>(
        std::size_t(rank_bins) - 1, std::size_t(std::max(0.0, f.rank) * double(rank_bins)));
    ++s.rank_histogram[bin];
    if (std::isfinite(f.exact_sd) && f.exact_sd > 0.0) {
      ratio.push_back(f.sd / f.exact_sd);
      shift.push_back((f.mean - f.exact_mean) / f.exact_sd);
      overlap.push_back(
          interval_overlap(f.inner_lo, f.inner_hi, f.exact_inner_lo, f.exact_inner_hi));
    }
  }
  s.inner_coverage = double(inner) / K;
  s.outer_coverage = double(outer) / K;
  s.inner_se = std::sqrt(s.inner_coverage * (1 - s.inner_coverage) / K);
  s.outer_se = std::sqrt(s.outer_coverage * (1 - s.outer_coverage) / K);
  s.inner_nominal_se = std::sqrt(kCalibrationInner * (1 - kCalibrationInner) / K);
  s.outer_nominal_se = std::sqrt(kCalibrationOuter * (1 - kCalibrationOuter) / K);
  double abs_z = 0.0;
  for (double v : z) abs_z += std::abs(v);
  s.mean_abs_z = abs_z / K;
  mean_sd(z, s.z_mean, s.z_sd);
  double unused = 0.0;
  mean_sd(bias, s.bias, unused);
  mean_sd(relative, s.relative_bias, unused);
  mean_sd(sds, s.mean_sd, unused);
  for (double q : levels) {
    std::size_t in = 0;
    for (const auto& f : fields) in += std::abs(2.0 * f.rank - 1.0) <= q ? 1 : 0;
    const double c = double(in) / K;
    s.expected_coverage.levels.push_back(q);
    s.expected_coverage.coverage.push_back(c);
    s.expected_coverage.se.push_back(std::sqrt(q * (1 - q) / K));
  }
  if (!ratio.empty()) {
    mean_sd(ratio, s.width_ratio_mean, s.width_ratio_sd);
    mean_sd(shift, s.shift_mean, s.shift_sd);
    mean_sd(overlap, s.overlap_mean, unused);
  }
  return s;
}

}  // namespace ds
