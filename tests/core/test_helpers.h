// Small helpers shared by the core tests.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dstest {

inline std::string testdata(const std::string& relative) {
  return std::string(DS_TESTDATA_DIR) + "/" + relative;
}

// Sets (or, with nullptr, unsets) an environment variable for one scope and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
    }
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_.c_str(), old_.c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_, old_;
  bool had_ = false;
};

// A crashing input found by a fuzz target (tests/fuzz/regressions), kept as a regression test.
inline std::string fuzz_regression(const std::string& name) {
  return std::string(DS_FUZZ_REGRESSIONS_DIR) + "/" + name;
}

// A fresh, empty directory under the system temp dir for one test, unique to this process (two
// builds testing at once never share one) and removed when the process exits (tests leave
// nothing in /tmp).
inline std::filesystem::path scratch_dir(const std::string& name) {
  struct Registry {
    std::vector<std::filesystem::path> dirs;
    ~Registry() {
      std::error_code ignored;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ignored);
    }
  };
  static Registry registry;
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("diffuscope-test-" + name + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(++counter));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  registry.dirs.push_back(dir);
  return dir;
}

// Reads a CSV with a header row into columns of doubles.
inline std::vector<std::vector<double>> read_csv_columns(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> columns;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream row(line);
    std::string cell;
    std::size_t c = 0;
    while (std::getline(row, cell, ',')) {
      if (columns.size() <= c) columns.emplace_back();
      columns[c++].push_back(std::stod(cell));
    }
  }
  return columns;
}

}  // namespace dstest
