#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/bench/bench.h"
#include "diffuscope/data/atomic_file.h"

namespace dscli {

namespace {
struct BenchOptions {
  std::vector<std::string> suites;
  std::string out;
  bool list = false;
  ds::BenchInputs inputs;
};
}  // namespace

Action add_bench_command(CLI::App& app, const GlobalOptions& options) {
  auto opts = std::make_shared<BenchOptions>();
  std::string suite_names;
  std::vector<std::string> choices;
  for (const auto& s : ds::bench_suites()) {
    suite_names += (suite_names.empty() ? "" : ", ") + s.name;
    choices.push_back(s.name);
  }
  CLI::App* cmd = app.add_subcommand(
      "bench", "run benchmark suites and write their timings and ratios as JSON");
  cmd->add_option("--suite", opts->suites, "suite to run (repeatable; default all): " + suite_names)
      ->check(CLI::IsMember(choices));
  cmd->add_option("--out", opts->out, "JSON file to write");
  cmd->add_flag("--list", opts->list, "list the suites and exit");
  cmd->add_option("--model", opts->inputs.model,
                  "M: a diffusion model for the model-based part of the inference suite "
                  "(published HMC vs NUTS on its VLB, a likelihood grid); skipped without");
  cmd->add_option("--field", opts->inputs.field,
                  "observed field for --model (.npy in model space or HDF5 dataset); default: "
                  "one field sampled from the model at (0.3, 0.8) with a fixed seed");
  cmd->add_option("--index", opts->inputs.index, "field of a stack for --field")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--field-size", opts->inputs.field_size,
                  "side of the field sampled from --model (default 64)")
      ->check(CLI::Range(4, 1024));
  cmd->add_option("--grid-size", opts->inputs.grid_size,
                  "likelihood grid n x n of the model part (default 50, as published)")
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--sampler-seconds", opts->inputs.sampler_seconds,
                  "wall-time budget in seconds of each sampler run of the model part (sizes the "
                  "chains; a run stops after 2x; the grid gets 2x; default 45)")
      ->check(CLI::PositiveNumber);
  return [cmd, opts, &options]() -> int {
    if (!cmd->parsed()) return -1;
    if (opts->list) {
      for (const auto& s : ds::bench_suites())
        std::printf("%-10s %s\n", s.name.c_str(), s.description.c_str());
      return 0;
    }
    if (opts->out.empty()) throw ds::InvalidArgument("bench: --out FILE is required");
    apply_global_options(options);
    std::vector<std::string> names = opts->suites;
    if (names.empty())
      for (const auto& s : ds::bench_suites()) names.push_back(s.name);
    // The machine's peaks first, in the same process and threads: every counted measurement is
    // stated as a fraction of them.
    const ds::MachinePeaks peaks = ds::measure_machine_peaks();
    std::vector<ds::BenchSuiteResult> results;
    for (const auto& name : names) {
      const auto& suite = ds::bench_suite(name);
      results.push_back(suite.run(progress_context(options, "bench " + name), opts->inputs));
    }
    const std::string json = ds::bench_results_to_json(results, &peaks);
    ds::write_file_atomically(opts->out, [&](std::ostream& out) { out << json; });
    std::fprintf(stderr,
                 "machine peak: sgemm_fp32 %.1f GFLOP/s, dgemm_fp64 %.1f, conv3x3_fp32 %.1f\n",
                 peaks.sgemm_fp32, peaks.dgemm_fp64, peaks.conv3x3_fp32);
    for (const auto& r : results)
      for (const auto& m : r.measurements) {
        const std::string efficiency = ds::efficiency_text(m, peaks);
        std::fprintf(stderr, "%-34s %10.3f ms  ratio %7.2f%s%s%s\n", m.name.c_str(),
                     m.seconds * 1e3, m.ratio, m.meets_target() ? "" : "  (above target)",
                     efficiency.empty() ? "" : "  ", efficiency.c_str());
      }
    for (const auto& r : results)
      for (const auto& note : r.notes)
        std::fprintf(stderr, "%s: %s\n", r.suite.c_str(), note.c_str());
    return 0;
  };
}

}  // namespace dscli
