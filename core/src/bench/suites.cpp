// The benchmark suites. Each suite times a reference configuration first and states every other
// measurement as a ratio to it, so the numbers compare across machines.
#include <cmath>
#include <string>

#include "diffuscope/bench/bench.h"
#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/mock/clustered_points.h"
#include "diffuscope/mock/gaussian_field.h"
#include "diffuscope/stats/power_spectrum_2d.h"

namespace ds {

namespace {

// Ratios for sizes n against the reference size n0 for an O(n^2 log n) algorithm, with slack
// for cache effects: the target is twice the ideal scaling.
double fft_scaling(int n, int n0) {
  return (double(n) * n * std::log2(double(n))) / (double(n0) * n0 * std::log2(double(n0)));
}

void finish_suite(BenchSuiteResult& result) {
  const double reference = result.measurements.front().seconds;
  for (auto& m : result.measurements) {
    m.reference = result.measurements.front().name;
    m.ratio = m.seconds / reference;
  }
}

BenchSuiteResult run_fields(const JobContext& job) {
  BenchSuiteResult result{"fields", "2D Gaussian random fields at the slider cosmology", {}};
  const int sizes[] = {64, 128, 256, 512};
  const Cosmology cosmology;
  int done = 0;
  for (int n : sizes) {
    job.check_cancelled();
    job.report(done++, 5, "grf n=" + std::to_string(n));
    GrfSettings settings;
    settings.n = n;
    auto m = time_call("cosmological_grf_2d/n=" + std::to_string(n),
                       [&] { cosmological_grf_2d(cosmology, settings, 7); });
    m.target_ratio = 2.0 * fft_scaling(n, sizes[0]) + 1.0;  // + fixed cost of the P_2D table
    m.note = "P_2D table (fixed) + O(n^2 log n) FFTs";
    result.measurements.push_back(m);
  }
  job.report(done, 5, "projected spectrum table");
  GrfSettings table_settings;
  table_settings.n = 256;
  auto table =
      time_call("grf_spectrum_2d/n=256", [&] { grf_spectrum_2d(cosmology, table_settings); });
  table.note = "fixed cost per cosmology; part of every slider update";
  result.measurements.push_back(table);
  finish_suite(result);
  job.report(5, 5, "done");
  return result;
}

BenchSuiteResult run_stats(const JobContext& job) {
  BenchSuiteResult result{"stats", "Summary statistics of 2D fields", {}};
  const int sizes[] = {64, 128, 256, 512};
  int done = 0;
  for (int n : sizes) {
    job.check_cancelled();
    job.report(done++, 4, "pk2d n=" + std::to_string(n));
    const Field2D field =
        gaussian_random_field_2d([](double k) { return 1.0 / (1.0 + k * k); }, n, 25.0, 3);
    auto m =
        time_call("power_spectrum_2d/n=" + std::to_string(n), [&] { power_spectrum_2d(field); });
    m.target_ratio = 2.0 * fft_scaling(n, sizes[0]);
    m.note = "O(n^2 log n)";
    result.measurements.push_back(m);
  }
  finish_suite(result);
  job.report(4, 4, "done");
  return result;
}

BenchSuiteResult run_points(const JobContext& job) {
  BenchSuiteResult result{"points", "Clustered point sets for the 3D view", {}};
  const int sizes[] = {5000, 50000};
  int done = 0;
  for (int n : sizes) {
    job.check_cancelled();
    job.report(done++, 2, "thomas n=" + std::to_string(n));
    ThomasProcessSettings s;
    s.points = n;
    auto m = time_call("thomas_point_process/n=" + std::to_string(n),
                       [&] { thomas_point_process(s, 11); });
    m.target_ratio = 2.0 * double(n) / sizes[0];
    m.note = "O(n)";
    result.measurements.push_back(m);
  }
  finish_suite(result);
  job.report(2, 2, "done");
  return result;
}

}  // namespace

std::vector<BenchSuite> make_bench_suites() {
  return {{"fields", "2D Gaussian random fields at the slider cosmology", run_fields},
          {"stats", "Summary statistics of 2D fields", run_stats},
          {"points", "Clustered point sets for the 3D view", run_points}};
}

}  // namespace ds
