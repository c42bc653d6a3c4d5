#include "batch_task.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>

#include "cli_context.h"
#include "commands/commands.h"
#include "diffuscope/error.h"

namespace dscli {

namespace {

using Registrar = std::function<Action(CLI::App&, const GlobalOptions&)>;

Registrar registrar_of(ds::BatchTask task) {
  switch (task) {
    case ds::BatchTask::VlbGrid:
      return add_vlb_grid_command;
    case ds::BatchTask::ReportCalibration:
      return add_report_calibration_command;
    case ds::BatchTask::Nuts:
    case ds::BatchTask::Hmc:
      break;
  }
  return add_infer_commands;
}

// Options the batch sets per field, or that pick another log-density source than the model.
const std::vector<std::string> kReservedOptions = {
    "--field", "--index", "--seed", "--out", "--cloud", "--formats", "--target", "--exact-grf"};

std::string option_name(const std::string& argument) {
  return argument.substr(0, argument.find('='));
}

// Parses a full command line into a fresh application holding only the task's command; returns
// the action. `app` and `globals` must outlive the action.
Action parse_command_line(CLI::App& app, GlobalOptions& globals,
                          const std::vector<std::string>& command_line) {
  if (command_line.empty()) throw ds::InvalidArgument("batch: empty task command line");
  add_global_options(app, globals);
  const std::vector<std::string> tasks = ds::kBatchTasks.names();
  const auto task_name = std::find_if(command_line.begin(), command_line.end(), [&](const auto& a) {
    return std::find(tasks.begin(), tasks.end(), a) != tasks.end();
  });
  if (task_name == command_line.end())
    throw ds::InvalidArgument("batch: the task command line names no task command");
  Action action = registrar_of(ds::kBatchTasks.from_string(*task_name))(app, globals);
  std::vector<std::string> reversed(command_line.rbegin(), command_line.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    throw ds::InvalidArgument(*task_name + ": " + e.what());
  }
  return action;
}

}  // namespace

std::vector<std::string> check_task_arguments(ds::BatchTask task,
                                              const std::vector<std::string>& arguments) {
  const std::string name = ds::kBatchTasks.name(task);
  for (const auto& a : arguments)
    for (const auto& reserved : kReservedOptions)
      if (option_name(a) == reserved)
        throw ds::InvalidArgument("batch plan: " + reserved +
                                  " is set by the batch for each field" +
                                  " (--fields, --indices, --seed and the run folder choose them)");
  std::vector<std::string> out = arguments;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (option_name(out[i]) != "--model") continue;
    std::string* value = nullptr;
    std::string inline_value;
    if (out[i].size() > 7 && out[i][7] == '=') {
      inline_value = out[i].substr(8);
      value = &inline_value;
    } else if (i + 1 < out.size()) {
      value = &out[i + 1];
    }
    if (!value || value->empty()) throw ds::InvalidArgument("batch plan: --model needs a value");
    if (!std::filesystem::exists(*value))
      throw ds::FileError(*value, "does not exist (the --model of the task)");
    *value = std::filesystem::absolute(*value).lexically_normal().string();
    if (!inline_value.empty()) out[i] = "--model=" + inline_value;
  }
  // Parse as the command would, with placeholders for what the batch adds.
  std::vector<std::string> trial = {name};
  trial.insert(trial.end(), out.begin(), out.end());
  for (const char* a : {"--field", "F", "--index", "0", "--seed", "0", "--out", "O"})
    trial.emplace_back(a);
  CLI::App app;
  GlobalOptions globals;
  parse_command_line(app, globals, trial);
  const CLI::App* command = app.get_subcommand(name);
  // report-calibration scores with --likelihood (vlb by default; exact-grf and pk-baseline need
  // no model); the other tasks always with the model's VLB.
  const bool needs_model = task != ds::BatchTask::ReportCalibration ||
                           command->count("--likelihood") == 0 ||
                           command->get_option("--likelihood")->as<std::string>() == "vlb";
  if (needs_model && command->count("--model") == 0)
    throw ds::InvalidArgument("batch plan: the " + name +
                              " task needs --model M (its likelihood is the model's VLB)");
  return out;
}

std::vector<std::string> task_command_line(const ds::BatchManifest& manifest,
                                           const ds::BatchField& field, const std::string& out,
                                           const std::vector<std::string>& runtime_globals) {
  std::vector<std::string> line = runtime_globals;
  line.insert(line.end(), manifest.global_arguments.begin(), manifest.global_arguments.end());
  line.emplace_back(ds::kBatchTasks.name(manifest.task));
  line.insert(line.end(), manifest.task_arguments.begin(), manifest.task_arguments.end());
  for (const std::string& a : {std::string("--field"), manifest.fields_file, std::string("--index"),
                               std::to_string(field.index), std::string("--seed"),
                               std::to_string(field.seed), std::string("--out"), out})
    line.push_back(a);
  if (ds::batch_task_has_chains(manifest.task)) {
    line.emplace_back("--formats");
    line.emplace_back("arviz");
  }
  return line;
}

std::string task_output_file(ds::BatchTask task, const std::string& out) {
  return ds::batch_task_has_chains(task) ? out + ".nc" : out;
}

void run_task_command(const std::vector<std::string>& command_line) {
  CLI::App app;
  GlobalOptions globals;
  const Action action = parse_command_line(app, globals, command_line);
  const int rc = action();
  if (rc != 0) throw ds::Error("batch: the task command exited with status " + std::to_string(rc));
}

std::string quoted_command_line(const std::vector<std::string>& command_line) {
  std::string out = "diffuscope-cli";
  for (const auto& a : command_line) {
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                                         "NOPQRSTUVWXYZ0123456789-_./,:=+") == std::string::npos;
    out += " ";
    if (plain) {
      out += a;
      continue;
    }
    out += "'";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += "'";
  }
  return out;
}

}  // namespace dscli
