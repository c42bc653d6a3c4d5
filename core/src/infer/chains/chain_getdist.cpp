// GetDist plain-text chains (formats.md): ROOT_N.txt rows `weight -ln(posterior) p1 p2 ...`,
// ROOT.paramnames, ROOT.ranges, ROOT.properties.ini.
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "infer/chains/chain_text.h"

namespace ds {

namespace fs = std::filesystem;
using detail::chain_format_number;

namespace {

// Limits on what integer weights may expand to (a stuck Metropolis chain repeats a point maybe
// thousands of times; a million is absurd). 2^25 values are 256 MiB of doubles.
constexpr double kMaxMultiplicity = 1e6;
constexpr std::size_t kMaxExpandedValues = std::size_t(1) << 25;

std::string chain_path(const std::string& root, std::size_t one_based) {
  return root + "_" + std::to_string(one_based) + ".txt";
}

std::string range_bound(double v) {
  return std::isfinite(v) ? chain_format_number(v) : "N";
}

struct TextChain {
  std::string path;
  std::vector<double> minus_log_posterior;
  std::vector<double> values;  // rows x parameters
  std::size_t rows = 0;
};

// One chain file; `columns` is fixed by the first file read (0: not yet known).
TextChain read_chain_file(const std::string& path, std::size_t& columns) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot open GetDist chain file");
  TextChain chain;
  chain.path = path;
  std::string text;
  std::size_t line_number = 0;
  while (std::getline(in, text)) {
    ++line_number;
    const std::string_view line = detail::chain_trim(text);
    if (line.empty() || line.front() == '#') continue;
    const auto tokens = detail::chain_split_whitespace(line);
    if (columns == 0) {
      if (tokens.size() < 3)
        throw FileError(path, "line " + std::to_string(line_number) + " has " +
                                  std::to_string(tokens.size()) +
                                  " columns; a GetDist row is weight, -ln(posterior), parameters");
      columns = tokens.size();
    }
    if (tokens.size() != columns)
      throw FileError(path, "line " + std::to_string(line_number) + " has " +
                                std::to_string(tokens.size()) + " columns, expected " +
                                std::to_string(columns) + " (ragged rows)");
    std::vector<double> row(columns);
    for (std::size_t c = 0; c < columns; ++c) {
      if (!detail::chain_parse_number(tokens[c], row[c]))
        throw FileError(path, "line " + std::to_string(line_number) + ": '" +
                                  std::string(tokens[c]) + "' is not a number");
      if (!std::isfinite(row[c]))
        throw FileError(path, "line " + std::to_string(line_number) + " column " +
                                  std::to_string(c + 1) + " is not finite (" +
                                  std::string(tokens[c]) + ")");
    }
    // Integer weights are multiplicities of a Metropolis chain: repeat the row.
    const double weight = row[0];
    if (weight < 0 || weight != std::floor(weight))
      throw FileError(path, "line " + std::to_string(line_number) + " has weight " +
                                std::string(tokens[0]) +
                                "; only integer multiplicities describe a Markov chain");
    // Checked before expanding: a weight of 1e16 would otherwise ask for exabytes.
    if (weight > kMaxMultiplicity)
      throw FileError(path, "line " + std::to_string(line_number) + " has weight " +
                                std::string(tokens[0]) + ", an absurd multiplicity (at most " +
                                std::to_string(long(kMaxMultiplicity)) + ")");
    if ((chain.rows + std::size_t(weight)) * columns > kMaxExpandedValues)
      throw FileError(path, "line " + std::to_string(line_number) +
                                ": the weights expand the chain beyond " +
                                std::to_string(kMaxExpandedValues) + " values");
    for (long w = 0; w < long(weight); ++w) {
      chain.minus_log_posterior.push_back(row[1]);
      chain.values.insert(chain.values.end(), row.begin() + 2, row.end());
      ++chain.rows;
    }
  }
  if (chain.rows == 0) throw FileError(path, "holds no draws");
  return chain;
}

// `name  LaTeX` lines; a trailing * (derived parameter) is dropped from the name.
void read_paramnames(const std::string& path, std::size_t parameters, Chains& out) {
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text)) {
    std::string_view line = detail::chain_trim(text);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t blank = line.find_first_of(" \t");
    std::string name(line.substr(0, blank));
    if (!name.empty() && name.back() == '*') name.pop_back();
    const std::string label(
        blank == std::string_view::npos ? "" : detail::chain_trim(line.substr(blank)));
    out.names.push_back(name_from_getdist(name));
    out.labels.push_back(label.empty() ? default_label(out.names.back()) : label);
  }
  if (out.names.size() != parameters)
    throw FileError(path, "lists " + std::to_string(out.names.size()) +
                              " parameters but the chain files hold " + std::to_string(parameters));
}

void read_ranges(const std::string& path, Chains& out) {
  const double inf = std::numeric_limits<double>::infinity();
  out.ranges.assign(out.names.size(), {-inf, inf});
  std::ifstream in(path);
  std::string text;
  std::size_t line_number = 0;
  while (std::getline(in, text)) {
    ++line_number;
    const std::string_view line = detail::chain_trim(text);
    if (line.empty() || line.front() == '#') continue;
    const auto tokens = detail::chain_split_whitespace(line);
    if (tokens.size() != 3)
      throw FileError(path, "line " + std::to_string(line_number) + " is not `name low high`");
    double bounds[2] = {-inf, inf};
    for (int b = 0; b < 2; ++b) {
      const std::string_view t = tokens[std::size_t(b) + 1];
      if (t == "N" || t == "n" || t == "None") continue;
      if (!detail::chain_parse_number(t, bounds[b]) || std::isnan(bounds[b]))
        throw FileError(path, "line " + std::to_string(line_number) + ": '" + std::string(t) +
                                  "' is not a bound (a number or N)");
    }
    const std::string name = name_from_getdist(std::string(tokens[0]));
    for (std::size_t p = 0; p < out.names.size(); ++p)
      if (out.names[p] == name) out.ranges[p] = {bounds[0], bounds[1]};
  }
}

// The root of a GetDist set given as the root itself or as one of its chain files.
std::string root_of(const std::string& argument) {
  static const std::regex numbered(R"((.*)_[0-9]+\.txt)");
  std::smatch m;
  if (fs::is_regular_file(argument) && std::regex_match(argument, m, numbered)) return m[1];
  if (fs::is_regular_file(argument) && argument.size() > 4 &&
      argument.compare(argument.size() - 4, 4, ".txt") == 0)
    return argument.substr(0, argument.size() - 4);
  return argument;
}

}  // namespace

void write_getdist(const std::string& root, const Chains& chains) {
  validate_chains(chains);
  const std::size_t k = chains.parameters();
  std::vector<std::string> names;
  for (const auto& n : chains.names) {
    names.push_back(getdist_name(n));
    for (std::size_t i = 0; i + 1 < names.size(); ++i)
      if (names[i] == names.back())
        throw InvalidArgument("chains: parameters " + chains.names[i] + " and " + n +
                              " have the same GetDist name " + names.back());
  }
  for (std::size_t c = 0; c < chains.chains; ++c) {
    write_file_atomically(chain_path(root, c + 1), [&](std::ostream& out) {
      for (std::size_t d = 0; d < chains.draws; ++d) {
        const std::size_t i = c * chains.draws + d;
        // 0 stands in for -ln(posterior) when the sampler recorded none (GetDist needs a column).
        const double minus_lp = chains.lp.empty() ? 0.0 : -chains.lp[i];
        if (!std::isfinite(minus_lp))
          throw InvalidArgument("chains: lp of draw " + std::to_string(d) + " of chain " +
                                std::to_string(c) + " is not finite");
        out << "1 " << chain_format_number(minus_lp);
        for (std::size_t p = 0; p < k; ++p)
          out << ' ' << chain_format_number(chains.values[i * k + p]);
        out << '\n';
      }
    });
  }
  // A reader takes every consecutive ROOT_k.txt: drop those an earlier, longer run left behind.
  for (std::size_t c = chains.chains + 1; fs::exists(chain_path(root, c)); ++c) {
    std::error_code error;
    if (!fs::remove(chain_path(root, c), error))
      throw FileError(chain_path(root, c),
                      "cannot remove this stale chain of an earlier run: " + error.message());
  }
  write_file_atomically(root + ".paramnames", [&](std::ostream& out) {
    for (std::size_t p = 0; p < k; ++p)
      out << names[p] << "  "
          << (chains.labels.empty() || chains.labels[p].empty() ? default_label(chains.names[p])
                                                                : chains.labels[p])
          << '\n';
  });
  if (!chains.ranges.empty())
    write_file_atomically(root + ".ranges", [&](std::ostream& out) {
      for (std::size_t p = 0; p < k; ++p)
        out << names[p] << "  " << range_bound(chains.ranges[p].first) << "  "
            << range_bound(chains.ranges[p].second) << '\n';
    });
  write_file_atomically(root + ".properties.ini", [&](std::ostream& out) {
    out << "burn_removed=T\n";
    if (!chains.sampler.empty()) out << "sampler=" << chains.sampler << '\n';
    out << "seed=" << chains.seed << '\n';
  });
}

Chains read_getdist(const std::string& argument) {
  const std::string root = root_of(argument);
  std::vector<std::string> files;
  for (std::size_t c = 1; fs::is_regular_file(chain_path(root, c)); ++c)
    files.push_back(chain_path(root, c));
  if (files.empty() && fs::is_regular_file(root + ".txt")) files.push_back(root + ".txt");
  if (files.empty())
    throw FileError(
        root, "no GetDist chains: neither " + chain_path(root, 1) + " nor " + root + ".txt exists");
  std::size_t columns = 0;
  std::vector<TextChain> text;
  for (const auto& f : files) {
    text.push_back(read_chain_file(f, columns));
    if (text.back().rows != text.front().rows)
      throw FileError(f, "has " + std::to_string(text.back().rows) + " draws but " + files.front() +
                             " has " + std::to_string(text.front().rows) +
                             "; diagnostics need chains of equal length");
  }
  Chains out;
  const std::size_t k = columns - 2;
  out.chains = text.size();
  out.draws = text.front().rows;
  for (const auto& t : text) {
    out.values.insert(out.values.end(), t.values.begin(), t.values.end());
    for (double m : t.minus_log_posterior) out.lp.push_back(-m);
  }
  if (fs::is_regular_file(root + ".paramnames")) {
    read_paramnames(root + ".paramnames", k, out);
  } else {
    for (std::size_t p = 0; p < k; ++p) {
      out.names.push_back("param" + std::to_string(p + 1));
      out.labels.push_back(out.names.back());
    }
  }
  if (fs::is_regular_file(root + ".ranges")) read_ranges(root + ".ranges", out);
  std::ifstream properties(root + ".properties.ini");
  std::string line;
  while (std::getline(properties, line)) {
    if (line.rfind("sampler=", 0) == 0)
      out.sampler = std::string(detail::chain_trim(line.substr(8)));
    if (line.rfind("seed=", 0) == 0) {
      const std::string_view v = detail::chain_trim(std::string_view(line).substr(5));
      std::from_chars(v.data(), v.data() + v.size(), out.seed);
    }
  }
  return out;
}

}  // namespace ds
