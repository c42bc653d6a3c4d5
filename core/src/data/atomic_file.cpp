#include "diffuscope/data/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "diffuscope/error.h"

namespace ds {

namespace {

namespace fs = std::filesystem;

// fsync of a file or directory by path (the data of a file another library wrote and closed;
// the entries of a directory). Directories that cannot be opened for syncing are skipped (some
// file systems refuse), a file that cannot be synced is an error.
void sync_path(const fs::path& path, bool directory, const std::string& target) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) {
    if (directory) return;
    throw FileError(
        target, std::string("cannot reopen the written file to sync it: ") + std::strerror(errno));
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0 && !directory)
    throw FileError(target, std::string("cannot flush the file to disk: ") + std::strerror(error));
}

// Removes ".NAME.tmp-PID" files of `target` whose writer process no longer exists (killed while
// writing). A temporary of a live process (another writer right now) is left alone.
void remove_stale_temporaries(const fs::path& directory, const fs::path& target) {
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(digits.c_str(), nullptr, 10);
    if (pid <= 0 || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

}  // namespace

void write_path_atomically(const std::string& path,
                           const std::function<void(const std::string&)>& write) {
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(directory))
    throw FileError(path, "directory " + directory.string() + " does not exist");
  if (fs::is_directory(target)) throw FileError(path, "is a directory");
  const fs::path temporary =
      directory / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  remove_stale_temporaries(directory, target);
  try {
    write(temporary.string());
    sync_path(temporary, false, path);
    std::error_code ec;
    fs::rename(temporary, target, ec);
    if (ec) throw FileError(path, "cannot move temporary file into place: " + ec.message());
    sync_path(directory, true, path);
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
