// The torch-free parts of runtime.h: the allocator policy (configure_memory_allocator), process
// CPU times and the search for shipped models; kept apart from runtime.cpp, which includes
// LibTorch headers.
#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "diffuscope/runtime.h"

namespace ds {

namespace {

// Function-local statics: configure_memory_allocator may run from another translation unit's
// static initialiser (the tests'), before this file's namespace-scope objects would exist.
std::mutex& report_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::string& report() {
  static std::string line = "not configured";
  return line;
}
std::string& openmp_report() {
  static std::string line = "not configured";
  return line;
}

// The user (or a benchmark of the defaults) asked for glibc as it is.
const char* environment_override() {
  const char* choice = std::getenv("DIFFUSCOPE_MALLOC");
  if (choice && std::string(choice) == "system") return "DIFFUSCOPE_MALLOC=system";
  for (const char* name : {"GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                           "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX"})
    if (std::getenv(name)) return name;
  return nullptr;
}

}  // namespace

std::string configure_memory_allocator() {
  std::string line;
#if defined(__GLIBC__)
  if (const char* why = environment_override()) {
    line = std::string("glibc malloc, defaults or environment (") + why + ")";
  } else {
    constexpr int kMiB = 1 << 20;
    const bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_ARENA_MAX, 1) == 1 &&
                    mallopt(M_TRIM_THRESHOLD, 1024 * kMiB) == 1 &&
                    mallopt(M_TOP_PAD, 64 * kMiB) == 1;
    line = ok ? "glibc malloc, memory kept in the process (M_MMAP_MAX 0, M_ARENA_MAX 1, "
                "M_TRIM_THRESHOLD 1 GiB, M_TOP_PAD 64 MiB)"
              : "glibc malloc, defaults (mallopt refused the policy)";
  }
#else
  line = "system allocator (not glibc: left as it is)";
#endif
  const std::lock_guard<std::mutex> lock(report_mutex());
  report() = line;
  return line;
}

std::string memory_allocator_report() {
  const std::lock_guard<std::mutex> lock(report_mutex());
  return report();
}

bool configure_openmp_environment() {
  std::string line;
  bool set = false;
  if (std::getenv("OMP_WAIT_POLICY")) {
    line = "left to the environment (OMP_WAIT_POLICY)";
  } else if (const char* spin = std::getenv("GOMP_SPINCOUNT")) {
    line = std::string(spin) == "10000" ? "GOMP_SPINCOUNT=10000"
                                        : "left to the environment (GOMP_SPINCOUNT)";
  } else {
    set = setenv("GOMP_SPINCOUNT", "10000", 0) == 0;
    line = set ? "GOMP_SPINCOUNT=10000" : "libgomp's defaults (setenv failed)";
  }
  const std::lock_guard<std::mutex> lock(report_mutex());
  openmp_report() = line;
  return set;
}

std::string openmp_environment_report() {
  const std::lock_guard<std::mutex> lock(report_mutex());
  return openmp_report();
}

ProcessTimes process_times() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  ProcessTimes t;
  t.user = double(usage.ru_utime.tv_sec) + 1e-6 * double(usage.ru_utime.tv_usec);
  t.system = double(usage.ru_stime.tv_sec) + 1e-6 * double(usage.ru_stime.tv_usec);
  return t;
}

std::string find_shipped_model(const std::string& name, std::string* searched) {
  namespace fs = std::filesystem;
  std::vector<fs::path> places;
  if (const char* dir = std::getenv("DIFFUSCOPE_MODELS")) places.push_back(fs::path(dir) / name);
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (!error) places.push_back(exe.parent_path().parent_path() / "share/diffuscope/models" / name);
#ifdef DS_SOURCE_DIR
  places.push_back(fs::path(DS_SOURCE_DIR) / "assets/models" / name);
#endif
  places.push_back(fs::path("assets/models") / name);
  std::string list;
  for (const fs::path& p : places) {
    list += (list.empty() ? "" : ", ") + p.string();
    if (fs::is_regular_file(p, error)) return p.string();
  }
  if (searched) *searched = list;
  return {};
}

}  // namespace ds
