// The benchmark suites. Each suite times a reference configuration first and states every other
// measurement as a ratio to it, so the numbers compare across machines.
#include <cmath>
#include <cstdio>
#include <string>

#include "bench/diffusion_bench.h"
#include "bench/inference_bench.h"
#include "bench/mock_bench.h"
#include "bench/pointcloud_bench.h"
#include "diffuscope/bench/bench.h"
#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"
#include "diffuscope/mock/clustered_points.h"
#include "diffuscope/mock/gaussian_field.h"
#include "diffuscope/stats/knn_cdf.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "diffuscope/stats/power_spectrum_3d.h"
#include "diffuscope/stats/two_point.h"

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
  BenchSuiteResult result{"fields", "2D Gaussian random fields at the slider cosmology", {}, {}};
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
    m.flops = 2.0 * fft_flops(double(n) * n);  // the forward and inverse FFT; the table uncounted
    m.peak = "dgemm_fp64";
    result.measurements.push_back(m);
  }
  job.report(done, 5, "projected spectrum table");
  GrfSettings table_settings;
  table_settings.n = 256;
  auto table =
      time_call("grf_spectrum_2d/n=256", [&] { grf_spectrum_2d(cosmology, table_settings); });
  table.note = "fixed cost per cosmology; part of every slider update";
  result.measurements.push_back(table);
  // The exact GRF likelihood of a 256^2 field per evaluation, after construction (FFT and mode
  // binning once). A value alone (grid scans) tabulates P_2D at its Omega_m (kept per Omega_m:
  // every call here asks a new one); a value with the gradient (HMC, NUTS) reads the Omega_m
  // series, whose panel (16 tables) the warm-up call builds (grf_likelihood.h).
  job.check_cancelled();
  const GrfLikelihood likelihood(cosmological_grf_2d(cosmology, table_settings, 11));
  double omega_m = 0.31;
  auto value = time_call("grf_loglike/n=256", [&] {
    omega_m += 1e-7;  // a new Omega_m: no kept table
    likelihood.log_likelihood(omega_m, 0.79);
  });
  value.note = "one P_2D table + a sum over the distinct |k|";
  result.measurements.push_back(value);
  auto gradient =
      time_call("grf_loglike_gradient/n=256", [&] { likelihood.evaluate(0.31, 0.79, true); });
  gradient.note = "Chebyshev series in Omega_m: a dot product per |k| bin, no table";
  result.measurements.push_back(gradient);
  finish_suite(result);
  job.report(5, 5, "done");
  return result;
}

// Adds the absolute latency target (DESIGN.md: ratios plus absolute latencies) to a note.
void note_absolute_target(BenchMeasurement& m, double target_seconds, const std::string& what) {
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "%s; absolute target < %.0f ms (%s: %.2f ms)", what.c_str(),
                target_seconds * 1e3, m.seconds <= target_seconds ? "met" : "NOT met",
                m.seconds * 1e3);
  m.note = buffer;
}

BenchSuiteResult run_stats(const JobContext& job) {
  BenchSuiteResult result{"stats", "Summary statistics of fields and point sets", {}, {}};
  const int sizes[] = {64, 128, 256, 512};
  const int steps = 7;
  int done = 0;
  for (int n : sizes) {
    job.check_cancelled();
    job.report(done++, steps, "pk2d n=" + std::to_string(n));
    const Field2D field =
        gaussian_random_field_2d([](double k) { return 1.0 / (1.0 + k * k); }, n, 25.0, 3);
    auto m =
        time_call("power_spectrum_2d/n=" + std::to_string(n), [&] { power_spectrum_2d(field); });
    m.target_ratio = 2.0 * fft_scaling(n, sizes[0]);
    m.note = "O(n^2 log n)";
    m.flops = fft_flops(double(n) * n);  // one real FFT; the binning uncounted
    m.peak = "dgemm_fp64";
    if (n == 256) note_absolute_target(m, 5e-3, m.note);
    result.measurements.push_back(m);
  }
  // Point statistics of a clustered set like the goldens' (5000 points, 200 clusters, L = 1000
  // Mpc/h) on 2 threads. On the 2-core development machine (idle) the reference pk2d 64^2 takes
  // 0.014 ms, knn-CDF ~65 ms, 2PCF ~9 ms, pk3d 64^3 ~1.4 ms: the ratio targets below are about
  // twice those ratios (knn: the ratio its absolute target of 150 ms would have there).
  const PointCloud points = thomas_point_process(ThomasProcessSettings{}, 17);
  PointStatisticsOptions two_threads;
  two_threads.threads = 2;

  job.report(done++, steps, "knn-cdf");
  const auto queries = uniform_queries(100000, points.box_size, 18);
  std::vector<double> radii;
  for (int i = 1; i <= 60; ++i) radii.push_back(i);
  auto knn = time_call("knn_cdf/points=5000,queries=1e5,k=1,5,9", [&] {
    knn_cdf(knn_distances(points, queries, {1, 5, 9}, two_threads), radii);
  });
  knn.target_ratio = 10000.0;
  note_absolute_target(knn, 0.150, "KD-tree, O(Nq log N), 2 threads");
  result.measurements.push_back(knn);

  job.report(done++, steps, "2pcf");
  std::vector<double> edges;
  for (int i = 0; i <= 25; ++i) edges.push_back(150.0 * i / 25);
  auto tpcf = time_call("tpcf/points=5000,bins=25,rmax=150",
                        [&] { two_point_correlation(points, edges, two_threads); });
  tpcf.target_ratio = 1400.0;
  note_absolute_target(tpcf, 0.100, "cell list, O(N n rmax^3), 2 threads");
  result.measurements.push_back(tpcf);

  job.report(done++, steps, "pk3d");
  auto pk3d = time_call("pk3d/points=5000,mesh=64,cic",
                        [&] { power_spectrum_3d(points, 64, MassAssignment::Cic); });
  pk3d.target_ratio = 250.0;
  pk3d.note = "CIC painting + 64^3 FFT";
  pk3d.flops = fft_flops(64.0 * 64 * 64);  // the FFT; painting and binning uncounted
  pk3d.peak = "dgemm_fp64";
  result.measurements.push_back(pk3d);

  finish_suite(result);
  job.report(steps, steps, "done");
  return result;
}

BenchSuiteResult run_points(const JobContext& job) {
  BenchSuiteResult result{"points", "Clustered point sets for the 3D view", {}, {}};
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
  result.notes.push_back(
      "no peak fraction: a Thomas process is random-number and memory work, with no "
      "floating-point kernel to set against a matrix-product peak");
  finish_suite(result);
  job.report(2, 2, "done");
  return result;
}

// A suite that takes no inputs.
std::function<BenchSuiteResult(const JobContext&, const BenchInputs&)> without_inputs(
    BenchSuiteResult (*run)(const JobContext&)) {
  return [run](const JobContext& job, const BenchInputs&) { return run(job); };
}

}  // namespace

std::vector<BenchSuite> make_bench_suites() {
  return {
      {"fields", "2D Gaussian random fields at the slider cosmology", without_inputs(run_fields)},
      {"stats", "Summary statistics of fields and point sets", without_inputs(run_stats)},
      {"points", "Clustered point sets for the 3D view", without_inputs(run_points)},
      {"mock", "Mock simulators: Zel'dovich maps and halo catalogues",
       without_inputs(run_mock_bench)},
      {"diffusion2d", "Diffusion-HMC U-Nets, DDIM sampling and the truncated VLB",
       without_inputs(run_diffusion_bench)},
      {"inference",
       "Published HMC vs adapted NUTS on the exact GRF posterior of a 64^2 mock; with "
       "--model, the same on the model's VLB and a 50 x 50 likelihood grid",
       run_inference_bench},
      {"pointcloud",
       "Point-cloud diffusion: periodic kNN graphs vs N, one 1000-halo ODE sample and the "
       "5000-halo ELBO (S = 50, K = 8) of the default model (halos1000.h5, found wherever the "
       "program runs, or --model)",
       run_pointcloud_bench}};
}

}  // namespace ds
