// Shared pieces of the chain files: validation, GetDist name mapping, number text, dispatch.
#include "diffuscope/infer/chains/chain_files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "diffuscope/error.h"
#include "diffuscope/text.h"
#include "infer/chains/chain_stats.h"
#include "infer/chains/chain_text.h"

namespace ds {

namespace {

struct KnownName {
  const char* name;
  const char* getdist;
  const char* label;
};
// Diffuscope's parameter names (Omega_m, sigma_8 first; the fixed background; CAMELS feedback).
constexpr std::array<KnownName, 9> kKnownNames{{
    {"Omega_m", "omegam", "\\Omega_m"},
    {"sigma_8", "sigma8", "\\sigma_8"},
    {"Omega_b", "omegab", "\\Omega_b"},
    {"h", "h", "h"},
    {"n_s", "ns", "n_s"},
    {"A_SN1", "A_SN1", "A_{\\rm SN1}"},
    {"A_AGN1", "A_AGN1", "A_{\\rm AGN1}"},
    {"A_SN2", "A_SN2", "A_{\\rm SN2}"},
    {"A_AGN2", "A_AGN2", "A_{\\rm AGN2}"},
}};

}  // namespace

std::string getdist_name(const std::string& name) {
  for (const auto& k : kKnownNames)
    if (name == k.name) return k.getdist;
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return out;
}

std::string name_from_getdist(const std::string& getdist) {
  for (const auto& k : kKnownNames)
    if (getdist == k.getdist) return k.name;
  return getdist;
}

std::string default_label(const std::string& name) {
  for (const auto& k : kKnownNames)
    if (name == k.name) return k.label;
  return name;
}

void validate_chains(const Chains& c) {
  const std::size_t k = c.parameters();
  if (k == 0) throw InvalidArgument("chains: no parameter names");
  if (c.chains == 0 || c.draws == 0) throw InvalidArgument("chains: no draws");
  const std::size_t n = c.chains * c.draws;
  if (c.values.size() != n * k)
    throw InvalidArgument(
        "chains: " + std::to_string(c.values.size()) +
        " values, expected chains x draws x parameters = " + std::to_string(n * k));
  auto check = [&](std::size_t size, const char* what) {
    if (size != 0 && size != n)
      throw InvalidArgument(std::string("chains: sample statistic ") + what + " has " +
                            std::to_string(size) +
                            " entries, expected chains x draws = " + std::to_string(n));
  };
  check(c.lp.size(), "lp");
  check(c.acceptance_rate.size(), "acceptance_rate");
  check(c.step_size.size(), "step_size");
  check(c.energy.size(), "energy");
  check(c.energy_error.size(), "energy_error");
  check(c.n_steps.size(), "n_steps");
  check(c.tree_depth.size(), "tree_depth");
  check(c.diverging.size(), "diverging");
  if (!c.labels.empty() && c.labels.size() != k)
    throw InvalidArgument("chains: " + std::to_string(c.labels.size()) + " labels for " +
                          std::to_string(k) + " parameters");
  if (!c.ranges.empty() && c.ranges.size() != k)
    throw InvalidArgument("chains: " + std::to_string(c.ranges.size()) + " ranges for " +
                          std::to_string(k) + " parameters");
  std::set<std::string> seen;
  for (const auto& name : c.names) {
    if (name.empty()) throw InvalidArgument("chains: empty parameter name");
    if (!seen.insert(name).second) throw InvalidArgument("chains: parameter " + name + " twice");
  }
  for (std::size_t i = 0; i < c.values.size(); ++i)
    if (!std::isfinite(c.values[i]))
      throw InvalidArgument("chains: draw " + std::to_string(i / k % c.draws) + " of chain " +
                            std::to_string(i / k / c.draws) + " has a non-finite " +
                            c.names[i % k]);
}

Chains read_chains(const std::string& path) {
  for (const char* ext : {".nc", ".nc4", ".h5", ".hdf5"})
    if (ds::ends_with(path, ext)) return read_arviz_netcdf(path);
  if (ds::ends_with(path, ".csv")) return read_chains_csv(path);
  return read_getdist(path);
}

namespace detail {

std::string chain_format_number(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

bool chain_parse_number(std::string_view token, double& value) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  if (token.empty()) return false;
  const auto result = std::from_chars(token.data(), token.data() + token.size(), value);
  return result.ec == std::errc() && result.ptr == token.data() + token.size();
}

std::vector<std::string_view> chain_split_whitespace(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> chain_split(std::string_view line, char separator) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(separator, start);
    out.push_back(chain_trim(line.substr(start, end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string_view chain_trim(std::string_view line) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    line.remove_suffix(1);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
    line.remove_prefix(1);
  return line;
}

}  // namespace detail

}  // namespace ds

namespace ds::detail {

int chain_stat_index(const std::string& name) {
  for (std::size_t i = 0; i < kChainStats.size(); ++i)
    if (name == kChainStats[i].name) return int(i);
  return -1;
}

namespace {
template <class T>
std::vector<double> as_doubles(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}
}  // namespace

std::vector<double> chain_stat_values(const Chains& c, std::size_t i) {
  switch (i) {
    case 0:
      return c.lp;
    case 1:
      return c.acceptance_rate;
    case 2:
      return c.step_size;
    case 3:
      return as_doubles(c.n_steps);
    case 4:
      return as_doubles(c.tree_depth);
    case 5:
      return as_doubles(c.diverging);
    case 6:
      return c.energy;
    default:
      return c.energy_error;
  }
}

void chain_set_stat(Chains& c, std::size_t i, const std::vector<double>& v) {
  auto integers = [&](std::vector<std::int32_t>& out) {
    out.clear();
    for (double x : v) out.push_back(std::isfinite(x) ? std::int32_t(std::lround(x)) : 0);
  };
  switch (i) {
    case 0:
      c.lp = v;
      break;
    case 1:
      c.acceptance_rate = v;
      break;
    case 2:
      c.step_size = v;
      break;
    case 3:
      integers(c.n_steps);
      break;
    case 4:
      integers(c.tree_depth);
      break;
    case 5:
      c.diverging.clear();
      for (double x : v) c.diverging.push_back(x != 0 ? 1 : 0);
      break;
    case 6:
      c.energy = v;
      break;
    default:
      c.energy_error = v;
      break;
  }
}

}  // namespace ds::detail
