// SLURM array scripts (core/batch/slurm_script.h): the directives and the command of a run, and
// refusals of resources sbatch would reject and of paths a directive cannot quote.
#include <gtest/gtest.h>

#include "diffuscope/batch/slurm_script.h"
#include "diffuscope/error.h"

namespace {

ds::BatchManifest manifest() {
  ds::BatchManifest m;
  m.fields_file = "/data/D.h5";
  m.task = ds::BatchTask::VlbGrid;
  m.fields = ds::seed_fields({0, 1, 2, 3, 4}, 1);
  m.fields_per_task = 2;
  m.cli = "/opt/bin/diffuscope-cli";
  m.slurm.time = "0-02:30:00";
  m.slurm.cpus_per_task = 4;
  m.slurm.mem = "8G";
  m.slurm.partition = "gpu";
  m.slurm.gpus = 1;
  return m;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(TestSlurmScript, DirectivesAndCommandOfTheRun) {
  const std::string s = ds::slurm_array_script(manifest(), "/scratch/run1");
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  for (const char* line :
       {"#SBATCH --array=0-2", "#SBATCH --output=/scratch/run1/logs/task-%a-job%A.out",
        "#SBATCH --cpus-per-task=4", "#SBATCH --time=0-02:30:00", "#SBATCH --mem=8G",
        "#SBATCH --partition=gpu", "#SBATCH --gres=gpu:1", "#SBATCH --job-name=diffuscope-vlb-grid",
        "exec \"/opt/bin/diffuscope-cli\" --quiet --threads \"${SLURM_CPUS_PER_TASK:-4}\" batch "
        "run \"/scratch/run1\" --task-id \"$SLURM_ARRAY_TASK_ID\""})
    EXPECT_TRUE(has_line(s, line)) << "missing line: " << line << "\nin:\n" << s;
  ds::BatchManifest plain = manifest();
  plain.slurm = {};
  const std::string p = ds::slurm_array_script(plain, "/scratch/run1");
  EXPECT_EQ(p.find("--partition"), std::string::npos);
  EXPECT_EQ(p.find("--mem"), std::string::npos);
  EXPECT_EQ(p.find("--gres"), std::string::npos);
  EXPECT_TRUE(has_line(p, "#SBATCH --time=01:00:00"));
}

TEST(TestSlurmScript, RefusesWhatSbatchWouldReject) {
  const auto refused = [](auto change, const std::string& run = "/scratch/run1") {
    ds::BatchManifest m = manifest();
    change(m);
    EXPECT_THROW(ds::slurm_array_script(m, run), ds::InvalidArgument);
  };
  refused([](auto& m) { m.slurm.time = "2 hours"; });
  refused([](auto& m) { m.slurm.time = "1:2"; });
  refused([](auto& m) { m.slurm.mem = "8GB"; });
  refused([](auto& m) { m.slurm.partition = "gpu;rm"; });
  refused([](auto& m) { m.slurm.cpus_per_task = 0; });
  refused([](auto& m) { m.slurm.gpus = -1; });
  refused([](auto& m) { m.cli = "/opt/$HOME/cli"; });
  refused([](auto&) {}, "/scratch/my run");
  refused([](auto&) {}, "/scratch/run%1");
  for (const char* time : {"30", "30:00", "12:00:00", "2-00", "2-12:00", "2-12:00:00"}) {
    ds::SlurmResources r;
    r.time = time;
    EXPECT_NO_THROW(ds::validate_slurm_resources(r)) << time;
  }
}

}  // namespace
