// Crash safety (issue 18, item 3) with real processes: diffuscope-cli (DS_CLI_PATH) is killed
// with SIGKILL while it writes a file, at the moment its temporary exists, and what is on disk
// afterwards is checked: every output is the previous complete version or the new complete one
// (never a mixture, never half a file), the temporaries of the dead writer are removed by the
// next write, a training resumed after the kills ends bit for bit where an uninterrupted run
// ends, and a long grid scan leaves the points it had computed in a readable partial file.
// (The chain files' counterpart is the CLI case crash_chains_kill9.)
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "test_helpers.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using dstest::Child;
using dstest::read_text;
using dstest::spawn;
using dstest::wait_for;

// Hidden temporaries of the atomic writer for `target` (".NAME.tmp-PID").
std::vector<fs::path> temporaries_of(const fs::path& target) {
  std::vector<fs::path> out;
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  for (const auto& e : fs::directory_iterator(target.parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  return out;
}

// Watches `child` and kills it with SIGKILL at the `nth` moment a temporary of `target` is seen
// (a write in progress). Returns true when it killed, false when the child exited first (its exit
// code in *exit_code).
bool kill_during_nth_write(Child& child, const fs::path& target, int nth, int* exit_code,
                           double timeout_s = 120) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  int seen = 0;
  bool in_write = false;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(child.pid, &status, WNOHANG) == child.pid) {
      *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    const bool now_in_write = !temporaries_of(target).empty();
    if (now_in_write && !in_write && ++seen == nth) {
      ::kill(child.pid, SIGKILL);
      ::waitpid(child.pid, &status, 0);
      return true;
    }
    in_write = now_in_write;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(child.pid, SIGKILL);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  *exit_code = -1;
  return false;
}

class CrashSafety : public ::testing::Test {
 protected:
  fs::path dir = dstest::scratch_dir("crash");
  std::string file(const std::string& name) const { return (dir / name).string(); }
  int run(const std::vector<std::string>& args, const std::string& tag, double seconds = 180) {
    Child c = spawn(args, {}, file(tag + ".err"));
    const int rc = wait_for(c, seconds);
    EXPECT_EQ(rc, 0) << read_text(c.err);
    return rc;
  }
};

void expect_same_arrays(const std::vector<ds::NamedArray>& a, const std::vector<ds::NamedArray>& b,
                        const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name) << what;
    EXPECT_EQ(a[i].shape, b[i].shape) << what << " " << a[i].name;
    EXPECT_TRUE(a[i].values == b[i].values) << what << " " << a[i].name << " differs";
  }
}

TEST_F(CrashSafety, TrainingKilledDuringCheckpointWritesResumesBitForBit) {
  const std::string data = file("d.h5");
  ASSERT_EQ(run({"--quiet", "--threads", "1", "mock", "fields", "--kind", "zeldovich", "--set",
                 "lh", "--n-cosmo", "6", "--res", "16", "--seed", "2", "--out", data},
                "mock"),
            0);
  constexpr int kSteps = 10;
  std::ofstream(file("c.json")) << R"({"model": {"dim": 8, "dim_mults": [1, 2]}, "batch_size": 2,
      "steps": )" << kSteps << R"(, "log_every": 1, "checkpoint_every": 1, "validate_every": 0,
      "validation_fraction": 0.34})";
  const auto train = [&](const std::string& out, bool resume) {
    std::vector<std::string> a{"--quiet",  "--threads",    "1",     "train", "--data", data,
                               "--config", file("c.json"), "--out", out};
    if (resume) a.push_back("--resume");
    return a;
  };
  ASSERT_EQ(run(train(file("ref.h5"), false), "ref"), 0);

  // Kill at the second or third checkpoint write of each run (the first write of a run is its
  // first step's: killing there would never progress), resume, until a run completes.
  const fs::path target = dir / "m.h5";
  int kills = 0, mid_write = 0, last_step = 0;
  for (int attempt = 0; attempt < 40; ++attempt) {
    Child c = spawn(train(target.string(), fs::exists(target)), {},
                    file("run" + std::to_string(attempt) + ".err"));
    int rc = 0;
    if (!kill_during_nth_write(c, target, 2 + attempt % 2, &rc)) {
      ASSERT_EQ(rc, 0) << read_text(c.err);
      break;
    }
    ++kills;
    // The writer died: its temporary may remain (hidden); the checkpoint is whole.
    if (!temporaries_of(target).empty()) ++mid_write;
    ASSERT_TRUE(fs::exists(target)) << "no checkpoint after kill " << kills;
    const auto cp = ds::read_model_checkpoint(target.string(), ds::CheckpointParts::Everything);
    EXPECT_GE(cp.step, last_step);
    EXPECT_EQ(cp.loss.size(), std::size_t(cp.step));
    last_step = int(cp.step);
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(name[0] == '.' || name == "d.h5" || name == "c.json" || name == "ref.h5" ||
                  name == "m.h5" || name.find(".err") != std::string::npos)
          << "unexpected file " << name;
    }
  }
  std::printf("training killed %d times during checkpoint writes (%d left a temporary behind)\n",
              kills, mid_write);
  EXPECT_GE(kills, 2);
  EXPECT_GE(mid_write, 1) << "no kill landed while a temporary existed";
  EXPECT_TRUE(temporaries_of(target).empty()) << "a dead writer's temporary was not removed";
  const auto ref = ds::read_model_checkpoint(file("ref.h5"), ds::CheckpointParts::Everything);
  const auto got = ds::read_model_checkpoint(target.string(), ds::CheckpointParts::Everything);
  EXPECT_EQ(got.step, kSteps);
  EXPECT_EQ(got.optimizer_step, ref.optimizer_step);
  EXPECT_EQ(got.data_position, ref.data_position);
  EXPECT_TRUE(got.loss == ref.loss) << "the losses of the resumed run differ";
  expect_same_arrays(ref.weights, got.weights, "weights");
  expect_same_arrays(ref.ema, got.ema, "EMA weights");
  expect_same_arrays(ref.exp_avg, got.exp_avg, "Adam first moments");
  expect_same_arrays(ref.exp_avg_sq, got.exp_avg_sq, "Adam second moments");
}

TEST_F(CrashSafety, GridScanKilledWhileSavingLeavesItsPointsInAReadablePartialFile) {
  const std::string field = file("z.h5");
  ASSERT_EQ(run({"--quiet", "mock", "fields", "--kind", "zeldovich", "--set", "single", "--res",
                 "64", "--seed", "3", "--out", field},
                "mock"),
            0);
  const fs::path out = dir / "g.h5";
  const fs::path partial = dir / "g.h5.partial.h5";
  const std::vector<std::string> args{
      "--quiet",  "--threads", "2",
      "vlb-grid", "--model",   std::string(DS_ASSETS_DIR) + "/models/zeldovich64.h5",
      "--field",  field,       "--index",
      "0",        "--tmax",    "2",
      "--grid",   "12",        "--full-prior",
      "--out",    out.string()};
  // Killed while the partial file is rewritten the second time: the first version must stand.
  Child c = spawn(args, {}, file("scan.err"));
  int rc = 0;
  ASSERT_TRUE(kill_during_nth_write(c, partial, 2, &rc))
      << "the scan ended (" << rc
      << ") before its partial file was rewritten: " << read_text(c.err);
  EXPECT_FALSE(fs::exists(out)) << "a final grid after a kill";
  ASSERT_TRUE(fs::exists(partial));
  const ds::GridScan left = ds::read_grid_scan(partial.string());
  EXPECT_FALSE(left.complete);
  EXPECT_EQ(left.n(), 12u);
  EXPECT_EQ(left.provenance.t_max, 2);
  std::size_t finite = 0;
  for (double v : left.log_like) finite += std::isfinite(v) ? 1 : 0;
  EXPECT_GT(left.known_points, 0u);
  EXPECT_LT(left.known_points, 144u);
  EXPECT_EQ(finite, left.known_points);

  // A new scan to the same OUT refuses to overwrite the points the crash left.
  Child refused = spawn(args, {}, file("refused.err"));
  EXPECT_EQ(wait_for(refused, 120), 1);
  EXPECT_NE(read_text(refused.err).find("g.h5.partial.h5: holds the points of an interrupted scan"),
            std::string::npos)
      << read_text(refused.err);
  EXPECT_TRUE(ds::read_grid_scan(partial.string()).known_points == left.known_points);
  // Moved away, the scan runs to the end: the final grid, no partial file, no temporaries; the
  // points the crash left are the values the full scan computes.
  fs::rename(partial, dir / "kept.partial.h5");
  ASSERT_EQ(run(args, "again"), 0);
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_TRUE(temporaries_of(out).empty() && temporaries_of(partial).empty());
  const ds::GridScan full = ds::read_grid_scan(out.string());
  EXPECT_TRUE(full.complete);
  EXPECT_EQ(full.known_points, 144u);
  for (std::size_t p = 0; p < left.log_like.size(); ++p) {
    if (std::isfinite(left.log_like[p])) {
      EXPECT_NEAR(left.log_like[p], full.log_like[p], 1e-6 * std::abs(full.log_like[p]) + 1e-9)
          << "point " << p;
    }
  }
  std::printf("grid scan killed while saving: %zu of 144 points survived\n", left.known_points);
}

}  // namespace
