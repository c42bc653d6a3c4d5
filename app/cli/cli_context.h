// Options every command shares (--device, --threads, --seed, --quiet) and the progress plumbing.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"

namespace dscli {

struct GlobalOptions {
  std::string device = "cpu";
  std::string precision = "fp32";
  int threads = 0;  // 0: number of cores (or OMP_NUM_THREADS)
  std::uint64_t seed = 0;
  bool quiet = false;

  ds::Device parsed_device() const { return ds::kDevices.from_string(device); }
};

void add_global_options(CLI::App& app, GlobalOptions& options);

// Applies --threads and checks --device; throws ds::Error with a one-line reason.
void apply_global_options(const GlobalOptions& options);

// "a,b,c" -> numbers; throws ds::InvalidArgument naming `flag` and the text unless every item is a
// finite number.
std::vector<double> parse_numbers(const std::string& text, const std::string& flag);

// SIGINT / SIGTERM handlers for the whole run (called first thing in main): until a job of
// progress_context runs, a signal terminates the process as by default; from then on it
// requests cancellation (core's process-wide interrupt) and a second signal terminates.
void install_interrupt_handlers();

// A job context whose progress goes to a bar on stderr (nothing with --quiet).
ds::JobContext progress_context(const GlobalOptions& options, const std::string& title);

// The exit status of a command cancelled by a signal: 128 + the signal number (130 for SIGINT,
// 143 for SIGTERM, as shells report them), 130 when no signal was seen.
int cancelled_exit_status();
}  // namespace dscli
