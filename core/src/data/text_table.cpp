#include "diffuscope/data/text_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "diffuscope/error.h"

namespace ds {

namespace {
std::vector<std::string> split(const std::string& line) {
  std::string cleaned = line;
  std::replace(cleaned.begin(), cleaned.end(), ',', ' ');
  std::replace(cleaned.begin(), cleaned.end(), '\t', ' ');
  std::istringstream in(cleaned);
  std::vector<std::string> cells;
  std::string cell;
  while (in >> cell) cells.push_back(cell);
  return cells;
}

bool parse_number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && end != s.c_str();
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

int TextTable::find_column(const std::vector<std::string>& candidates) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    for (const auto& c : candidates)
      if (lower(header[i]) == lower(c)) return int(i);
  return -1;
}

TextTable read_text_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot open file (missing or unreadable)");
  TextTable table;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto cells = split(line);
    std::vector<double> values(cells.size());
    bool numeric = true;
    for (std::size_t i = 0; i < cells.size() && numeric; ++i)
      numeric = parse_number(cells[i], values[i]);
    if (!numeric) {
      if (table.rows.empty() && table.header.empty()) {
        table.header = cells;
        continue;
      }
      throw FileError(path, "line " + std::to_string(line_number) + " is not numeric: " + line);
    }
    for (double v : values)
      if (!std::isfinite(v))
        throw FileError(path, "line " + std::to_string(line_number) + " holds NaN or Inf");
    if (!table.rows.empty() && values.size() != table.rows.front().size())
      throw FileError(path, "line " + std::to_string(line_number) + " has " +
                                std::to_string(values.size()) + " columns, expected " +
                                std::to_string(table.rows.front().size()));
    table.rows.push_back(std::move(values));
  }
  if (table.rows.empty()) throw FileError(path, "holds no numeric rows");
  if (!table.header.empty() && table.header.size() != table.rows.front().size())
    throw FileError(path, "header has " + std::to_string(table.header.size()) +
                              " names but rows have " + std::to_string(table.rows.front().size()) +
                              " columns");
  return table;
}

}  // namespace ds
