#include "cli_context.h"

#include <cmath>
#include <csignal>
#include <memory>
#include <sstream>

#include "diffuscope/error.h"
#include "diffuscope/runtime.h"
#include "progress_bar.h"

namespace dscli {

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.add_option("--device", options.device,
                 "compute device: " + ds::kDevices.joined_names(" | ") + " (default cpu)")
      ->check(CLI::IsMember(ds::kDevices.names()));
  app.add_option("--threads", options.threads, "CPU threads (default: number of cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", options.seed, "random seed (default 0)");
  app.add_flag("--quiet,-q", options.quiet, "no progress bar on stderr");
}

void apply_global_options(const GlobalOptions& options) {
  ds::require_device(options.parsed_device());
  ds::set_thread_count(options.threads);
}

std::vector<double> parse_numbers(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    std::size_t used = 0;
    double v = 0.0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !std::isfinite(v))
      throw ds::InvalidArgument(flag + " '" + text + "' is not a comma-separated list of numbers");
    out.push_back(v);
  }
  return out;
}

namespace {

// Ctrl-C (SIGINT) and SIGTERM request cancellation of the running job: it stops between steps
// and cleans up (the trainer checkpoints first); a second signal terminates at once.
const ds::CancellationToken& interrupt_token() {
  static const ds::CancellationToken token;
  return token;
}

volatile std::sig_atomic_t g_interrupt_signal = 0;

extern "C" void on_interrupt(int signal) {
  g_interrupt_signal = signal;
  interrupt_token().request();  // a lock-free atomic store
  std::signal(signal, SIG_DFL);
}

}  // namespace

int interrupt_signal() { return int(g_interrupt_signal); }

ds::JobContext progress_context(const GlobalOptions& options, const std::string& title) {
  (void)interrupt_token();
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  if (options.quiet) return ds::JobContext({}, interrupt_token());
  auto bar = std::make_shared<ProgressBar>(title);
  return ds::JobContext([bar](const ds::Progress& p) { bar->update(p); }, interrupt_token());
}

}  // namespace dscli
