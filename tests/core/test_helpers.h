// Small helpers shared by the core tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dstest {

inline std::string testdata(const std::string& relative) {
  return std::string(DS_TESTDATA_DIR) + "/" + relative;
}

// A fresh, empty directory under the system temp dir for one test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("diffuscope-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
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
