// diffuscope-cli: the headless front end of the core (DESIGN.md, Command line).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_context.h"
#include "commands/commands.h"
#include "diffuscope/error.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/runtime.h"

int main(int argc, char** argv) {
  ds::configure_memory_allocator();  // before any tensor is made (runtime.h)
  dscli::install_interrupt_handlers();
  CLI::App app{"diffuscope-cli: diffusion-model emulators and likelihoods for cosmology",
               "diffuscope-cli"};
  app.set_help_flag("--help,-h", "print this help (or `diffuscope-cli <command> --help`)");
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag(
      "--version", show_version,
      "print the versions of Diffuscope, LibTorch, HDF5 and FFTW and whether CUDA is available");
  dscli::GlobalOptions options;
  dscli::add_global_options(app, options);

  std::vector<dscli::Action> actions;
  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "show help for diffuscope-cli or one command");
  help->add_option("command", help_topic, "command to describe");
  actions.push_back(dscli::add_bench_command(app, options));
  actions.push_back(dscli::add_infer_commands(app, options));
  actions.push_back(dscli::add_calibrate_command(app, options));
  actions.push_back(dscli::add_report_command(app, options));
  actions.push_back(dscli::add_report_calibration_command(app, options));
  actions.push_back(dscli::add_stats_command(app, options));
  actions.push_back(dscli::add_cosmology_command(app, options));
  actions.push_back(dscli::add_grf_command(app, options));
  actions.push_back(dscli::add_data_command(app, options));
  actions.push_back(dscli::add_model_command(app, options));
  actions.push_back(dscli::add_mock_command(app, options));
  actions.push_back(dscli::add_diagnose_command(app, options));
  actions.push_back(dscli::add_elbo_command(app, options));
  actions.push_back(dscli::add_vlb_command(app, options));
  actions.push_back(dscli::add_vlb_grid_command(app, options));
  actions.push_back(dscli::add_sample_command(app, options));
  actions.push_back(dscli::add_train_command(app, options));
  actions.push_back(dscli::add_batch_command(app, options));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "diffuscope-cli: error: %s (see diffuscope-cli --help)\n", e.what());
    return 2;
  }

  if (show_version) {
    std::printf("%s\n", ds::version_report().c_str());
    return 0;
  }
  if (help->parsed()) {
    if (help_topic.empty()) {
      // app.help() would describe the selected subcommand ("help" itself): format the top level.
      std::fputs(app.get_formatter()->make_help(&app, "", CLI::AppFormatMode::Normal).c_str(),
                 stdout);
      return 0;
    }
    for (CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == help_topic) {
        std::fputs(sub->help().c_str(), stdout);
        return 0;
      }
    }
    std::fprintf(stderr, "diffuscope-cli: error: no command '%s' (see diffuscope-cli help)\n",
                 help_topic.c_str());
    return 2;
  }
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stderr);
    std::fputs("diffuscope-cli: error: no command given\n", stderr);
    return 2;
  }
  try {
    for (const auto& action : actions) {
      const int rc = action();
      if (rc >= 0) return rc;
    }
  } catch (const ds::Cancelled&) {
    std::fprintf(stderr, "diffuscope-cli: cancelled\n");
    return dscli::cancelled_exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diffuscope-cli: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
