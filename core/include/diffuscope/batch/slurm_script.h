// The SLURM array script of a batch run folder (run_folder.h): `sbatch RUN/array.sbatch` starts
// one array task per chunk of fields; each calls `diffuscope-cli batch run RUN --task-id
// $SLURM_ARRAY_TASK_ID`. Logs go to RUN/logs/task-<task id>-job<array job id>.out, so a
// re-submission keeps the logs of earlier attempts.
#pragma once

#include <string>

#include "diffuscope/batch/run_folder.h"

namespace ds {

// Throws InvalidArgument naming the option and the value unless the resources are ones sbatch
// accepts: time as minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]; mem as a number with an optional
// K/M/G/T suffix; a partition of letters, digits and _ . - ,; cpus >= 1; gpus >= 0.
void validate_slurm_resources(const SlurmResources& resources);

// The script text for a run folder at the absolute path `run_folder` (no whitespace, quotes, '%'
// or '$' in it: sbatch directives cannot quote; InvalidArgument otherwise).
std::string slurm_array_script(const BatchManifest& manifest, const std::string& run_folder);

}  // namespace ds
