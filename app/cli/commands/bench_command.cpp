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
  cmd->add_option("--out", opts->out, "JSON file to write")
      ;
  cmd->add_flag("--list", opts->list, "list the suites and exit");
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
    std::vector<ds::BenchSuiteResult> results;
    for (const auto& name : names) {
      const auto& suite = ds::bench_suite(name);
      results.push_back(suite.run(progress_context(options, "bench " + name)));
    }
    const std::string json = ds::bench_results_to_json(results);
    ds::write_file_atomically(opts->out, [&](std::ostream& out) { out << json; });
    for (const auto& r : results)
      for (const auto& m : r.measurements)
        std::fprintf(stderr, "%-34s %10.3f ms  ratio %7.2f%s\n", m.name.c_str(), m.seconds * 1e3,
                     m.ratio, m.meets_target() ? "" : "  (above target)");
    return 0;
  };
}

}  // namespace dscli
