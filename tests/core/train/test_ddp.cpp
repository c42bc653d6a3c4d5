// Data-parallel training over Gloo with real processes (issue 19): two `diffuscope-cli train`
// ranks on this CPU against one process with the union batch, a killed rank, SIGTERM to one
// rank, a rank alone at the rendezvous, and a resume with another world size. Each case runs the
// CLI (DS_CLI_PATH) as children with a launcher environment; ports come from binding port 0, so
// parallel test runs do not collide.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../child_process.h"
#include "../test_helpers.h"
#include "diffuscope/data/model_file.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using dstest::Child;
using dstest::read_text;
using dstest::spawn;
using dstest::wait_for;

// A TCP port that was free a moment ago (the kernel's pick for port 0 on the loopback).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(s);
  return ntohs(address.sin_port);
}

class DataParallel : public ::testing::Test {
 protected:
  fs::path dir = dstest::scratch_dir("ddp");
  std::string data = (dir / "d.h5").string();

  void SetUp() override {
    Child mock =
        spawn({"--quiet", "--threads", "1", "mock", "fields", "--kind", "zeldovich", "--set", "lh",
               "--n-cosmo", "10", "--res", "16", "--seed", "3", "--out", data},
              {}, file("mock.err"));
    ASSERT_EQ(wait_for(mock, 60), 0) << read_text(mock.err);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }

  // A tiny U-Net config with `batch` examples per rank and no validation.
  std::string config(int batch, int steps) {
    const std::string path = file("c" + std::to_string(batch) + ".json");
    std::ofstream(path) << R"({"model": {"dim": 8, "dim_mults": [1, 2]}, "batch_size": )" << batch
                        << R"(, "steps": )" << steps
                        << R"(, "log_every": 1, "validate_every": 0, "validation_fraction": 0.2,
                              "lr": 1e-3, "warmup": 0, "grad_clip": 1.0, "eps": 1e-4})";
    return path;
  }
  std::vector<std::string> train_args(const std::string& config_path, const std::string& out) {
    return {"--threads", "1",        "--quiet",   "train", "--data",
            data,        "--config", config_path, "--out", out};
  }
  static std::map<std::string, std::string> rank_env(int rank, int world, int port) {
    return {{"RANK", std::to_string(rank)},
            {"WORLD_SIZE", std::to_string(world)},
            {"LOCAL_RANK", std::to_string(rank)},
            {"MASTER_ADDR", "127.0.0.1"},
            {"MASTER_PORT", std::to_string(port)}};
  }
  // Starts two ranks of a long run that logs (not --quiet) and returns once rank 0 has said that
  // both joined, plus half a second of steps.
  std::pair<Child, Child> start_joined_ranks(const std::string& out, const std::string& tag,
                                             const std::vector<std::string>& extra = {}) {
    auto args = train_args(config(2, 1000000), file(out));
    args.erase(args.begin() + 2);  // not --quiet: rank 0's log shows the join
    args.insert(args.end(), extra.begin(), extra.end());
    const int port = free_port();
    Child r0 = spawn(args, rank_env(0, 2, port), file(tag + "0.err"));
    Child r1 = spawn(args, rank_env(1, 2, port), file(tag + "1.err"));
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (read_text(r0.err).find("data-parallel training: 2 ranks") == std::string::npos &&
           Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_NE(read_text(r0.err).find("data-parallel training: 2 ranks (Gloo)"), std::string::npos)
        << read_text(r0.err);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a few steps in
    return {r0, r1};
  }
  // Trains with two ranks; both exit 0.
  void train_two_ranks(const std::vector<std::string>& args) {
    const int port = free_port();
    Child r0 = spawn(args, rank_env(0, 2, port), file("r0.err"));
    Child r1 = spawn(args, rank_env(1, 2, port), file("r1.err"));
    EXPECT_EQ(wait_for(r1, 120), 0) << read_text(r1.err);
    ASSERT_EQ(wait_for(r0, 120), 0) << read_text(r0.err);
  }
};

// The largest |a - b| over the named arrays of two checkpoints (matched by position and name).
double max_difference(const std::vector<ds::NamedArray>& a, const std::vector<ds::NamedArray>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].values.size(), b[i].values.size());
    for (std::size_t k = 0; k < a[i].values.size() && k < b[i].values.size(); ++k)
      worst = std::max(worst, double(std::fabs(a[i].values[k] - b[i].values[k])));
  }
  return worst;
}

TEST_F(DataParallel, TwoGlooRanksMatchOneProcessOnTheUnionBatch) {
  const int steps = 4;
  train_two_ranks(train_args(config(2, steps), file("ddp.h5")));
  Child single = spawn(train_args(config(4, steps), file("one.h5")), {}, file("one.err"));
  ASSERT_EQ(wait_for(single, 120), 0) << read_text(single.err);

  const auto ddp = ds::read_model_checkpoint(file("ddp.h5"), ds::CheckpointParts::Everything);
  const auto one = ds::read_model_checkpoint(file("one.h5"), ds::CheckpointParts::Everything);
  EXPECT_EQ(ddp.step, steps);
  EXPECT_EQ(ddp.data_position, 2 * 2 * steps);
  EXPECT_EQ(one.data_position, 4 * steps);
  // The same examples, noise and timesteps; the averaged gradient of the two halves equals the
  // gradient of the whole batch's mean loss up to float32 summation order (~1e-7 relative).
  // Adam divides a gradient by its running RMS + eps, so a parameter whose true gradient is zero
  // (a conv bias right before a one-channel GroupNorm group) turns rounding noise into steps of
  // +-lr: the config raises eps to 1e-4 so that noise stays noise. Then a rounding-level change
  // of a gradient g moves its update by ~lr x 1e-7 |g| / (|g| + eps) <~ 1e-10 per step; measured
  // after 4 steps: 1.6e-7 (weights of size ~0.1-1, float32 resolution ~1e-8-1e-7). Tolerance
  // 2e-6; a wrong shard, batch or average moves weights by ~lr = 1e-3 (the control below).
  const double tolerance = 2e-6;
  EXPECT_LT(max_difference(ddp.weights, one.weights), tolerance);
  EXPECT_LT(max_difference(ddp.ema, one.ema), tolerance);
  // Control: one process on half the global batch (batch 2) is far off.
  Child half = spawn(train_args(config(2, steps), file("half.h5")), {}, file("half.err"));
  ASSERT_EQ(wait_for(half, 120), 0) << read_text(half.err);
  EXPECT_GT(max_difference(ds::read_model_checkpoint(file("half.h5")).weights, one.weights), 1e-4);
  ASSERT_EQ(ddp.loss.size(), one.loss.size());
  for (std::size_t i = 0; i < ddp.loss.size(); ++i)
    EXPECT_NEAR(ddp.loss[i], one.loss[i], 1e-5 * std::fabs(one.loss[i])) << "step " << i;
  // Only rank 0 writes: no stray temporaries, rank 1 silent on stdout.
  EXPECT_EQ(read_text(file("r1.err.out")), "");
  EXPECT_NE(read_text(file("r0.err.out")).find("trained steps 0..4"), std::string::npos);
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST_F(DataParallel, TwoGlooRanksMatchOneProcessForPointClouds) {
  // The point-cloud trainer shares the loop: the same check on tiny halo catalogues.
  const std::string halos = file("h.h5");
  Child mock =
      spawn({"--quiet", "--threads", "1", "mock", "halos", "--set", "lh", "--n-cosmo", "8",
             "--n-halos", "32", "--mesh", "16", "--features", "all", "--seed", "2", "--out", halos},
            {}, file("mock-halos.err"));
  ASSERT_EQ(wait_for(mock, 60), 0) << read_text(mock.err);
  auto point_config = [&](int batch) {
    const std::string path = file("p" + std::to_string(batch) + ".json");
    std::ofstream(path) << R"({"network": {"kind": "transformer", "d_model": 16, "heads": 2,
      "layers": 1, "mlp_width": 32, "cond_mlp": [8, 8], "time_embedding": 8,
      "theta_embedding": 4}, "batch_size": )"
                        << batch << R"(, "steps": 3, "log_every": 1, "warmup": 0,
      "validate_every": 0, "validation_fraction": 0.25, "eps": 1e-4})";
    return path;
  };
  auto args = [&](int batch, const std::string& out) {
    return std::vector<std::string>{"--threads", "1",        "--quiet",           "train", "--data",
                                    halos,       "--config", point_config(batch), "--out", out};
  };
  train_two_ranks(args(2, file("pddp.h5")));
  Child single = spawn(args(4, file("pone.h5")), {}, file("pone.err"));
  ASSERT_EQ(wait_for(single, 120), 0) << read_text(single.err);
  const auto ddp = ds::read_model_checkpoint(file("pddp.h5"), ds::CheckpointParts::Everything);
  const auto one = ds::read_model_checkpoint(file("pone.h5"), ds::CheckpointParts::Everything);
  EXPECT_EQ(ddp.data_position, 12);
  EXPECT_LT(max_difference(ddp.weights, one.weights), 2e-6);  // as for fields (above)
  ASSERT_EQ(ddp.loss.size(), one.loss.size());
  for (std::size_t i = 0; i < ddp.loss.size(); ++i)
    EXPECT_NEAR(ddp.loss[i], one.loss[i], 1e-5 * std::fabs(one.loss[i])) << "step " << i;
}

TEST_F(DataParallel, AKilledRankMakesTheOtherFailWithAMessage) {
  // Long enough to still be training when the kill comes; rank 0 says when both have joined.
  for (int victim : {1, 0}) {
    auto [r0, r1] = start_joined_ranks("m.h5", "k", {"--dist-timeout", "10"});
    Child& dead = victim == 0 ? r0 : r1;
    Child& survivor = victim == 0 ? r1 : r0;
    ::kill(dead.pid, SIGKILL);
    wait_for(dead, 10);
    const auto killed = Clock::now();
    const int rc = wait_for(survivor, 40);  // the timeout (10 s) with a margin
    const double seconds = std::chrono::duration<double>(Clock::now() - killed).count();
    const std::string err = read_text(survivor.err);
    EXPECT_EQ(rc, 1) << "victim rank " << victim << ": " << err;
    EXPECT_LT(seconds, 30.0);
    EXPECT_NE(err.find("diffuscope-cli: error: distributed training: rank " +
                       std::to_string(1 - victim) + " of 2"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("another rank died"), std::string::npos) << err;
  }
}

TEST_F(DataParallel, SigtermToOneRankStopsBothAfterTheSameStepAndRankZeroCheckpoints) {
  auto [r0, r1] = start_joined_ranks("t.h5", "t");
  ::kill(r1.pid, SIGTERM);  // as scancel or --signal would, but to one rank only
  // 143 = 128 + SIGTERM for the signalled rank; its peer stops through the all-reduce with
  // no signal of its own (130, the cancelled status without a signal).
  EXPECT_EQ(wait_for(r1, 40), 143) << read_text(r1.err);
  EXPECT_EQ(wait_for(r0, 40), 130) << read_text(r0.err);
  EXPECT_NE(read_text(r0.err).find("interrupted: " + file("t.h5") + " holds step"),
            std::string::npos)
      << read_text(r0.err);
  const auto c = ds::read_model_checkpoint(file("t.h5"), ds::CheckpointParts::Everything);
  EXPECT_GT(c.step, 0);
  EXPECT_EQ(c.data_position, c.step * 4);
}

TEST_F(DataParallel, ARankAloneAtTheRendezvousGivesUpAfterTheTimeout) {
  auto args = train_args(config(2, 3), file("m.h5"));
  args.insert(args.end(), {"--dist-timeout", "2"});
  Child r1 = spawn(args, rank_env(1, 2, free_port()), file("alone.err"));
  const auto began = Clock::now();
  EXPECT_EQ(wait_for(r1, 40), 1);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - began).count(), 30.0);
  const std::string err = read_text(r1.err);
  EXPECT_NE(err.find("rank 1 of 2 (127.0.0.1:"), std::string::npos) << err;
  EXPECT_NE(err.find("could not meet the other ranks within 2 s"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(file("m.h5")));
}

TEST_F(DataParallel, AResumeWithAnotherWorldSizeContinuesTheStepsAndTheData) {
  train_two_ranks(train_args(config(2, 3), file("m.h5")));
  auto first = ds::read_model_checkpoint(file("m.h5"), ds::CheckpointParts::Everything);
  EXPECT_EQ(first.step, 3);
  EXPECT_EQ(first.data_position, 12);  // 3 steps x 2 ranks x 2
  auto args = train_args(config(2, 3), file("m.h5"));
  args.insert(args.end(), {"--resume", "--steps", "5"});
  Child single = spawn(args, {}, file("resume.err"));
  ASSERT_EQ(wait_for(single, 120), 0) << read_text(single.err);
  EXPECT_NE(read_text(file("resume.err.out")).find("trained steps 3..5"), std::string::npos);
  const auto resumed = ds::read_model_checkpoint(file("m.h5"), ds::CheckpointParts::Everything);
  EXPECT_EQ(resumed.step, 5);
  EXPECT_EQ(resumed.data_position, 12 + 2 * 2);  // then 2 steps x 1 rank x 2
  EXPECT_EQ(resumed.loss.size(), 5u);
  EXPECT_EQ(resumed.optimizer_step, 5);
}

}  // namespace
