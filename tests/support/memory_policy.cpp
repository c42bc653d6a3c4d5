// Linked into every test executable: the tests run under the allocator policy the two
// executables set in main() (runtime.h), so that their timings and memory behaviour match.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "diffuscope/runtime.h"

namespace {

// CHECK at start-up: the policy took, or the environment asked for glibc's defaults. A test
// binary that silently ran without it would page-fault and time differently from the programs
// it tests, so it stops instead.
[[maybe_unused]] const bool policy_applied = [] {
  const std::string line = ds::configure_memory_allocator();
  if (line.find("refused") != std::string::npos) {
    std::fprintf(stderr, "memory policy: %s\n", line.c_str());
    std::abort();
  }
  return true;
}();

}  // namespace
