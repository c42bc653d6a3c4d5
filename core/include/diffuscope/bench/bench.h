// Benchmark suites for `diffuscope-cli bench`. Every timing is reported next to a reference
// configuration measured in the same run, and targets are stated as ratios (DESIGN.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "diffuscope/jobs/job.h"

namespace ds {

struct BenchMeasurement {
  std::string name;       // e.g. "grf_2d/n=256"
  std::string reference;  // name of the reference measurement of the suite
  double seconds = 0.0;   // median time of one call
  int repetitions = 0;
  // CPU time of the whole process per call (mean over the timed repetitions; 0 when not timed by
  // time_call): system time is where allocation churn shows (page faults).
  double user_seconds = 0.0, system_seconds = 0.0;
  double ratio = 1.0;         // seconds / reference seconds
  double target_ratio = 0.0;  // the ratio this measurement should stay below (0 = none)
  std::string note;           // what the ratio is expected to follow
  // Floating-point operations of one call (0: not counted) and the machine peak they are set
  // against (a MachinePeaks name: "sgemm_fp32", "dgemm_fp64"): the JSON then gives GFLOP/s and
  // the fraction of that peak, measured in the same run. Networks count their convolutions and
  // matrix products (count_network_flops); FFT work counts FFTW's nominal 2.5 N log2 N per
  // real transform of N points (fft_flops); element-wise work is not counted.
  double flops = 0.0;
  std::string peak;
  bool meets_target() const { return target_ratio <= 0.0 || ratio <= target_ratio; }
};

// This machine's measured peaks, in the same process and with the same threads as the suites:
// the GFLOP/s of large matrix products (LibTorch's BLAS) in float32 and float64, and of a large
// 3x3 convolution in float32 (LibTorch's oneDNN / native kernels): what a kernel can reach here.
struct MachinePeaks {
  double sgemm_fp32 = 0.0, dgemm_fp64 = 0.0, conv3x3_fp32 = 0.0;  // GFLOP/s
  std::string how;                                                // the sizes measured
  double gflops(const std::string& name) const;                   // by name; 0 for an unknown one
};
MachinePeaks measure_machine_peaks();

// Nominal FFT flops: 2.5 N log2 N for a real transform of N points (FFTW's convention).
double fft_flops(double points);

struct BenchSuiteResult {
  std::string suite;
  std::string description;
  std::vector<BenchMeasurement> measurements;
  std::vector<std::string> notes;  // e.g. a part skipped for want of an input
};

// What some suites take from the command line (`bench --model M ...`); suites that need none
// ignore it. An empty model means "not given": the model-based parts are skipped with a note.
struct BenchInputs {
  std::string model;    // a diffusion model for the model-based part of `inference`
  std::string field;    // its observed field (.npy / HDF5); empty: sampled from the model
  long index = -1;      // field of a stack (-1: the only one)
  int field_size = 64;  // side of the field sampled from the model
  int grid_size = 50;
  int t_max = 20;  // T_MAX of the model part (the published 20; less for tests)             //
                   // likelihood grid n x n at T_MAX = 20
  double sampler_seconds = 45.0;  // wall-time budget of each sampler run (and 2x: of the grid)
};

struct BenchSuite {
  std::string name;
  std::string description;
  std::function<BenchSuiteResult(const JobContext&, const BenchInputs&)> run;
};

// All registered suites, in a fixed order.
const std::vector<BenchSuite>& bench_suites();
const BenchSuite& bench_suite(const std::string& name);  // throws InvalidArgument with choices

// Median time of repeated calls of fn: at least min_repetitions and min_seconds in total.
BenchMeasurement time_call(const std::string& name, const std::function<void()>& fn,
                           double min_seconds = 0.2, int min_repetitions = 3);

// The whole result as JSON (schema in README.md), with library versions, thread count and the
// allocator policy (runtime.h).
// With peaks: a top-level "machine_peak" object and, for every measurement with flops, "flops",
// "gflops", "peak" and "peak_fraction" (of that peak).
std::string bench_results_to_json(const std::vector<BenchSuiteResult>& results,
                                  const MachinePeaks* peaks = nullptr);
// "12.3 GFLOP/s, 8.1% of sgemm_fp32" for a measurement with flops; "" otherwise.
std::string efficiency_text(const BenchMeasurement& m, const MachinePeaks& peaks);

}  // namespace ds
