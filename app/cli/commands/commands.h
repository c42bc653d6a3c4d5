// One function per subcommand: registers its options on the parent and returns the action to
// run when the subcommand was chosen. A new command = one file + one line in main.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "cli_context.h"

namespace dscli {

using Action = std::function<int()>;

Action add_bench_command(CLI::App& app, const GlobalOptions& options);
// batch plan | run | status | merge (batch_command.cpp): a task over many fields, SLURM arrays.
Action add_batch_command(CLI::App& app, const GlobalOptions& options);
// hmc, nuts, svi and posterior (infer_command.cpp): one action for the four subcommands.
Action add_infer_commands(CLI::App& app, const GlobalOptions& options);
// calibrate (calibrate_command.cpp): coverage of credible intervals over mock fields.
Action add_calibrate_command(CLI::App& app, const GlobalOptions& options);
// report (report_command.cpp): the validation report of a field model.
Action add_report_command(CLI::App& app, const GlobalOptions& options);
// report-calibration (report_command.cpp): the report's calibration block for one field of a file.
Action add_report_calibration_command(CLI::App& app, const GlobalOptions& options);
// Renders a report folder's figures (PNG, PDF) when this build has the GUI; returns how many were
// written, -1 when it cannot (and says so on stderr).
int render_report_figures(const std::string& dir, bool quiet);
Action add_stats_command(CLI::App& app, const GlobalOptions& options);
Action add_cosmology_command(CLI::App& app, const GlobalOptions& options);
Action add_grf_command(CLI::App& app, const GlobalOptions& options);
Action add_data_command(CLI::App& app, const GlobalOptions& options);
Action add_model_command(CLI::App& app, const GlobalOptions& options);
Action add_mock_command(CLI::App& app, const GlobalOptions& options);
Action add_diagnose_command(CLI::App& app, const GlobalOptions& options);
// elbo (elbo_command.cpp): the ELBO of a point cloud under a point-cloud model.
Action add_elbo_command(CLI::App& app, const GlobalOptions& options);
Action add_vlb_command(CLI::App& app, const GlobalOptions& options);
Action add_vlb_grid_command(CLI::App& app, const GlobalOptions& options);
Action add_sample_command(CLI::App& app, const GlobalOptions& options);
Action add_train_command(CLI::App& app, const GlobalOptions& options);

}  // namespace dscli
