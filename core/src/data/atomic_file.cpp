#include "diffuscope/data/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "diffuscope/error.h"

namespace ds {

void write_path_atomically(const std::string& path,
                           const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(directory))
    throw FileError(path, "directory " + directory.string() + " does not exist");
  if (fs::is_directory(target)) throw FileError(path, "is a directory");
  const fs::path temporary =
      directory / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  try {
    write(temporary.string());
    std::error_code ec;
    fs::rename(temporary, target, ec);
    if (ec) throw FileError(path, "cannot move temporary file into place: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           bool binary) {
  write_path_atomically(path, [&](const std::string& temporary) {
    std::ofstream out(temporary, binary ? std::ios::binary : std::ios::out);
    if (!out) throw FileError(path, std::string("cannot create file: ") + std::strerror(errno));
    write(out);
    out.flush();
    if (!out) throw FileError(path, "write failed (disk full?)");
  });
}

}  // namespace ds
