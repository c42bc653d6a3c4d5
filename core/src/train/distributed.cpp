#include "diffuscope/train/distributed.h"

#include <cerrno>
#include <cstdlib>

#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

namespace {

constexpr std::uint64_t kEpochStream = 0xD1FF'5C09'E000'1000ULL;

// A whole decimal integer in [lo, hi]; throws InvalidArgument naming the variable otherwise.
long parse_integer(const char* name, const std::string& text, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
    throw InvalidArgument(std::string("launcher environment: ") + name + "=\"" + text +
                          "\" is not an integer");
  if (value < lo || value > hi)
    throw InvalidArgument(std::string("launcher environment: ") + name + "=" + text +
                          " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return value;
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry: up to the first comma outside brackets.
  std::size_t end = 0;
  int depth = 0;
  for (; end < nodelist.size(); ++end) {
    if (nodelist[end] == '[') ++depth;
    if (nodelist[end] == ']') --depth;
    if (nodelist[end] == ',' && depth == 0) break;
  }
  const std::string entry = nodelist.substr(0, end);
  const auto open = entry.find('[');
  if (open == std::string::npos) {
    if (entry.empty()) throw InvalidArgument("SLURM node list \"" + nodelist + "\" is empty");
    return entry;
  }
  const auto close = entry.find(']', open);
  if (open == 0 || close == std::string::npos)
    throw InvalidArgument("SLURM node list \"" + nodelist + "\" is malformed");
  // The first number of the first range keeps its zero padding: node[007-009] -> node007.
  const std::string ranges = entry.substr(open + 1, close - open - 1);
  const std::string first = ranges.substr(0, ranges.find_first_of(",-"));
  if (first.empty() || first.find_first_not_of("0123456789") != std::string::npos)
    throw InvalidArgument("SLURM node list \"" + nodelist + "\" is malformed");
  return entry.substr(0, open) + first + entry.substr(close + 1);
}

LauncherEnvironment read_launcher_environment(const EnvironmentLookup& lookup) {
  auto get = [&](const char* name) -> std::string {
    const char* value = lookup ? lookup(name) : std::getenv(name);
    return value ? std::string(value) : std::string();
  };
  auto has = [&](const char* name) { return !get(name).empty(); };
  LauncherEnvironment env;
  const char* rank_name = nullptr;
  const char* size_name = nullptr;
  const char* local_name = nullptr;
  if (has("RANK") || has("WORLD_SIZE")) {
    env.launcher = "torchrun";
    rank_name = "RANK";
    size_name = "WORLD_SIZE";
    local_name = "LOCAL_RANK";
  } else if (has("SLURM_PROCID") && has("SLURM_NTASKS")) {
    env.launcher = "slurm";
    rank_name = "SLURM_PROCID";
    size_name = "SLURM_NTASKS";
    local_name = "SLURM_LOCALID";
  } else {
    return env;
  }
  for (const char* name : {rank_name, size_name})
    if (!has(name))
      throw InvalidArgument(std::string("launcher environment: ") +
                            (name == rank_name ? size_name : rank_name) + " is set but " + name +
                            " is not");
  constexpr long kMaxWorld = 1 << 20;
  env.world_size = int(parse_integer(size_name, get(size_name), 1, kMaxWorld));
  env.rank = int(parse_integer(rank_name, get(rank_name), 0, kMaxWorld));
  if (env.rank >= env.world_size)
    throw InvalidArgument(std::string("launcher environment: ") + rank_name + "=" +
                          std::to_string(env.rank) + " is not below " + size_name + "=" +
                          std::to_string(env.world_size));
  if (has(local_name))
    env.local_rank = int(parse_integer(local_name, get(local_name), 0, kMaxWorld));
  if (!env.distributed()) return env;

  env.master_addr = get("MASTER_ADDR");
  if (env.master_addr.empty() && env.launcher == "slurm") {
    const std::string nodes =
        has("SLURM_JOB_NODELIST") ? get("SLURM_JOB_NODELIST") : get("SLURM_NODELIST");
    if (nodes.empty())
      throw InvalidArgument(
          "launcher environment: MASTER_ADDR is not set and neither is SLURM_JOB_NODELIST to take "
          "rank 0's host from");
    env.master_addr = first_slurm_host(nodes);
  }
  if (env.master_addr.empty())
    throw InvalidArgument("launcher environment: " + std::string(size_name) + "=" +
                          std::to_string(env.world_size) +
                          " but MASTER_ADDR (the host of rank 0) is not set");
  if (has("MASTER_PORT")) {
    env.master_port = int(parse_integer("MASTER_PORT", get("MASTER_PORT"), 1, 65535));
  } else if (env.launcher == "slurm" && has("SLURM_JOB_ID")) {
    // Two jobs sharing a node get different ports.
    env.master_port =
        20000 + int(parse_integer("SLURM_JOB_ID", get("SLURM_JOB_ID"), 0, 1L << 62) % 20000);
  } else {
    throw InvalidArgument("launcher environment: " + std::string(size_name) + "=" +
                          std::to_string(env.world_size) +
                          " but MASTER_PORT (rank 0's rendezvous port) is not set");
  }
  return env;
}

EpochOrder::EpochOrder(std::size_t count, std::uint64_t seed) : count_(count), seed_(seed) {
  if (count == 0) throw InvalidArgument("epoch order: no training examples");
}

std::vector<std::size_t> EpochOrder::permutation(std::size_t count, std::uint64_t seed,
                                                 std::uint64_t epoch) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  Rng rng(seed, kEpochStream + epoch);
  for (std::size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

std::size_t EpochOrder::at(std::uint64_t position) {
  const std::uint64_t epoch = position / count_;
  if (epoch != epoch_) {
    order_ = permutation(count_, seed_, epoch);
    epoch_ = epoch;
  }
  return order_[std::size_t(position % count_)];
}

std::vector<std::size_t> EpochOrder::slice(std::uint64_t position, std::size_t length) {
  std::vector<std::size_t> rows(length);
  for (std::size_t i = 0; i < length; ++i) rows[i] = at(position + i);
  return rows;
}

}  // namespace ds
