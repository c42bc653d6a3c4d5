// ChainProgressWriter: kept draws appended to a CSV chain file as the samplers make them.
#include "diffuscope/infer/chains/chain_progress.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "diffuscope/error.h"
#include "infer/chains/chain_csv_layout.h"
#include "infer/chains/chain_stats.h"

namespace ds {

ChainProgressWriter::ChainProgressWriter(std::string path, std::vector<std::string> names,
                                         std::size_t chains, std::string sampler,
                                         std::uint64_t seed)
    : path_(std::move(path)), names_(std::move(names)), chains_(chains) {
  detail::check_chain_csv_names(names_);
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_)
    throw FileError(path_,
                    std::string("cannot create chain file in progress: ") + std::strerror(errno));
  buffer_ =
      std::string(detail::kChainProgressMarker) + " (sampler " + sampler + ", seed " +
      std::to_string(seed) + ", " + std::to_string(chains) +
      " chains): kept draws are appended as they are made; a crash leaves the draws made so far\n";
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() ||
      std::fflush(file_) != 0) {
    const int error = errno;
    remove();
    throw FileError(path_, std::string("cannot write: ") + std::strerror(error));
  }
  last_sync_ = std::chrono::steady_clock::now();
}

ChainProgressWriter::~ChainProgressWriter() {
  remove();
}

void ChainProgressWriter::fail(const std::string& what) {
  throw FileError(path_, what + ": " + std::strerror(errno) + " (disk full?)");
}

void ChainProgressWriter::append(const McmcIteration& iteration) {
  if (iteration.warmup) return;
  if (!file_) throw FileError(path_, "chain file in progress was already removed");
  buffer_.clear();
  if (!header_written_) {
    std::vector<std::size_t> all_stats(detail::kChainStats.size());
    for (std::size_t s = 0; s < all_stats.size(); ++s) all_stats[s] = s;
    buffer_ = detail::chain_csv_header(names_, all_stats);
    first_kept_iteration_ = iteration.iteration;
    header_written_ = true;
  }
  const std::size_t draw = iteration.iteration - first_kept_iteration_;
  if (iteration.chains.size() != chains_)
    throw InvalidArgument("chain progress: an iteration of " +
                          std::to_string(iteration.chains.size()) + " chains, expected " +
                          std::to_string(chains_));
  for (std::size_t c = 0; c < iteration.chains.size(); ++c) {
    const Transition& t = iteration.chains[c];
    if (t.position.size() != names_.size())
      throw InvalidArgument("chain progress: chain " + std::to_string(c) + " has " +
                            std::to_string(t.position.size()) + " coordinates, expected " +
                            std::to_string(names_.size()));
    // kChainStats order.
    stats_ = {t.lp,
              t.acceptance_rate,
              t.step_size,
              double(t.n_steps),
              double(t.tree_depth),
              t.diverging ? 1.0 : 0.0,
              t.energy,
              t.energy_error};
    detail::append_chain_csv_row(buffer_, c, draw, t.position.data(), t.position.size(),
                                 stats_.data(), stats_.size());
  }
  // One write per iteration, flushed at once: a killed process leaves whole iterations (the
  // reader drops a torn one all the same).
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
    fail("cannot append draws");
  if (std::fflush(file_) != 0) fail("cannot flush draws");
  ++draws_;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_sync_).count() >= kSyncSeconds) {
    if (::fsync(::fileno(file_)) != 0 && errno != EINVAL) fail("cannot sync draws to disk");
    last_sync_ = now;
  }
}

McmcIterationCallback ChainProgressWriter::callback() {
  return [this](const McmcIteration& iteration) { append(iteration); };
}

void ChainProgressWriter::remove() noexcept {
  if (removed_) return;
  removed_ = true;
  if (file_) std::fclose(file_);
  file_ = nullptr;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace ds
