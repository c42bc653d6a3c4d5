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

}  // namespace ds
