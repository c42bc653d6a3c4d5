// Child processes for tests that run diffuscope-cli (DS_CLI_PATH) as real processes: started
// with an environment, waited for with a deadline, killed. Used by the data-parallel and the
// crash-safety tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace dstest {

// The environment of this process without any launcher variables (ctest may itself run under
// SLURM), plus `extra`.
inline std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  static const char* kLauncher[] = {"RANK",         "WORLD_SIZE",    "LOCAL_RANK",
                                    "MASTER_ADDR",  "MASTER_PORT",   "SLURM_PROCID",
                                    "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_JOB_NODELIST"};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool launcher = false;
    for (const char* name : kLauncher)
      launcher = launcher || entry.rfind(std::string(name) + "=", 0) == 0;
    if (!launcher) env.push_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

struct Child {
  pid_t pid = -1;
  std::string err;  // its stderr file
};

// Starts the CLI with `args`, stdout and stderr to files beside `err_path`.
inline Child spawn(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, const std::string& err_path) {
  std::vector<std::string> argv_strings{DS_CLI_PATH};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  const auto env_strings = child_environment(env);
  std::vector<char*> argv, envp;
  for (const auto& a : argv_strings) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const std::string out_path = err_path + ".out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen(out_path.c_str(), "w", stdout) ||
        !std::freopen(err_path.c_str(), "w", stderr))
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return {pid, err_path};
}

// Waits at most `seconds` for the child; its exit code, or -1 (and it is killed) on timeout.
inline int wait_for(Child& child, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(child.pid, &status, WNOHANG);
    if (done == child.pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child.pid, SIGKILL);
      ::waitpid(child.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace dstest
