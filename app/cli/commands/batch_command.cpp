// diffuscope-cli batch plan | run | status | merge (issue 19, part 1): one task (vlb-grid, nuts,
// hmc or report-calibration) over many fields of a file as a SLURM job array or local worker
// processes, in a run folder (core/batch/run_folder.h). plan writes RUN/manifest.json and
// RUN/array.sbatch; run does one array task (--task-id, else $SLURM_ARRAY_TASK_ID) or, with --all
// --jobs N, every unfinished task in N worker processes; status lists done / failed / missing
// fields and the task ids to re-submit; merge writes one HDF5 file with every field and the table
// of posteriors (and, for report-calibration, --report DIR: the validation report of the fields).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "batch_task.h"
#include "commands/commands.h"
#include "diffuscope/batch/batch_merge.h"
#include "diffuscope/batch/field_file.h"
#include "diffuscope/batch/run_folder.h"
#include "diffuscope/batch/slurm_script.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/report/report.h"
#include "diffuscope/runtime.h"
#include "stats_input.h"

extern char** environ;

namespace dscli {

namespace {

namespace fs = std::filesystem;

struct BatchOptions {
  // plan
  std::string fields, indices, task, out, cli;
  std::uint64_t seed = 0;
  std::size_t chunk = 1;
  ds::SlurmResources slurm;
  int vlb_chunk = 0;                      // the task's --chunk; 0: not given
  std::vector<std::string> task_options;  // options plan does not know
  // run / status / merge
  std::string run;
  long task_id = -1;
  bool all = false, json = false, allow_missing = false;
  int jobs = 1;
  std::string table, report;
};

std::string this_program() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? std::string("diffuscope-cli") : self.string();
}

// Absolute and normal, without a trailing separator ("RUN/" -> "/.../RUN").
std::string absolute_folder(const std::string& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p.string();
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

int plan(const BatchOptions& o, std::uint64_t seed, const GlobalOptions& options) {
  ds::BatchManifest m;
  m.task = ds::kBatchTasks.from_string(o.task);
  m.fields_file = fs::absolute(o.fields).lexically_normal().string();
  m.fields_in_file = ds::count_fields(m.fields_file);
  m.fields = ds::seed_fields(ds::parse_index_list(o.indices, m.fields_in_file), seed);
  m.task_arguments = check_task_arguments(m.task, o.task_options);
  if (options.device != "cpu") m.global_arguments = {"--device", options.device};
  m.seed = seed;
  m.fields_per_task = o.chunk;
  m.slurm = o.slurm;
  m.cli = o.cli.empty() ? this_program() : o.cli;
  m.version = ds::library_versions().diffuscope;
  m.created_at = utc_now();
  const std::string run = absolute_folder(o.out);
  if (fs::exists(ds::batch_manifest_path(run)))
    throw ds::FileError(run, "already holds a batch run (manifest.json); plan into a new folder");
  if (fs::exists(run) && !fs::is_directory(run)) throw ds::FileError(run, "is not a directory");
  const std::string script = ds::slurm_array_script(m, run);  // validates before writing
  for (const char* sub : {"logs", "out"}) fs::create_directories(fs::path(run) / sub);
  ds::write_file_atomically((fs::path(run) / "array.sbatch").string(),
                            [&](std::ostream& out) { out << script; });
  fs::permissions(fs::path(run) / "array.sbatch", fs::perms::owner_exec | fs::perms::group_exec,
                  fs::perm_options::add);
  ds::write_batch_manifest(run, m);  // last: a folder with a manifest is a complete plan
  std::printf("planned %s over %zu fields of %s: %zu array tasks of %zu field(s)\n", o.task.c_str(),
              m.fields.size(), m.fields_file.c_str(), m.task_count(), m.fields_per_task);
  if (m.slurm.gpus > 0 && options.device == "cpu")
    std::printf(
        "note: --gpus without `diffuscope-cli --device cuda batch plan ...`: the tasks "
        "will run on the CPU\n");
  if (m.task_count() > 1000)
    std::printf("note: %zu array tasks exceed SLURM's default MaxArraySize (1001): raise --chunk\n",
                m.task_count());
  std::printf(
      "submit: sbatch %s/array.sbatch\nor locally: diffuscope-cli batch run %s --all "
      "--jobs N\n",
      run.c_str(), run.c_str());
  return 0;
}

// Runs one field; returns false (after writing the failure marker) when it failed.
bool run_field(const std::string& run, const ds::BatchManifest& m, const ds::BatchField& field,
               const std::vector<std::string>& runtime_globals) {
  const std::string final_path = ds::batch_output_path(run, m, field.index);
  if (fs::exists(final_path)) {
    std::printf("field %zu: done already (%s), skipped\n", field.index, final_path.c_str());
    return true;
  }
  const std::string partial = ds::batch_partial_folder(run, field.index);
  const std::string marker = ds::batch_failure_path(run, field.index);
  fs::remove_all(partial);  // what a killed attempt left
  fs::remove(marker);
  fs::create_directories(partial);
  // The grid file, the record, or the ROOT of the chain files.
  const std::string extension =
      ds::batch_task_has_chains(m.task) ? "" : "." + ds::batch_output_extension(m.task);
  const std::string out =
      (fs::path(partial) / ("field-" + std::to_string(field.index) + extension)).string();
  const std::vector<std::string> line = task_command_line(m, field, out, runtime_globals);
  std::printf("field %zu: %s\n", field.index, quoted_command_line(line).c_str());
  std::fflush(stdout);
  try {
    run_task_command(line);
    fs::rename(task_output_file(m.task, out), final_path);
  } catch (const ds::Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    ds::write_file_atomically(marker, [&](std::ostream& s) { s << e.what() << "\n"; });
    fs::remove_all(partial);
    // On stdout (the log): stderr keeps the one-line error of the whole task.
    std::printf("field %zu: FAILED: %s\n", field.index, e.what());
    std::fflush(stdout);
    return false;
  }
  fs::remove_all(partial);
  std::printf("field %zu: wrote %s\n", field.index, final_path.c_str());
  std::fflush(stdout);
  return true;
}

std::size_t task_id_of(const BatchOptions& o) {
  if (o.task_id >= 0) return std::size_t(o.task_id);
  const char* env = std::getenv("SLURM_ARRAY_TASK_ID");
  if (!env)
    throw ds::InvalidArgument(
        "batch run: give --task-id I, --all, or run as a SLURM array task (SLURM_ARRAY_TASK_ID)");
  const std::string text = env;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw ds::InvalidArgument("batch run: SLURM_ARRAY_TASK_ID '" + text + "' is not a task id");
  return std::stoul(text);
}

// The global options of this process that a field's command inherits.
std::vector<std::string> runtime_globals(const GlobalOptions& options) {
  std::vector<std::string> out;
  if (options.threads > 0) out = {"--threads", std::to_string(options.threads)};
  if (options.quiet) out.emplace_back("--quiet");
  return out;
}

int run_one_task(const std::string& run, const ds::BatchManifest& m, std::size_t task,
                 const GlobalOptions& options) {
  const std::vector<std::size_t> positions = m.task_fields(task);
  if (const char* job = std::getenv("SLURM_ARRAY_JOB_ID"))
    std::printf("task %zu of SLURM array job %s\n", task, job);
  std::vector<std::size_t> failed;
  for (std::size_t p : positions)
    if (!run_field(run, m, m.fields[p], runtime_globals(options)))
      failed.push_back(m.fields[p].index);
  if (failed.empty()) return 0;
  const ds::BatchStatus status = ds::batch_status(run, m);
  throw ds::Error("batch run: task " + std::to_string(task) + ": field(s) " +
                  ds::format_index_list(failed) + " failed (" + status.errors.at(failed[0]) +
                  (failed.size() > 1 ? "; the others' messages in " : "; in ") + run +
                  "/out/field-<index>.failed)");
}

// Starts `self ... batch run RUN --task-id t` with stdout and stderr in `log`; returns its pid.
pid_t spawn_worker(const std::string& run, std::size_t task, int threads, bool quiet,
                   const std::string& log) {
  std::vector<std::string> args = {this_program()};
  if (threads > 0) args.insert(args.end(), {"--threads", std::to_string(threads)});
  if (quiet) args.emplace_back("--quiet");
  args.insert(args.end(), {"batch", "run", run, "--task-id", std::to_string(task)});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0)
    throw ds::Error("batch run: cannot start a worker (" + args[0] + "): " + std::strerror(error));
  return pid;
}

int run_all_tasks(const std::string& run, const ds::BatchManifest& m, int jobs,
                  const GlobalOptions& options) {
  const std::vector<std::size_t> tasks = ds::batch_status(run, m).unfinished_tasks;
  if (tasks.empty()) {
    std::printf("all %zu fields are done already\n", m.fields.size());
    return 0;
  }
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = options.threads > 0 ? options.threads : std::max(1, cores / jobs);
  std::printf("%zu tasks to run, %d at a time, %d thread(s) each; logs in %s/logs/\n", tasks.size(),
              jobs, threads, run.c_str());
  std::fflush(stdout);
  std::map<pid_t, std::size_t> running;
  std::vector<std::size_t> failed;
  std::size_t next = 0, finished = 0;
  const auto log_of = [&](std::size_t t) {
    return run + "/logs/local-task-" + std::to_string(t) + ".out";
  };
  while (next < tasks.size() || !running.empty()) {
    while (next < tasks.size() && int(running.size()) < jobs) {
      const std::size_t t = tasks[next++];
      running[spawn_worker(run, t, threads, true, log_of(t))] = t;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0)
      throw ds::Error(std::string("batch run: waiting for workers: ") + std::strerror(errno));
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::size_t t = it->second;
    running.erase(it);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) failed.push_back(t);
    std::printf("task %zu %s (%zu of %zu)%s\n", t, ok ? "done" : "FAILED", ++finished, tasks.size(),
                ok ? "" : (": see " + log_of(t)).c_str());
    std::fflush(stdout);
  }
  if (!failed.empty())
    throw ds::Error("batch run: " + std::to_string(failed.size()) + " of " +
                    std::to_string(tasks.size()) + " tasks failed (tasks " +
                    ds::format_index_list(failed) + "; see " + run +
                    "/logs/local-task-<id>.out and `diffuscope-cli batch status " + run + "`)");
  return 0;
}

int status(const BatchOptions& o) {
  const ds::BatchManifest m = ds::read_batch_manifest(o.run);
  const ds::BatchStatus s = ds::batch_status(o.run, m);
  if (o.json) {
    nlohmann::ordered_json j;
    j["run"] = o.run;
    j["task"] = ds::kBatchTasks.name(m.task);
    j["fields"] = m.fields.size();
    j["tasks"] = m.task_count();
    j["done"] = s.done;
    j["failed"] = s.failed;
    j["missing"] = s.missing;
    nlohmann::ordered_json errors = nlohmann::ordered_json::object();
    for (const auto& [index, message] : s.errors) errors[std::to_string(index)] = message;
    j["errors"] = errors;
    j["unfinished_tasks"] = s.unfinished_tasks;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s: %s over %zu fields in %zu tasks\n", o.run.c_str(), ds::kBatchTasks.name(m.task),
              m.fields.size(), m.task_count());
  const auto line = [](const char* what, const std::vector<std::size_t>& indices) {
    std::printf("%s %zu%s%s\n", what, indices.size(), indices.empty() ? "" : ": ",
                ds::format_index_list(indices).c_str());
  };
  line("done", s.done);
  line("failed", s.failed);
  line("missing", s.missing);
  for (const auto& [index, message] : s.errors)
    std::printf("  field %zu: %s\n", index, message.c_str());
  if (!s.unfinished_tasks.empty())
    std::printf("re-submit: sbatch --array=%s %s/array.sbatch\n",
                ds::format_index_list(s.unfinished_tasks).c_str(), o.run.c_str());
  return 0;
}

int merge(const BatchOptions& o, const GlobalOptions& options) {
  const ds::BatchManifest m = ds::read_batch_manifest(o.run);
  const fs::path folder = fs::path(o.out).parent_path();
  if (!folder.empty() && !fs::is_directory(folder))
    throw ds::FileError(o.out, "directory " + folder.string() + " does not exist");
  if (!o.report.empty() && m.task != ds::BatchTask::ReportCalibration)
    throw ds::InvalidArgument("batch merge: --report is for report-calibration runs; this run is " +
                              std::string(ds::kBatchTasks.name(m.task)));
  const ds::BatchMerge merged = ds::summarize_batch_run(o.run, m, o.allow_missing);
  if (!o.report.empty() && !merged.has_truth)
    throw ds::FileError(m.fields_file,
                        "records no (Omega_m, sigma_8) for its fields, so there is no calibration "
                        "report to write (merge without --report for the table of posteriors)");
  ds::write_batch_merge(o.out, o.run, m, merged);
  if (!o.table.empty()) {
    CsvTable table;
    std::vector<std::int64_t> index;
    for (const auto& f : merged.fields) index.push_back(std::int64_t(f.index));
    table.add_column("index", index);
    for (std::size_t p = 0; p < merged.names.size(); ++p) {
      const auto column = [&](const std::string& what, auto get) {
        std::vector<double> values;
        for (const auto& f : merged.fields) values.push_back(get(f.parameters[p]));
        table.add_column(merged.names[p] + "_" + what, values);
      };
      column("mean", [](const auto& c) { return c.mean; });
      column("sd", [](const auto& c) { return c.sd; });
      column("lo68", [](const auto& c) { return c.inner_lo; });
      column("hi68", [](const auto& c) { return c.inner_hi; });
      column("lo95", [](const auto& c) { return c.outer_lo; });
      column("hi95", [](const auto& c) { return c.outer_hi; });
      if (merged.has_truth) column("truth", [](const auto& c) { return c.truth; });
    }
    table.write(o.table);
  }
  std::printf("merged %zu of %zu fields of %s into %s%s\n", merged.fields.size(), m.fields.size(),
              ds::kBatchTasks.name(m.task), o.out.c_str(),
              merged.missing.empty()
                  ? ""
                  : (" (missing " + ds::format_index_list(merged.missing) + ")").c_str());
  for (const auto& s : merged.summary)
    std::printf("%-8s coverage 68%% %.3f  95%% %.3f  z mean %.3f sd %.3f over %zu fields\n",
                s.name.c_str(), s.inner_coverage, s.outer_coverage, s.z_mean, s.z_sd, s.fields);
  if (!o.report.empty()) {
    std::vector<std::string> records;
    for (const auto& f : merged.fields) records.push_back(ds::batch_output_path(o.run, m, f.index));
    const std::string description = m.fields_file + " (fields " + ds::format_index_list([&] {
                                      std::vector<std::size_t> indices;
                                      for (const auto& f : merged.fields)
                                        indices.push_back(f.index);
                                      return indices;
                                    }()) +
                                    ", batch run " + o.run + ")";
    const ds::ReportResult r = ds::write_calibration_report(records, o.report, description, m.seed);
    std::printf("wrote %s and %s (%zu figures listed)\n", r.json_path.c_str(),
                r.markdown_path.c_str(), r.figures.size());
    render_report_figures(o.report, options.quiet);
  }
  return 0;
}

}  // namespace

Action add_batch_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<BatchOptions>();
  CLI::App* batch = app.add_subcommand(
      "batch",
      "one task (vlb-grid, nuts, hmc, report-calibration) over many fields as a SLURM job array "
      "or local workers: "
      "plan, run, status, merge (packaging/hpc/README.md)");
  batch->require_subcommand(1);

  CLI::App* plan_cmd = batch->add_subcommand(
      "plan",
      "write a run folder: manifest.json (every setting, the fields, a seed per field) and "
      "array.sbatch; options the batch does not know go to the task command (e.g. --model M "
      "--tmax 20 --grid 50 ...; the VLB's own --chunk is --vlb-chunk here)");
  plan_cmd->allow_extras();
  plan_cmd->add_option("--fields", o->fields, "D.h5 | D.npy: the fields (as --field of the task)")
      ->required();
  plan_cmd->add_option("--indices", o->indices,
                       "fields to run, e.g. 0,3,5-9 (default: all of the file)");
  plan_cmd->add_option("--task", o->task, "vlb-grid | nuts | hmc | report-calibration")
      ->required()
      ->check(CLI::IsMember(ds::kBatchTasks.names()));
  plan_cmd->add_option("--seed", o->seed,
                       "seed of the run: field i gets --seed mix_seed(seed, i) (default: the "
                       "global --seed)");
  plan_cmd->add_option("--chunk", o->chunk, "fields per array task (default 1)")
      ->check(CLI::PositiveNumber);
  plan_cmd->add_option("--partition", o->slurm.partition, "SLURM partition (default: SLURM's)");
  plan_cmd->add_option("--time", o->slurm.time, "time limit per array task (default 01:00:00)");
  plan_cmd->add_option("--cpus-per-task", o->slurm.cpus_per_task,
                       "cores per array task, also its --threads (default 1)");
  plan_cmd->add_option("--mem", o->slurm.mem, "memory per array task, e.g. 4G (default: SLURM's)");
  plan_cmd->add_option("--gpus", o->slurm.gpus, "GPUs per array task (default 0)");
  plan_cmd
      ->add_option("--vlb-chunk", o->vlb_chunk,
                   "ROWS: the task's --chunk (VLB network rows per call; default automatic)")
      ->check(CLI::PositiveNumber);
  plan_cmd->add_option("--cli", o->cli,
                       "program the script calls (default: the absolute path of this one)");
  plan_cmd->add_option("--out", o->out, "RUN: the run folder to create")->required();

  CLI::App* run_cmd = batch->add_subcommand(
      "run",
      "run one array task (--task-id, else $SLURM_ARRAY_TASK_ID) or, with --all, every unfinished "
      "task in --jobs worker processes; fields already done are skipped");
  run_cmd->add_option("run", o->run, "RUN: the run folder")->required();
  run_cmd->add_option("--task-id", o->task_id, "array task to run")->check(CLI::NonNegativeNumber);
  run_cmd->add_flag("--all", o->all, "run every unfinished task here");
  run_cmd->add_option("--jobs", o->jobs, "worker processes with --all (default 1)")
      ->check(CLI::Range(1, 1024));

  CLI::App* status_cmd =
      batch->add_subcommand("status", "done / failed / missing fields and the tasks to re-submit");
  status_cmd->add_option("run", o->run, "RUN: the run folder")->required();
  status_cmd->add_flag("--json", o->json, "print JSON");

  CLI::App* merge_cmd = batch->add_subcommand(
      "merge",
      "one HDF5 file: every field's output under /fields/<index> and the table of per-field "
      "posteriors (mean, sd, 68%/95% intervals, truths when the fields file has them)");
  merge_cmd->add_option("run", o->run, "RUN: the run folder")->required();
  merge_cmd->add_option("--out", o->out, "ALL.h5: the merged file (written atomically)")
      ->required();
  merge_cmd->add_flag("--allow-missing", o->allow_missing,
                      "merge the done fields even when some are missing or failed");
  merge_cmd->add_option("--table", o->table, "FILE.csv: also write the table as CSV");
  merge_cmd->add_option("--report", o->report,
                        "DIR: a report-calibration run's validation report (report.json, "
                        "report.md, csv/, figures/), as `report` writes its calibration block");

  return [=, &options]() -> int {
    if (!batch->parsed()) return -1;
    // Absolute, so logs and worker command lines name the folder wherever they are read.
    if (!o->run.empty()) o->run = absolute_folder(o->run);
    if (plan_cmd->parsed()) {
      apply_global_options(options);
      o->task_options.clear();
      o->task_options = plan_cmd->remaining();
      if (o->vlb_chunk > 0)
        o->task_options.insert(o->task_options.end(), {"--chunk", std::to_string(o->vlb_chunk)});
      return plan(*o, plan_cmd->count("--seed") ? o->seed : options.seed, options);
    }
    if (run_cmd->parsed()) {
      apply_global_options(options);
      const ds::BatchManifest m = ds::read_batch_manifest(o->run);
      if (o->all) {
        if (o->task_id >= 0) throw ds::InvalidArgument("batch run: --all takes no --task-id");
        return run_all_tasks(o->run, m, o->jobs, options);
      }
      return run_one_task(o->run, m, task_id_of(*o), options);
    }
    if (status_cmd->parsed()) return status(*o);
    if (merge_cmd->parsed()) return merge(*o, options);
    return -1;
  };
}

}  // namespace dscli
