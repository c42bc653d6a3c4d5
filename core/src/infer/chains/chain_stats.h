// The sample statistics of ds::Chains by name, in ArviZ's sample_stats order, so that each chain
// file format lists them in one loop (private to core/infer).
#pragma once

#include <array>
#include <vector>

#include "diffuscope/infer/chains/chains.h"

namespace ds::detail {

enum class ChainStatKind { Real, Int32, Bool };

struct ChainStat {
  const char* name;
  ChainStatKind kind;
};

inline constexpr std::array<ChainStat, 8> kChainStats{{
    {"lp", ChainStatKind::Real},
    {"acceptance_rate", ChainStatKind::Real},
    {"step_size", ChainStatKind::Real},
    {"n_steps", ChainStatKind::Int32},
    {"tree_depth", ChainStatKind::Int32},
    {"diverging", ChainStatKind::Bool},
    {"energy", ChainStatKind::Real},
    {"energy_error", ChainStatKind::Real},
}};

// Index into kChainStats, or -1 when `name` is not a sample statistic.
int chain_stat_index(const std::string& name);

// Statistic i of `chains` as doubles ([chain, draw]; empty when absent).
std::vector<double> chain_stat_values(const Chains& chains, std::size_t i);

// Stores statistic i (integers rounded, booleans nonzero -> 1).
void chain_set_stat(Chains& chains, std::size_t i, const std::vector<double>& values);

}  // namespace ds::detail
