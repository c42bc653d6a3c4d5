// Chains as one CSV table: `chain,draw,<parameters>,<sample statistics>`, one row per draw.
#include <cmath>
#include <fstream>
#include <limits>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chain_files.h"
#include "infer/chain_stats.h"
#include "infer/chain_text.h"

namespace ds {

using detail::chain_format_number;
using detail::kChainStats;

void write_chains_csv(const std::string& path, const Chains& chains) {
  validate_chains(chains);
  for (const auto& name : chains.names)
    if (name.find_first_of(",\"\n\r") != std::string::npos || name == "chain" || name == "draw" ||
        detail::chain_stat_index(name) >= 0)
      throw InvalidArgument("chains: parameter name '" + name +
                            "' cannot be a CSV column (a comma, quote, or a reserved name)");
  std::vector<std::size_t> stats;
  std::vector<std::vector<double>> stat_values;
  for (std::size_t s = 0; s < kChainStats.size(); ++s) {
    auto v = detail::chain_stat_values(chains, s);
    if (v.empty()) continue;
    stats.push_back(s);
    stat_values.push_back(std::move(v));
  }
  const std::size_t k = chains.parameters();
  write_file_atomically(path, [&](std::ostream& out) {
    out << "chain,draw";
    for (const auto& name : chains.names) out << ',' << name;
    for (std::size_t s : stats) out << ',' << kChainStats[s].name;
    out << '\n';
    for (std::size_t c = 0; c < chains.chains; ++c)
      for (std::size_t d = 0; d < chains.draws; ++d) {
        const std::size_t i = c * chains.draws + d;
        out << c << ',' << d;
        for (std::size_t p = 0; p < k; ++p)
          out << ',' << chain_format_number(chains.values[i * k + p]);
        for (const auto& v : stat_values) out << ',' << chain_format_number(v[i]);
        out << '\n';
      }
  });
}

Chains read_chains_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot open CSV chain file (missing?)");
  std::string text;
  if (!std::getline(in, text)) throw FileError(path, "is empty (no header row)");
  const auto header = detail::chain_split(detail::chain_trim(text), ',');
  int chain_column = -1, draw_column = -1;
  std::vector<std::size_t> parameter_columns;
  std::vector<std::pair<std::size_t, std::size_t>> stat_columns;  // (column, stat index)
  Chains out;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string name(header[c]);
    if (name == "chain") {
      chain_column = int(c);
    } else if (name == "draw") {
      draw_column = int(c);
    } else if (const int s = detail::chain_stat_index(name); s >= 0) {
      stat_columns.emplace_back(c, std::size_t(s));
    } else {
      if (name.empty()) throw FileError(path, "column " + std::to_string(c + 1) + " has no name");
      parameter_columns.push_back(c);
      out.names.push_back(name);
      out.labels.push_back(default_label(name));
    }
  }
  if (chain_column < 0 || draw_column < 0)
    throw FileError(path, "header lacks the chain and draw columns");
  if (parameter_columns.empty()) throw FileError(path, "has no parameter columns");

  struct Row {
    std::size_t chain, draw;
    std::vector<double> cells;
  };
  std::vector<Row> rows;
  std::size_t line_number = 1;
  while (std::getline(in, text)) {
    ++line_number;
    const std::string_view line = detail::chain_trim(text);
    if (line.empty()) continue;
    const auto fields = detail::chain_split(line, ',');
    const std::string where = "line " + std::to_string(line_number);
    if (fields.size() != header.size())
      throw FileError(path, where + " has " + std::to_string(fields.size()) + " fields, expected " +
                                std::to_string(header.size()) + " (ragged rows)");
    Row row;
    row.cells.resize(fields.size());
    for (std::size_t c = 0; c < fields.size(); ++c) {
      std::string_view f = fields[c];
      if (f == "True" || f == "true") f = "1";  // pandas writes booleans as True / False
      if (f == "False" || f == "false") f = "0";
      if (!detail::chain_parse_number(f, row.cells[c]))
        throw FileError(path, where + ": '" + std::string(fields[c]) + "' is not a number");
    }
    for (int c : {chain_column, draw_column}) {
      const double v = row.cells[std::size_t(c)];
      if (!(v >= 0) || v != std::floor(v) || v > 1e9)
        throw FileError(path, where + ": " + std::string(header[std::size_t(c)]) +
                                  " must be a non-negative integer");
    }
    for (std::size_t c : parameter_columns)
      if (!std::isfinite(row.cells[c]))
        throw FileError(path, where + ": " + std::string(header[c]) + " is not finite (" +
                                  std::string(fields[c]) + ")");
    row.chain = std::size_t(row.cells[std::size_t(chain_column)]);
    row.draw = std::size_t(row.cells[std::size_t(draw_column)]);
    out.chains = std::max(out.chains, row.chain + 1);
    out.draws = std::max(out.draws, row.draw + 1);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw FileError(path, "holds no draws");
  if (rows.size() != out.chains * out.draws)
    throw FileError(path, std::to_string(rows.size()) + " rows do not fill " +
                              std::to_string(out.chains) + " chains x " +
                              std::to_string(out.draws) + " draws");
  const std::size_t k = parameter_columns.size(), n = rows.size();
  out.values.assign(n * k, std::numeric_limits<double>::quiet_NaN());
  std::vector<std::vector<double>> stats(stat_columns.size(), std::vector<double>(n));
  std::vector<bool> seen(n, false);
  for (const auto& row : rows) {
    const std::size_t i = row.chain * out.draws + row.draw;
    if (seen[i])
      throw FileError(path, "chain " + std::to_string(row.chain) + " draw " +
                                std::to_string(row.draw) + " appears twice");
    seen[i] = true;
    for (std::size_t p = 0; p < k; ++p) out.values[i * k + p] = row.cells[parameter_columns[p]];
    for (std::size_t s = 0; s < stat_columns.size(); ++s)
      stats[s][i] = row.cells[stat_columns[s].first];
  }
  for (std::size_t s = 0; s < stat_columns.size(); ++s)
    detail::chain_set_stat(out, stat_columns[s].second, stats[s]);
  return out;
}

}  // namespace ds
