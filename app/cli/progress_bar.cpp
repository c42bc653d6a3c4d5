#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace dscli {

ProgressBar::ProgressBar(std::string title)
    : title_(std::move(title)),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

ProgressBar::~ProgressBar() {
  if (terminal_ && drawn_) std::fputc('\n', stderr);
}

void ProgressBar::update(const ds::Progress& p) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  const double fraction = p.fraction();
  const double elapsed = duration<double>(now - start_).count();
  const bool finished = p.total > 0 && p.done >= p.total;
  if (terminal_) {
    if (!finished && now - last_draw_ < milliseconds(100)) return;
    last_draw_ = now;
    const int width = 30;
    const int filled = int(fraction * width + 0.5);
    std::string bar(std::size_t(filled), '#');
    bar.append(std::size_t(width - filled), '.');
    const double eta = fraction > 0.0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
    std::fprintf(stderr, "\r%s [%s] %3d%% %6.1fs eta %5.1fs  %-32.32s", title_.c_str(), bar.c_str(),
                 int(100 * fraction), elapsed, eta, p.message.c_str());
    drawn_ = true;
  } else {
    const int decile = int(fraction * 10);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s: %3d%% (%.1fs) %s\n", title_.c_str(), decile * 10, elapsed,
                 p.message.c_str());
  }
  std::fflush(stderr);
}

}  // namespace dscli
