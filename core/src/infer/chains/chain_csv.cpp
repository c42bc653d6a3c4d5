// Chains as one CSV table: `chain,draw,<parameters>,<sample statistics>`, one row per draw.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "infer/chains/chain_csv_layout.h"
#include "infer/chains/chain_stats.h"
#include "infer/chains/chain_text.h"

namespace ds {

using detail::kChainStats;

namespace detail {

void check_chain_csv_names(const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (name.find_first_of(",\"\n\r") != std::string::npos || name == "chain" || name == "draw" ||
        chain_stat_index(name) >= 0)
      throw InvalidArgument("chains: parameter name '" + name +
                            "' cannot be a CSV column (a comma, quote, or a reserved name)");
}

std::string chain_csv_header(const std::vector<std::string>& names,
                             const std::vector<std::size_t>& stats) {
  std::string out = "chain,draw";
  for (const auto& name : names) out += ',' + name;
  for (std::size_t s : stats) out += std::string(",") + kChainStats[s].name;
  out += '\n';
  return out;
}

void append_chain_csv_row(std::string& out, std::size_t chain, std::size_t draw,
                          const double* values, std::size_t parameters, const double* stats,
                          std::size_t stat_count) {
  out += std::to_string(chain);
  out += ',';
  out += std::to_string(draw);
  for (std::size_t p = 0; p < parameters; ++p) {
    out += ',';
    out += chain_format_number(values[p]);
  }
  for (std::size_t s = 0; s < stat_count; ++s) {
    out += ',';
    out += chain_format_number(stats[s]);
  }
  out += '\n';
}

}  // namespace detail

void write_chains_csv(const std::string& path, const Chains& chains) {
  validate_chains(chains);
  detail::check_chain_csv_names(chains.names);
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
    out << detail::chain_csv_header(chains.names, stats);
    std::string row;
    std::vector<double> row_stats(stats.size());
    for (std::size_t c = 0; c < chains.chains; ++c)
      for (std::size_t d = 0; d < chains.draws; ++d) {
        const std::size_t i = c * chains.draws + d;
        for (std::size_t s = 0; s < stats.size(); ++s) row_stats[s] = stat_values[s][i];
        row.clear();
        detail::append_chain_csv_row(row, c, d, chains.values.data() + i * k, k, row_stats.data(),
                                     row_stats.size());
        out << row;
      }
  });
}

namespace {

// Sampler, seed and number of chains from a progress file's first line
// `# diffuscope chains in progress (sampler S, seed N, C chains): ...` (each left unset when
// absent; the number of chains then follows from the rows).
std::size_t read_progress_provenance(std::string_view line, Chains& out) {
  std::size_t chains = 0;
  const auto open = line.find('('), close = line.find(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return chains;
  for (std::string_view item : detail::chain_split(line.substr(open + 1, close - open - 1), ',')) {
    item = detail::chain_trim(item);
    if (item.rfind("sampler ", 0) == 0) out.sampler = std::string(item.substr(8));
    if (item.rfind("seed ", 0) == 0) {
      std::uint64_t seed = 0;
      const auto digits = item.substr(5);
      const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), seed);
      if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) out.seed = seed;
    }
    if (const auto end = item.find(" chains"); end != std::string_view::npos) {
      std::size_t count = 0;
      const auto r = std::from_chars(item.data(), item.data() + end, count);
      if (r.ec == std::errc() && r.ptr == item.data() + end && count <= 1000000) chains = count;
    }
  }
  return chains;
}

}  // namespace

Chains read_chains_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot open CSV chain file (missing?)");
  std::string text;
  if (!std::getline(in, text)) throw FileError(path, "is empty (no header row)");
  Chains out;
  // A file that ChainProgressWriter is appending to (or was, when its process died).
  const bool in_progress = text.rfind(detail::kChainProgressMarker, 0) == 0;
  std::size_t line_number = 1, announced_chains = 0;
  if (in_progress) {
    announced_chains = read_progress_provenance(text, out);
    ++line_number;
    if (!std::getline(in, text))
      throw FileError(path, "has no header row yet (a file in progress)");
  }
  // The rows are read into `text` too: the header's views must point into a string of their own
  // (an error message naming a column read freed memory; found by fuzz_chain_text).
  const std::string header_text = text;
  const auto header = detail::chain_split(detail::chain_trim(header_text), ',');
  int chain_column = -1, draw_column = -1;
  std::vector<std::size_t> parameter_columns;
  std::vector<std::pair<std::size_t, std::size_t>> stat_columns;  // (column, stat index)
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
  while (std::getline(in, text)) {
    ++line_number;
    const std::string_view line = detail::chain_trim(text);
    if (line.empty()) continue;
    const auto fields = detail::chain_split(line, ',');
    // A progress file ends wherever its writer was stopped: a last line without its newline, or
    // with fewer fields, is a row being written, not a corrupt one.
    const bool terminated = !in.eof();  // getline stopped at a newline, not at the end
    const bool last = !terminated || in.peek() == std::char_traits<char>::eof();
    if (in_progress && last && (!terminated || fields.size() < header.size())) break;
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
  if (in_progress) {
    // Keep the rectangle of draws that every chain has: the writer appends one row per chain for
    // each kept iteration, so only the last iteration may be incomplete.
    if (announced_chains > 0) {
      if (out.chains > announced_chains)
        throw FileError(path, "has rows of chain " + std::to_string(out.chains - 1) +
                                  " but announces " + std::to_string(announced_chains) + " chains");
      out.chains = announced_chains;
    }
    std::size_t complete = 0;
    if (!rows.empty() && out.chains <= rows.size()) {  // else some chain has no row
      std::vector<std::size_t> rows_per_chain(out.chains, 0);
      for (const auto& row : rows) ++rows_per_chain[row.chain];
      complete = *std::min_element(rows_per_chain.begin(), rows_per_chain.end());
    }
    if (complete == 0)
      throw FileError(path,
                      "no complete draw yet (a chain file in progress; every chain needs one)");
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const Row& row) { return row.draw >= complete; }),
               rows.end());
    out.draws = complete;
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
