#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/inference_bench.h"
#include "diffuscope/bench/bench.h"
#include "diffuscope/error.h"

TEST(Bench, TimeCallRepeatsAndReportsTheMedian) {
  int calls = 0;
  const auto m = ds::time_call(
      "count", [&] { ++calls; }, 0.0, 5);
  EXPECT_EQ(m.repetitions, 5);
  EXPECT_EQ(calls, 6);  // one warm-up call
  EXPECT_GE(m.seconds, 0.0);
}

TEST(Bench, SuitesAreRegisteredAndUnknownNamesAreRejected) {
  EXPECT_GE(ds::bench_suites().size(), 3u);
  EXPECT_EQ(ds::bench_suite("stats").name, "stats");
  EXPECT_THROW(ds::bench_suite("nope"), ds::InvalidArgument);
}

TEST(Bench, PointsSuiteWritesRatiosAgainstItsReference) {
  const auto result = ds::bench_suite("points").run({}, {});
  ASSERT_EQ(result.measurements.size(), 2u);
  EXPECT_DOUBLE_EQ(result.measurements[0].ratio, 1.0);
  EXPECT_GT(result.measurements[1].ratio, 2.0);  // ten times the points
  const auto json = nlohmann::json::parse(ds::bench_results_to_json({result}));
  EXPECT_EQ(json["suites"][0]["name"], "points");
  EXPECT_EQ(json["suites"][0]["measurements"][1]["reference"], "thomas_point_process/n=5000");
  EXPECT_TRUE(json.contains("all_targets_met"));
  EXPECT_TRUE(json["libraries"].contains("libtorch"));
}

TEST(Bench, InferenceModelPartMeasuresSamplersGridAndBatchingOnTheTinyModel) {
  // The model part of the inference suite on dhmc_tiny with tiny settings: an 8^2 field sampled
  // from the model, T_MAX = 2, a 4 x 4 grid, chains sized by a 1 s budget (the 30-iteration
  // minimum) and stopped by it at the latest after 2 s each.
  ds::BenchInputs inputs;
  inputs.model = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/checkpoint_tiny.pt";
  inputs.field_size = 8;
  inputs.grid_size = 4;
  inputs.t_max = 2;
  inputs.sampler_seconds = 1.0;
  ds::BenchSuiteResult result{"inference", "test", {}, {}};
  ds::run_model_inference_bench(inputs, {}, result);
  for (const auto& x : result.measurements)
    std::printf("%s: %.4g s; %s\n", x.name.c_str(), x.seconds, x.note.c_str());
  ASSERT_EQ(result.measurements.size(), 7u);
  const auto& m = result.measurements;
  EXPECT_EQ(m[0].name, "model/vlb_gradient/tmax=2/unbatched");
  EXPECT_EQ(m[1].name, "model/vlb_gradient/tmax=2/batched");
  EXPECT_EQ(m[1].reference, m[0].name);
  EXPECT_DOUBLE_EQ(m[1].ratio, m[1].seconds / m[0].seconds);
  // The network work of a VLB value + gradient is counted, the same whatever the batching.
  EXPECT_GT(m[0].flops, 0.0);
  EXPECT_DOUBLE_EQ(m[1].flops, m[0].flops);
  EXPECT_EQ(m[1].peak, "sgemm_fp32");
  EXPECT_EQ(m[2].name, "model/hmc_published/fresh");
  EXPECT_DOUBLE_EQ(m[2].ratio, 1.0);
  EXPECT_NE(m[2].note.find("4 chains x "), std::string::npos) << m[2].note;
  EXPECT_EQ(m[3].name, "model/nuts_adapted/common");
  EXPECT_EQ(m[3].reference, m[2].name);
  EXPECT_DOUBLE_EQ(m[3].target_ratio, 0.1);
  EXPECT_NE(m[3].note.find("ESS per second"), std::string::npos);
  EXPECT_EQ(m[4].name, "model/surrogate_hmc/common");
  EXPECT_EQ(m[4].reference, m[2].name);
  EXPECT_DOUBLE_EQ(m[4].ratio, m[4].seconds / m[2].seconds);
  EXPECT_DOUBLE_EQ(m[4].target_ratio, 0.1);
  EXPECT_NE(m[4].note.find("ESS per second"), std::string::npos) << m[4].note;
  // Its design and acceptance, unless the (1 s) budget stopped it first (a slow build).
  EXPECT_TRUE(m[4].note.find("stage 2 acceptance") != std::string::npos ||
              m[4].note.find("stopped at the time budget") != std::string::npos)
      << m[4].note;
  EXPECT_EQ(m[5].name, "model/vlb_grid/4x4/tmax=2");
  EXPECT_NE(m[5].note.find("measured"), std::string::npos) << m[5].note;
  // The paper's window with exact contours, timed against the full grid's 50 x 50 equivalent.
  EXPECT_EQ(m[6].name, "model/vlb_grid_contours/50x50/tmax=2");
  EXPECT_EQ(m[6].reference, m[5].name);
  EXPECT_DOUBLE_EQ(m[6].ratio, m[6].seconds / (m[5].seconds * 2500.0 / 16.0));
  EXPECT_NE(m[6].note.find(" of 2500 points evaluated"), std::string::npos) << m[6].note;
  for (const auto& x : m) {
    EXPECT_TRUE(std::isfinite(x.seconds) && x.seconds > 0.0) << x.name;
    EXPECT_TRUE(std::isfinite(x.ratio)) << x.name;
  }
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find("8^2 field sampled from the model"), std::string::npos);
  const auto json = nlohmann::json::parse(ds::bench_results_to_json({result}));
  EXPECT_EQ(json["suites"][0]["notes"][0], result.notes[0]);
}

// Every counted measurement is stated as GFLOP/s and as a fraction of the machine peak it names,
// measured in the same run; uncounted ones carry neither.
TEST(Bench, PeakFractionIsTheMeasuredRateOverTheNamedPeak) {
  ds::MachinePeaks peaks;
  peaks.sgemm_fp32 = 100.0;
  peaks.dgemm_fp64 = 50.0;
  peaks.conv3x3_fp32 = 80.0;
  ds::BenchSuiteResult r{"x", "y", {}, {}};
  ds::BenchMeasurement counted;
  counted.name = "counted";
  counted.seconds = 0.5;
  counted.flops = 10e9;  // 20 GFLOP/s
  counted.peak = "dgemm_fp64";
  ds::BenchMeasurement plain;
  plain.name = "plain";
  plain.seconds = 0.1;
  r.measurements = {counted, plain};
  const auto json = nlohmann::json::parse(ds::bench_results_to_json({r}, &peaks));
  EXPECT_DOUBLE_EQ(json["machine_peak"]["dgemm_fp64_gflops"].get<double>(), 50.0);
  const auto& m = json["suites"][0]["measurements"];
  EXPECT_DOUBLE_EQ(m[0]["gflops"].get<double>(), 20.0);
  EXPECT_EQ(m[0]["peak"], "dgemm_fp64");
  EXPECT_DOUBLE_EQ(m[0]["peak_fraction"].get<double>(), 0.4);
  EXPECT_FALSE(m[1].contains("gflops"));
  EXPECT_FALSE(m[1].contains("peak_fraction"));
  EXPECT_EQ(ds::efficiency_text(counted, peaks), "20.00 GFLOP/s, 40.0% of dgemm_fp64");
  EXPECT_EQ(ds::efficiency_text(plain, peaks), "");
  // Without peaks (an old caller): the rate, no fraction.
  const auto bare = nlohmann::json::parse(ds::bench_results_to_json({r}));
  EXPECT_FALSE(bare.contains("machine_peak"));
  EXPECT_FALSE(bare["suites"][0]["measurements"][0].contains("peak_fraction"));
  EXPECT_DOUBLE_EQ(ds::fft_flops(1024.0), 2.5 * 1024 * 10);

  const ds::MachinePeaks measured = ds::measure_machine_peaks();
  for (double g : {measured.sgemm_fp32, measured.dgemm_fp64, measured.conv3x3_fp32})
    EXPECT_TRUE(std::isfinite(g) && g > 0.1) << g;
  EXPECT_GT(measured.sgemm_fp32, measured.dgemm_fp64 * 0.5);  // float32 is not slower than half
  EXPECT_NE(measured.how.find("threads"), std::string::npos);
}
