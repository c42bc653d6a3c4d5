// A progress bar on stderr: redrawn in place on a terminal (at most 10 times a second), one line
// per 10 % otherwise (logs, CI).
#pragma once

#include <chrono>
#include <string>

#include "diffuscope/jobs/job.h"

namespace dscli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string title);
  ~ProgressBar();
  void update(const ds::Progress& progress);

 private:
  std::string title_;
  bool terminal_;
  bool drawn_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace dscli
