// The CSV chain file's lines (`chain,draw,<parameters>,<sample statistics>`), shared by
// write_chains_csv, which writes whole chains at the end, and ChainProgressWriter, which appends
// the draws as they are made (private to core/infer).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ds::detail {

// The first line of a progress file (chain_progress.h) starts with this; read_chains_csv then
// tolerates a torn end (chain_files.h).
inline constexpr std::string_view kChainProgressMarker = "# diffuscope chains in progress";

// Throws InvalidArgument unless every name can be a CSV parameter column (no comma, quote or line
// break; not chain, draw or a sample-statistic name).
void check_chain_csv_names(const std::vector<std::string>& names);

// `chain,draw,<names>,<stat names>` and a newline; `stats` are indices into kChainStats.
std::string chain_csv_header(const std::vector<std::string>& names,
                             const std::vector<std::size_t>& stats);

// Appends `chain,draw,<values>,<stats>` and a newline, numbers in shortest round-trip form
// (nan / inf / -inf when not finite).
void append_chain_csv_row(std::string& out, std::size_t chain, std::size_t draw,
                          const double* values, std::size_t parameters, const double* stats,
                          std::size_t stat_count);

}  // namespace ds::detail
