#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
  const auto result = ds::bench_suite("points").run({});
  ASSERT_EQ(result.measurements.size(), 2u);
  EXPECT_DOUBLE_EQ(result.measurements[0].ratio, 1.0);
  EXPECT_GT(result.measurements[1].ratio, 2.0);  // ten times the points
  const auto json = nlohmann::json::parse(ds::bench_results_to_json({result}));
  EXPECT_EQ(json["suites"][0]["name"], "points");
  EXPECT_EQ(json["suites"][0]["measurements"][1]["reference"], "thomas_point_process/n=5000");
  EXPECT_TRUE(json.contains("all_targets_met"));
  EXPECT_TRUE(json["libraries"].contains("libtorch"));
}
