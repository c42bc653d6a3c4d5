// Data-parallel training, the torch-free part (issue 19): the launcher's environment, SLURM node
// lists, and the epoch order that shards the examples over the ranks and continues across world
// sizes. The process group itself is tested by the CLI cases train_ddp_* (two processes).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/train/distributed.h"

namespace {

ds::LauncherEnvironment read(const std::map<std::string, std::string>& vars) {
  return ds::read_launcher_environment([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

// The error message of reading `vars`; empty when it reads.
std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    read(vars);
  } catch (const ds::InvalidArgument& e) {
    return e.what();
  }
  return {};
}

TEST(Launcher, NoVariablesIsOneProcess) {
  const auto env = read({});
  EXPECT_FALSE(env.distributed());
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.launcher, "");
  // A one-task SLURM step (sbatch without srun) is one process too.
  EXPECT_FALSE(read({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).distributed());
}

TEST(Launcher, ReadsTorchrunVariables) {
  const auto env = read({{"RANK", "3"},
                         {"WORLD_SIZE", "8"},
                         {"LOCAL_RANK", "1"},
                         {"MASTER_ADDR", "node7"},
                         {"MASTER_PORT", "29400"},
                         {"SLURM_PROCID", "5"},
                         {"SLURM_NTASKS", "6"}});
  EXPECT_EQ(env.launcher, "torchrun");  // torchrun's variables win over SLURM's
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29400);
}

TEST(Launcher, ReadsSrunVariablesAndTheFirstNode) {
  const auto env = read({{"SLURM_PROCID", "5"},
                         {"SLURM_NTASKS", "8"},
                         {"SLURM_LOCALID", "1"},
                         {"SLURM_JOB_NODELIST", "gpu[012-015,20],login1"},
                         {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(env.launcher, "slurm");
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "gpu012");
  EXPECT_EQ(env.master_port, 20000 + 123456 % 20000);
  // An explicit MASTER_ADDR / MASTER_PORT wins.
  const auto explicit_env = read({{"SLURM_PROCID", "0"},
                                  {"SLURM_NTASKS", "2"},
                                  {"SLURM_JOB_NODELIST", "a1"},
                                  {"MASTER_ADDR", "10.0.0.1"},
                                  {"MASTER_PORT", "1234"}});
  EXPECT_EQ(explicit_env.master_addr, "10.0.0.1");
  EXPECT_EQ(explicit_env.master_port, 1234);
}

TEST(Launcher, FirstSlurmHost) {
  EXPECT_EQ(ds::first_slurm_host("node01"), "node01");
  EXPECT_EQ(ds::first_slurm_host("a1,b2"), "a1");
  EXPECT_EQ(ds::first_slurm_host("node[07-09,12],gpu3"), "node07");
  EXPECT_THROW(ds::first_slurm_host(""), ds::InvalidArgument);
  EXPECT_THROW(ds::first_slurm_host("node[07-09"), ds::InvalidArgument);
  EXPECT_THROW(ds::first_slurm_host("[1-2]"), ds::InvalidArgument);
}

TEST(Launcher, BadEnvironmentsNameTheVariable) {
  EXPECT_NE(
      error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}}).find("MASTER_ADDR"),
      std::string::npos);
  EXPECT_NE(
      error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).find("MASTER_PORT"),
      std::string::npos);
  EXPECT_NE(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("RANK=2 is not below WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK=\"x\" is not an integer"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2 "}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}}).find("WORLD_SIZE=0 is outside"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}).find("RANK=-1 is outside"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "1"}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}}).find("RANK"), std::string::npos);
  EXPECT_NE(
      error_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
          .find("MASTER_PORT=70000 is outside"),
      std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"}}).find("SLURM_JOB_NODELIST"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}}).find("SLURM_PROCID=4"),
            std::string::npos);
}

TEST(EpochOrder, EveryEpochIsAPermutationAndEpochsDiffer) {
  const std::size_t count = 37;
  ds::EpochOrder order(count, 5);
  const auto first = order.slice(0, count), second = order.slice(count, count);
  std::vector<std::size_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(first, second);
  EXPECT_EQ(first, ds::EpochOrder::permutation(count, 5, 0));
  EXPECT_EQ(second, ds::EpochOrder::permutation(count, 5, 1));
  EXPECT_NE(first, ds::EpochOrder::permutation(count, 6, 0));  // the seed matters
  // Random access agrees with the sequence, backwards too.
  EXPECT_EQ(order.at(count + 3), second[3]);
  EXPECT_EQ(order.at(2), first[2]);
  EXPECT_THROW(ds::EpochOrder(0, 1), ds::InvalidArgument);
}

// What `world` ranks with batch `batch` read in `steps` steps from `position` on, step by step,
// in rank order; `position` advances by world x batch per step, as the training loop does.
std::vector<std::size_t> read_steps(ds::EpochOrder& order, std::uint64_t& position, int world,
                                    int batch, int steps) {
  std::vector<std::size_t> seen;
  for (int s = 0; s < steps; ++s) {
    for (int r = 0; r < world; ++r) {
      const auto rows = order.slice(ds::rank_position(position, r, batch), std::size_t(batch));
      seen.insert(seen.end(), rows.begin(), rows.end());
    }
    position += std::uint64_t(world) * std::uint64_t(batch);
  }
  return seen;
}

TEST(EpochOrder, RanksReadDisjointShardsWhoseUnionIsTheSingleProcessBatch) {
  const std::size_t count = 24;
  ds::EpochOrder order(count, 9);
  // Two ranks with batch 3 against one process with batch 6: the same examples, step by step.
  std::uint64_t two = 0, one = 0;
  for (int step = 0; step < 10; ++step) {
    const auto ranks = read_steps(order, two, 2, 3, 1);
    const auto single = read_steps(order, one, 1, 6, 1);
    EXPECT_EQ(ranks, single) << "step " << step;
  }
  // Within one epoch (4 steps of 6), the ranks' examples are disjoint and cover it.
  std::uint64_t position = 0;
  std::set<std::size_t> rank0, rank1;
  for (int step = 0; step < 4; ++step) {
    for (auto r : order.slice(ds::rank_position(position, 0, 3), 3)) rank0.insert(r);
    for (auto r : order.slice(ds::rank_position(position, 1, 3), 3)) rank1.insert(r);
    position += 6;
  }
  EXPECT_EQ(rank0.size() + rank1.size(), count);
  for (auto r : rank0) EXPECT_EQ(rank1.count(r), 0u);
}

TEST(EpochOrder, AResumeWithAnotherWorldSizeContinuesTheSequence) {
  // 5 steps on 2 ranks of batch 4, then 7 steps on 1 rank of batch 4 (resumed at the stored
  // position 40), then 3 steps on 3 ranks: every example of every epoch exactly once, in order.
  const std::size_t count = 13;
  ds::EpochOrder order(count, 2);
  std::uint64_t position = 0;
  auto seen = read_steps(order, position, 2, 4, 5);
  EXPECT_EQ(position, 40u);
  const std::uint64_t stored = position;  // the checkpoint's /train/data_position
  std::uint64_t resumed = stored;
  const auto later = read_steps(order, resumed, 1, 4, 7);
  seen.insert(seen.end(), later.begin(), later.end());
  const auto last = read_steps(order, resumed, 3, 4, 3);
  seen.insert(seen.end(), last.begin(), last.end());
  EXPECT_EQ(resumed, 40u + 28u + 36u);
  EXPECT_EQ(seen, ds::EpochOrder(count, 2).slice(0, seen.size()));
  for (std::size_t e = 0; (e + 1) * count <= seen.size(); ++e) {
    std::set<std::size_t> epoch(seen.begin() + long(e * count),
                                seen.begin() + long((e + 1) * count));
    EXPECT_EQ(epoch.size(), count) << "epoch " << e;
  }
}

}  // namespace
