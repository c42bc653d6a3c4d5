// The one translation unit of the foundation that touches LibTorch: keep it narrow (no
// <torch/torch.h>), it only asks for versions, devices and threads.
#include "diffuscope/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fftw3.h>
#include <hdf5.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "diffuscope/error.h"

namespace ds {

LibraryVersions library_versions() {
  LibraryVersions v;
  v.diffuscope = DS_VERSION;
  v.libtorch = TORCH_VERSION;
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  v.hdf5 = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
  // fftw_version reads "fftw-3.3.10-sse2-avx"; keep the number.
  std::string fftw = fftw_version;
  if (fftw.rfind("fftw-", 0) == 0) fftw = fftw.substr(5);
  v.fftw = fftw.substr(0, fftw.find('-'));
  v.cuda_available = torch::cuda::is_available();
  v.cuda_device_count = v.cuda_available ? int(torch::cuda::device_count()) : 0;
  return v;
}

std::string version_report() {
  const LibraryVersions v = library_versions();
  std::ostringstream out;
  out << "Diffuscope " << v.diffuscope << "\n"
      << "LibTorch " << v.libtorch << "\n"
      << "HDF5 " << v.hdf5 << "\n"
      << "FFTW " << v.fftw << "\n"
      << "CUDA "
      << (v.cuda_available ? "available (" + std::to_string(v.cuda_device_count) + " device" +
                                 (v.cuda_device_count == 1 ? "" : "s") + ")"
                           : std::string("not available"));
  return out.str();
}

void require_device(Device device) {
  if (device == Device::Cuda && !torch::cuda::is_available())
    throw Unavailable(
        "CUDA was requested but is not available (this LibTorch has no CUDA support or no GPU is "
        "visible); use --device cpu, or build against a CUDA LibTorch via CMAKE_PREFIX_PATH");
}

int hardware_thread_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

namespace {
int g_threads = 0;
}

void set_thread_count(int n) {
  if (n <= 0) {
    n = hardware_thread_count();
    if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
      const int from_env = std::atoi(omp);
      if (from_env > 0) n = from_env;
    }
  }
  at::set_num_threads(n);
  g_threads = n;
}

void set_calling_thread_count(int n) {
  // LibTorch sets a thread's OpenMP team size from its global count the first time that thread
  // runs parallel work: do that first, then override it for this thread.
  (void)at::get_num_threads();
  // The OpenMP runtime LibTorch was built with (Debian's libgomp, or the renamed copy a PyTorch
  // LibTorch bundles), looked up among the libraries already loaded rather than linked: linking
  // another libgomp would set that runtime's thread count, not LibTorch's.
  using SetThreads = void (*)(int);
  static const auto omp_set_num_threads =
      reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (omp_set_num_threads != nullptr) omp_set_num_threads(n > 0 ? n : thread_count());
}

int thread_count() {
  return g_threads > 0 ? g_threads : at::get_num_threads();
}

namespace {
std::atomic<int> g_network_precision{int(Precision::Fp32)};
}  // namespace

void set_network_precision(Precision precision) {
  g_network_precision = int(precision);
}

Precision network_precision() {
  return Precision(g_network_precision.load());
}

const char* precision_name(Precision precision) {
  return precision == Precision::Bf16 ? "bf16" : "fp32";
}

Precision parse_precision(const std::string& text) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "bf16") return Precision::Bf16;
  throw InvalidArgument("precision '" + text + "': choose fp32 or bf16");
}

}  // namespace ds
