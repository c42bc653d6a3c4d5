// The task of a batch run (core/batch/run_folder.h) runs through the very command a user would
// type for one field (`vlb-grid`, `nuts`, `hmc`, `report-calibration`): the command's own option
// registration and action, in this process, on an argument list. So a batch field and a hand-run
// field share every option, default, check and output, and the log line "equivalent command"
// reproduces a field.
#pragma once

#include <string>
#include <vector>

#include "diffuscope/batch/run_folder.h"

namespace dscli {

// Checks the options a plan passes to the task command (parsing them as the command would,
// without running anything) and returns them with the --model path made absolute, so array tasks
// may start in any directory. Throws ds::InvalidArgument naming the option and the problem: an
// unknown option or bad value, a missing --model, a --model file that does not exist, or an option
// the batch sets per field (--field, --index, --seed, --out, ...).
std::vector<std::string> check_task_arguments(ds::BatchTask task,
                                              const std::vector<std::string>& arguments);

// The command line of field `field` of a run: global options, then the task command with the
// manifest's options plus --field, --index, --seed and --out (ROOT of the chain files for
// nuts/hmc, which then write ROOT.nc only; the grid file; the record FIELD.json). runtime_globals (e.g. --threads 2 --quiet) go first.
std::vector<std::string> task_command_line(const ds::BatchManifest& manifest,
                                           const ds::BatchField& field, const std::string& out,
                                           const std::vector<std::string>& runtime_globals);

// The file the command line above writes for `out`: out itself (grid, record) or out + ".nc"
// (chains).
std::string task_output_file(ds::BatchTask task, const std::string& out);

// Runs a command line (without the program name) in this process. Throws ds::InvalidArgument for
// options the command does not take, and whatever the command throws.
void run_task_command(const std::vector<std::string>& command_line);

// The command line as one shell-quoted text (for logs).
std::string quoted_command_line(const std::vector<std::string>& command_line);

}  // namespace dscli
