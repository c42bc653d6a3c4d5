// Versions of Diffuscope and its libraries, device selection and thread count.
#pragma once

#include <string>

#include "diffuscope/registries.h"

namespace ds {

struct LibraryVersions {
  std::string diffuscope;
  std::string libtorch;
  std::string hdf5;
  std::string fftw;
  bool cuda_available = false;
  int cuda_device_count = 0;
};

LibraryVersions library_versions();

// Multi-line report for `--version` and the About dialog.
std::string version_report();

// Throws Unavailable with a hint when the device cannot be used in this build / on this machine.
void require_device(Device device);

// Number of hardware threads (at least 1).
int hardware_thread_count();

// Sets the intra-op thread count of LibTorch (and of our own parallel loops). n <= 0 means
// hardware_thread_count(). OMP_NUM_THREADS, when set, is the default instead.
void set_thread_count(int n);
int thread_count();

// The arithmetic of the 2D score networks' forward passes (sampling and the truncated VLB, CPU or
// CUDA), process-wide: Fp32 (the default) or Bf16 (LibTorch's autocast to bfloat16 for the
// convolutions and matrix products, float32 elsewhere). Bf16 is an option, never the default: on
// the CPU it is 10-20% faster and moves log-likelihood differences by up to a few nats (README,
// "Reduced precision"). Point-cloud networks always run in float32.
enum class Precision { Fp32, Bf16 };
void set_network_precision(Precision precision);
Precision network_precision();
const char* precision_name(Precision precision);     // "fp32" | "bf16"
Precision parse_precision(const std::string& text);  // InvalidArgument naming other text

// The threads that parallel work started BY THE CALLING THREAD uses (its OpenMP team; other threads
// keep theirs); n <= 0: thread_count(). A program whose worker threads each run OpenMP teams should
// give all cores to one of them and one thread to the others: libgomp counts every team thread of
// every thread in the process, and once they outnumber the cores it cuts its spin-wait to ~100
// iterations in EVERY team, whose threads then sleep and wake at each of the network's many small
// parallel regions (measured: the GUI's default ensemble 3.3 s on a worker beside the other
// workers' teams, 2.1 s with one team in the process). ui/jobs/job_runner.h does that.
void set_calling_thread_count(int n);

// How the C library's allocator keeps freed memory (issue 15). LibTorch frees and reallocates
// tensors of megabytes on every network call; with glibc's defaults each such block is mmap'd,
// unmapped on free and faulted in again page by page on the next call (measured: 40-75% of a
// VLB evaluation's time in the kernel on these machines). The policy keeps freed memory in the
// process instead: no per-allocation mmap (M_MMAP_MAX 0), one shared arena (M_ARENA_MAX 1, so
// that worker threads of the GUI and OpenMP reuse the same heap rather than mapping per-thread
// heaps), the heap never trimmed below 1 GiB of free top (M_TRIM_THRESHOLD) and grown in steps of
// 64 MiB (M_TOP_PAD). The price: the process's resident size stays at its peak.
//
// Applied once, at start-up, by both executables and the tests. Left alone (glibc's defaults, or
// what the user's environment asks for) when DIFFUSCOPE_MALLOC=system or any of glibc's own
// MALLOC_*_ variables / GLIBC_TUNABLES is set. Returns what was done, one line (bench JSON).
std::string configure_memory_allocator();
// The line configure_memory_allocator returned ("not configured" before it ran).
std::string memory_allocator_report();

// How OpenMP's threads wait at the end of a parallel region. LibTorch's parallel loops (libgomp)
// spin-wait 300 000 times by default before they sleep. With a core busy elsewhere (a browser, a
// build) the spinning thread keeps its own core while its partner shares the busy one, and the
// region waits for the partner: measured on 2 cores with `yes` beside a nice-10 `vlb-grid` (the
// GUI's worker priority), 146 s instead of 3.2 s. Spinning 10 000 times before sleeping gives
// 10.5 s under the same load and the same 3.2 s on a quiet machine (OMP_WAIT_POLICY=PASSIVE:
// 5.7 s and 4.6 s).
//
// Sets GOMP_SPINCOUNT=10000 unless the environment sets GOMP_SPINCOUNT or OMP_WAIT_POLICY, and
// returns true when it did. libgomp reads its environment once, when it is loaded (before main),
// so a process that wants the setting must start again: the GUI re-executes itself when this
// returns true (app/gui/main.cpp; about half a second once); the CLI, whose threads run at
// normal priority, does not. Test binaries get it from CTest's environment.
bool configure_openmp_environment();
// "GOMP_SPINCOUNT=10000", "left to the environment (...)" or "not configured".
std::string openmp_environment_report();

// A model shipped with Diffuscope (assets/models/NAME: "zeldovich64.h5", "halos1000.h5"), found
// wherever the program runs: $DIFFUSCOPE_MODELS/NAME, the installed package
// (<prefix>/share/diffuscope/models/NAME next to the executable's bin/), the source tree this
// build came from, then ./assets/models/NAME. Returns the path, or "" when none exists;
// `searched` (when given) receives the places looked at, for an error message.
std::string find_shipped_model(const std::string& name, std::string* searched = nullptr);

// CPU time of this process so far, seconds: user and system (getrusage).
struct ProcessTimes {
  double user = 0.0, system = 0.0;
};
ProcessTimes process_times();

}  // namespace ds
