#include "cli_context.h"

#include <memory>

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

ds::JobContext progress_context(const GlobalOptions& options, const std::string& title) {
  if (options.quiet) return {};
  auto bar = std::make_shared<ProgressBar>(title);
  return ds::JobContext([bar](const ds::Progress& p) { bar->update(p); }, ds::CancellationToken());
}

}  // namespace dscli
