// Linked into every test executable: the tests run under the allocator policy the two
// executables set in main() (runtime.h), so that their timings and memory behaviour match.
#include "diffuscope/runtime.h"

namespace {
[[maybe_unused]] const bool policy_applied = (ds::configure_memory_allocator(), true);
}  // namespace
