// Shared plumbing of the libFuzzer targets (tests/fuzz/README.md): a per-process scratch folder
// for loaders that take a path, splitting one input into several files, and the rule that only
// Diffuscope's own errors are expected. Everything else a loader does with hostile bytes (another
// exception type, a sanitizer report, an allocation beyond -malloc_limit_mb) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "diffuscope/error.h"

namespace ds::fuzz {

// Separates the files of a multi-file input (a CAMELS map stack and its params table, the
// sub-files of a FoF catalogue, a GetDist chain and its .paramnames). Listed in each target's
// dictionary so that libFuzzer inserts it.
inline constexpr std::string_view kFileSeparator = "\n=====\n";

// A folder of its own for this process (several fuzzers may run at once), emptied after every
// input and removed at exit.
class Scratch {
 public:
  static Scratch& get() {
    static Scratch scratch;
    return scratch;
  }
  std::filesystem::path dir() const { return dir_; }

  // Writes bytes to dir/name and returns the full path.
  std::string write(const std::string& name, std::string_view bytes) const {
    const auto path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return path.string();
  }

  void clear() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
      std::filesystem::remove_all(entry.path(), ec);
  }

  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ds-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) std::abort();
    dir_ = pattern;
  }
  std::filesystem::path dir_;
};

// Splits at kFileSeparator into at most max_parts parts (the last one keeps any further
// separators); missing parts are empty.
inline std::vector<std::string_view> split_files(const std::uint8_t* data, std::size_t size,
                                                 std::size_t max_parts) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const auto at = rest.find(kFileSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + kFileSeparator.size());
  }
  parts.push_back(rest);
  parts.resize(max_parts);
  return parts;
}

// Runs one loader call: ds::Error (FileError, InvalidArgument, ...) is the expected refusal of a
// bad file; any other exception escapes to libFuzzer, which reports it as a crash.
template <class F>
void expect_only_ds_errors(F&& load) {
  try {
    load();
  } catch (const ds::Error&) {
  }
  Scratch::get().clear();
}

}  // namespace ds::fuzz
