// Whitespace- or comma-separated numeric tables (CAMELS params files, Quijote
// latin_hypercube_params.txt, cosmology CSVs).
#pragma once

#include <string>
#include <vector>

namespace ds {

struct TextTable {
  std::vector<std::string> header;        // column names when the first line is not numeric
  std::vector<std::vector<double>> rows;  // all rows have the same number of columns
  std::size_t columns() const { return rows.empty() ? header.size() : rows.front().size(); }
  // Index of the first header name matching one of the candidates (case-insensitive), or -1.
  int find_column(const std::vector<std::string>& candidates) const;
};

// Lines starting with '#' and blank lines are skipped; separators are spaces, tabs or commas.
// Throws FileError naming the file and line for ragged rows, non-numeric cells or NaN/Inf.
TextTable read_text_table(const std::string& path);

}  // namespace ds
