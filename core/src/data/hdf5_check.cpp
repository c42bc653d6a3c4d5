#include "data/hdf5_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

#include "diffuscope/error.h"
#include "diffuscope/jobs/job.h"

extern char** environ;

namespace ds::detail {

namespace {

namespace fs = std::filesystem;

constexpr const char* kProgram = "diffuscope-hdf5-check";

// The same file as long as it is not replaced or changed.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t modified_ns = 0;
  bool operator<(const FileIdentity& o) const {
    return std::tie(device, inode, size, modified_ns) <
           std::tie(o.device, o.inode, o.size, o.modified_ns);
  }
};

bool identity_of(const std::string& path, FileIdentity& id) {
  struct stat s {};
  if (::stat(path.c_str(), &s) != 0) return false;
  id.device = s.st_dev;
  id.inode = s.st_ino;
  id.size = s.st_size;
  id.modified_ns = std::int64_t(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec;
  return true;
}

std::mutex& trusted_mutex() {
  static std::mutex m;
  return m;
}
std::set<FileIdentity>& trusted() {
  static std::set<FileIdentity> files;
  return files;
}
// Files the check refused, with the reason: refused again at once (a hanging file costs its
// time limit once).
std::map<FileIdentity, std::string>& refused() {
  static std::map<FileIdentity, std::string> files;
  return files;
}
std::atomic<std::size_t> g_processes{0};

bool isolation_off() {
  const char* v = std::getenv("DIFFUSCOPE_HDF5_ISOLATION");
  return v != nullptr && (std::strcmp(v, "off") == 0 || std::strcmp(v, "0") == 0);
}

int timeout_seconds() {
  if (const char* t = std::getenv("DIFFUSCOPE_HDF5_CHECK_TIMEOUT")) {
    const int v = std::atoi(t);
    if (v > 0) return v;
  }
  return 20;
}

std::string find_program(std::string& searched) {
  std::vector<fs::path> places;
  std::error_code error;
  const char* chosen = std::getenv("DIFFUSCOPE_HDF5_CHECK");
  if (chosen != nullptr && *chosen != '\0') {
    places.emplace_back(chosen);  // the user's choice, and only it
  } else if (const fs::path exe = fs::read_symlink("/proc/self/exe", error); !error) {
    places.push_back(exe.parent_path() / kProgram);
    places.push_back(exe.parent_path().parent_path() / "libexec/diffuscope" / kProgram);
  }
#ifdef DS_HDF5_CHECK_BUILD_PATH
  if (chosen == nullptr || *chosen == '\0') places.emplace_back(DS_HDF5_CHECK_BUILD_PATH);
#endif
  for (const fs::path& p : places) {
    searched += (searched.empty() ? "" : ", ") + p.string();
    if (fs::is_regular_file(p, error) && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

std::string last_line(const std::string& output) {
  std::size_t end = output.size();
  while (end > 0 && output[end - 1] == '\n') --end;
  const std::size_t start = output.rfind('\n', end == 0 ? 0 : end - 1);
  return output.substr(start == std::string::npos ? 0 : start + 1,
                       end - (start == std::string::npos ? 0 : start + 1));
}

// "object /fields" -> "object /fields"; the opening steps read as what libhdf5 was doing.
std::string where(const std::string& step) {
  if (step == "superblock") return "its superblock";
  if (step == "open") return "its root group and metadata";
  if (step == "close") return "its metadata when closing";
  if (step.empty()) return "its first bytes";
  return step;
}

struct Outcome {
  bool timed_out = false;
  int status = 0;      // waitpid status
  std::string output;  // the check's stdout (its steps), bounded
};

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  bool ok() const { return fds_[0] >= 0; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    fds_[0] = -1;
  }
  void close_write() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

Outcome run_check(const std::string& program, const std::string& path) {
  Pipe out;
  if (!out.ok())
    throw FileError(path, "cannot check it: no pipe for the HDF5 check process (" +
                              std::string(std::strerror(errno)) + ")");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write_end(), STDOUT_FILENO);
  // What a crash prints (a sanitizer's report in a sanitized build) is not this process's output.
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group: a Ctrl-C meant for this process does not read as a crash of the check.
  // Default signal dispositions and an empty mask, whatever the caller's threads had.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = {const_cast<char*>(program.c_str()), const_cast<char*>(path.c_str()),
                             nullptr};
  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0)
    throw FileError(
        path, "cannot check it: cannot start " + program + " (" + std::strerror(spawned) + ")");
  ++g_processes;
  out.close_write();

  Outcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds());
  const JobContext job;  // sees the calling job's cancellation and the CLI's interrupt
  bool cancelled = false;
  char buffer[4096];
  for (;;) {
    if (job.cancelled()) {
      cancelled = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      outcome.timed_out = true;
      break;
    }
    pollfd p{out.read_end(), POLLIN, 0};
    const int ready = ::poll(&p, 1, int(std::min<long long>(left, 100)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::read(out.read_end(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the check closed its output: it has ended
    outcome.output.append(buffer, std::size_t(n));
    // Keep the tail: only the last step is named.
    if (outcome.output.size() > 65536) outcome.output.erase(0, outcome.output.size() - 4096);
  }
  if (cancelled || outcome.timed_out) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &outcome.status, 0) < 0 && errno == EINTR) {
  }
  if (cancelled) throw Cancelled();
  return outcome;
}

void run_and_judge(const std::string& program, const std::string& path);

}  // namespace

void check_hdf5_file(const std::string& path) {
  if (isolation_off()) return;
  FileIdentity before;
  if (!identity_of(path, before)) return;  // the caller names a missing file itself
  {
    const std::lock_guard<std::mutex> lock(trusted_mutex());
    if (trusted().count(before) != 0) return;
    if (const auto it = refused().find(before); it != refused().end())
      throw FileError(path, it->second);
  }
  std::string searched;
  const std::string program = find_program(searched);
  if (program.empty())
    throw FileError(path, std::string("cannot check it: the HDF5 check program ") + kProgram +
                              " is missing (looked in " + searched +
                              "); reinstall Diffuscope, or set DIFFUSCOPE_HDF5_ISOLATION=off to "
                              "let libhdf5 read untrusted files in this process");
  try {
    run_and_judge(program, path);
  } catch (const FileError& e) {
    FileIdentity after;
    if (identity_of(path, after) && !(before < after) && !(after < before)) {
      const std::lock_guard<std::mutex> lock(trusted_mutex());
      refused()[after] = e.reason();
    }
    throw;
  }
  FileIdentity after;
  if (identity_of(path, after) && !(before < after) && !(after < before)) {
    const std::lock_guard<std::mutex> lock(trusted_mutex());
    trusted().insert(after);
  }
}

namespace {

// Runs the check of `path` and throws the FileError its outcome calls for.
void run_and_judge(const std::string& program, const std::string& path) {
  const Outcome outcome = run_check(program, path);
  const std::string step = last_line(outcome.output);
  const std::string limit = std::to_string(timeout_seconds());
  if (outcome.timed_out)
    throw FileError(path, "refused: libhdf5 did not finish reading " + where(step) + " within " +
                              limit +
                              " s in a separate check process (libhdf5 1.10 loops "
                              "forever on some corrupt or crafted files)");
  if (WIFSIGNALED(outcome.status)) {
    const int signal = WTERMSIG(outcome.status);
    const char* name = sigabbrev_np(signal);
    throw FileError(path, "refused: libhdf5 crashed (SIG" + std::string(name ? name : "?") +
                              ") reading " + where(step) +
                              " in a separate check process (a corrupt or crafted file)");
  }
  const int code = WIFEXITED(outcome.status) ? WEXITSTATUS(outcome.status) : -1;
  switch (code) {
    case 0:
      break;
    case 2:
      throw FileError(path, "not an HDF5 file (or corrupt)");
    case 3:  // last line "memory STEP"
      throw FileError(path, "refused: reading " + where(step.size() > 7 ? step.substr(7) : "") +
                                " makes libhdf5 ask for more than 4 GiB of memory (a size in "
                                "the file claims it: a corrupt or crafted file)");
    case 4:
      throw FileError(path, "cannot open HDF5 file (corrupt or truncated?)");
    case 6:  // last line "corrupt WHAT"
      throw FileError(path, "refused: libhdf5 cannot list " +
                                (step.size() > 8 ? step.substr(8) : std::string("its structure")) +
                                " (a corrupt or crafted file)");
    default:
      throw FileError(path, "refused: the HDF5 check process ended with status " +
                                std::to_string(code) + " reading " + where(step) +
                                " (a corrupt or crafted file)");
  }
}

}  // namespace

void trust_hdf5_file(const std::string& path) {
  FileIdentity id;
  if (!identity_of(path, id)) return;
  const std::lock_guard<std::mutex> lock(trusted_mutex());
  trusted().insert(id);
}

std::size_t hdf5_check_processes() {
  return g_processes.load();
}

}  // namespace ds::detail
