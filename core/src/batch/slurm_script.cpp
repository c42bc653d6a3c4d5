#include "diffuscope/batch/slurm_script.h"

#include <regex>
#include <sstream>

#include "diffuscope/error.h"

namespace ds {

void validate_slurm_resources(const SlurmResources& r) {
  static const std::regex time(R"(^(\d+-\d+(:\d\d){0,2}|\d+(:\d\d){0,2})$)");
  static const std::regex mem(R"(^\d+[KMGT]?$)");
  static const std::regex partition(R"(^[A-Za-z0-9_.,-]*$)");
  if (!std::regex_match(r.time, time))
    throw InvalidArgument("--time '" + r.time +
                          "' is not a SLURM time limit (minutes, MM:SS, HH:MM:SS or "
                          "D-HH:MM:SS)");
  if (!r.mem.empty() && !std::regex_match(r.mem, mem))
    throw InvalidArgument("--mem '" + r.mem + "' is not a SLURM memory size (e.g. 4000M, 8G)");
  if (!std::regex_match(r.partition, partition))
    throw InvalidArgument("--partition '" + r.partition + "' is not a SLURM partition name");
  if (r.cpus_per_task < 1)
    throw InvalidArgument("--cpus-per-task " + std::to_string(r.cpus_per_task) + " must be >= 1");
  if (r.gpus < 0) throw InvalidArgument("--gpus " + std::to_string(r.gpus) + " must be >= 0");
}

std::string slurm_array_script(const BatchManifest& m, const std::string& run_folder) {
  if (run_folder.find_first_of(" \t\n\"'%$\\`") != std::string::npos)
    throw InvalidArgument("run folder '" + run_folder +
                          "': its path must not hold whitespace, quotes, '%', '$' or '\\' "
                          "(sbatch directives cannot quote them)");
  if (m.cli.empty() || m.cli.find_first_of("\n\"$`\\") != std::string::npos)
    throw InvalidArgument("program '" + m.cli + "' cannot be quoted in the script");
  validate_slurm_resources(m.slurm);
  const std::string task = kBatchTasks.name(m.task);
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Diffuscope batch run: " << task << " over " << m.fields.size() << " fields of "
    << m.fields_file << ",\n"
    << "# " << m.fields_per_task << " field(s) per array task. Written by `diffuscope-cli batch "
    << "plan` (Diffuscope " << m.version << ").\n"
    << "#   submit:        sbatch " << run_folder << "/array.sbatch\n"
    << "#   progress:      diffuscope-cli batch status " << run_folder << "\n"
    << "#   re-submit:     sbatch --array=<the task ids batch status lists> " << run_folder
    << "/array.sbatch\n"
    << "#   merge:         diffuscope-cli batch merge " << run_folder << " --out ALL.h5\n"
    << "#SBATCH --job-name=diffuscope-" << task << "\n"
    << "#SBATCH --array=0-" << m.task_count() - 1 << "\n"
    << "#SBATCH --output=" << run_folder << "/logs/task-%a-job%A.out\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << m.slurm.cpus_per_task << "\n"
    << "#SBATCH --time=" << m.slurm.time << "\n";
  if (!m.slurm.mem.empty()) s << "#SBATCH --mem=" << m.slurm.mem << "\n";
  if (!m.slurm.partition.empty()) s << "#SBATCH --partition=" << m.slurm.partition << "\n";
  if (m.slurm.gpus > 0) s << "#SBATCH --gres=gpu:" << m.slurm.gpus << "\n";
  s << "set -euo pipefail\n"
    << "# One intra-op thread per allocated core; the task skips fields that are already done.\n"
    << "exec \"" << m.cli << "\" --quiet --threads \"${SLURM_CPUS_PER_TASK:-"
    << m.slurm.cpus_per_task << "}\" batch run \"" << run_folder
    << "\" --task-id \"$SLURM_ARRAY_TASK_ID\"\n";
  return s.str();
}

}  // namespace ds
