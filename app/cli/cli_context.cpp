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
  app.add_option("--precision", options.precision,
                 "arithmetic of the 2D diffusion networks (sampling and the VLB): fp32 (default) "
                 "or bf16 (autocast to bfloat16: 10-20% faster on CPUs with AVX-512 BF16; moves "
                 "VLB log-likelihood differences by up to ~3 nats, see the README)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  app.add_option("--seed", options.seed, "random seed (default 0)");
  app.add_flag("--quiet,-q", options.quiet, "no progress bar on stderr");
}

void apply_global_options(const GlobalOptions& options) {
  ds::require_device(options.parsed_device());
  ds::set_thread_count(options.threads);
  ds::set_network_precision(ds::parse_precision(options.precision));
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
// The process-wide interrupt of core (jobs/job.h): checked by every JobContext, so a network
// chunk loop inside a likelihood stops too, not only the command's own loop.
const ds::CancellationToken& interrupt_token() {
  return ds::process_interrupt();
}

volatile std::sig_atomic_t g_signal = 0;  // the first signal received

volatile std::sig_atomic_t g_listening = 0;  // a job of progress_context checks the token

extern "C" void on_interrupt(int signal) {
  std::signal(signal, SIG_DFL);  // a second signal terminates at once
  if (!g_listening) {            // nothing would notice the request yet: the default action, now
    std::raise(signal);
    return;
  }
  if (g_signal == 0) g_signal = signal;
  interrupt_token().request();  // a lock-free atomic store
}

}  // namespace

void install_interrupt_handlers() {
  (void)interrupt_token();
  // Also where the shell started us with SIGINT ignored (a background job of a script).
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

int cancelled_exit_status() {
  return 128 + (g_signal != 0 ? int(g_signal) : SIGINT);
}

ds::JobContext progress_context(const GlobalOptions& options, const std::string& title) {
  install_interrupt_handlers();
  g_listening = 1;
  if (options.quiet) return ds::JobContext({}, interrupt_token());
  auto bar = std::make_shared<ProgressBar>(title);
  return ds::JobContext([bar](const ds::Progress& p) { bar->update(p); }, interrupt_token());
}

}  // namespace dscli
