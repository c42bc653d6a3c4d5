// diffuscope-hdf5-check FILE: reads every part of an HDF5 file that Diffuscope's loaders could
// touch, in a process of its own, so that a file which crashes, hangs or exhausts libhdf5 costs
// this process and not the application (core/src/data/hdf5_check.cpp starts it before any HDF5
// file is opened for reading; README "Untrusted files").
//
// It opens the file, visits every object (object header, every attribute with its value, for a
// dataset its chunk index and its data: all of it up to 256 MiB per dataset, the first and last
// 32 MiB of larger ones), with libhdf5's own code paths. Before each part it writes one line
// naming it to stdout ("object /fields", "attribute /fields format", "data /fields"), so that
// the caller can say where a crash or a hang happened. Last line and exit status:
//   ok                    0  libhdf5 read everything it was asked to (errors it reported cleanly,
//                            such as an unknown compression filter, are not findings: the loader
//                            in the application gets the same error and names it)
//   not-hdf5              2  no HDF5 superblock
//   memory STEP           3  libhdf5 asked for more memory than the limit (4 GiB of address
//                            space) reading STEP: a size in the file claims it
//   cannot-open           4  a superblock, but libhdf5 cannot open the file
//   usage                 5  wrong arguments
//   corrupt WHAT          6  libhdf5 cannot list WHAT (an object's attributes, the object tree):
//                            a corrupt file, which loaders could still reach by another path
// A crash ends it by a signal; it stops itself after DIFFUSCOPE_HDF5_CHECK_TIMEOUT + 5 seconds
// (SIGALRM) and when its parent dies, so a hang never outlives the caller.
//
// Only the HDF5 C library and the C++ standard library: no LibTorch, so it starts in
// milliseconds.
#include <hdf5.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)  // gcc
#define DS_CHECK_ASAN 1
#elif defined(__has_feature)  // clang
#if __has_feature(address_sanitizer)
#define DS_CHECK_ASAN 1
#endif
#endif

#if defined(DS_CHECK_ASAN)
// Under AddressSanitizer an address-space limit cannot be set (its shadow memory is terabytes of
// reserved address space): cap single allocations at 3 GiB instead (what fits in the 4 GiB of
// address space beside the libraries), and let them fail as malloc would.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=3072:detect_leaks=0";
}
#endif

namespace {

constexpr std::uint64_t kMemoryLimit = std::uint64_t(4) << 30;     // address space of this check
constexpr std::uint64_t kWholeDataset = std::uint64_t(256) << 20;  // read whole up to this
constexpr std::uint64_t kDatasetEnds = std::uint64_t(32) << 20;    // else this much of each end
constexpr hsize_t kMaxChunksListed = hsize_t(1) << 20;

enum Exit { kOk = 0, kNotHdf5 = 2, kMemory = 3, kCannotOpen = 4, kUsage = 5, kCorrupt = 6 };

bool g_out_of_memory = false;
std::string g_corrupt;  // the first structure libhdf5 could not list (a corrupt file)
std::string g_step;         // what is being read now
std::string g_memory_step;  // where an allocation first failed

void out_of_memory() {
  if (!g_out_of_memory) g_memory_step = g_step;
  g_out_of_memory = true;
}

void say(const std::string& line) {
  g_step = line;
  std::string text = line + "\n";
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= std::size_t(n);
  }
}

// Looks through libhdf5's error stack for an allocation that failed (a size the file claims).
herr_t find_allocation_failure(unsigned, const H5E_error2_t* error, void*) {
  if (error->min_num == H5E_CANTALLOC || error->min_num == H5E_NOSPACE) out_of_memory();
  return 0;
}

// After a libhdf5 call failed: record an allocation failure, forget the rest.
void after_failure() {
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_allocation_failure, nullptr);
  H5Eclear2(H5E_DEFAULT);
}

struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {
    if (id < 0) after_failure();
  }
  ~Id() {
    if (id >= 0) close(id);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  bool ok() const { return id >= 0; }
};

// Reads `count` elements of `file_type` selected by `memory_space` / `file_space` (H5S_ALL for
// everything) from an attribute (is_attribute) or a dataset, in the type's native memory form, and
// gives back variable-length memory. Allocation failures are recorded.
void read_values(hid_t object, bool is_attribute, hid_t file_type, hsize_t count,
                 hid_t memory_space, hid_t file_space) {
  Id memory_type(H5Tget_native_type(file_type, H5T_DIR_DEFAULT), H5Tclose);
  if (!memory_type.ok() || count == 0) return;
  const std::size_t item = H5Tget_size(memory_type.id);
  if (item == 0) return;
  if (count > kMemoryLimit / item) {
    out_of_memory();
    return;
  }
  std::vector<unsigned char> buffer;
  try {
    buffer.resize(std::size_t(count) * item);
  } catch (const std::bad_alloc&) {
    out_of_memory();
    return;
  }
  const herr_t status = is_attribute ? H5Aread(object, memory_type.id, buffer.data())
                                     : H5Dread(object, memory_type.id, memory_space, file_space,
                                               H5P_DEFAULT, buffer.data());
  if (status < 0) {
    after_failure();
    return;
  }
  const bool variable =
      H5Tdetect_class(memory_type.id, H5T_VLEN) > 0 || H5Tis_variable_str(memory_type.id) > 0;
  if (variable) {
    hsize_t dims[1] = {count};
    Id space(memory_space == H5S_ALL ? H5Screate_simple(1, dims, nullptr) : H5Scopy(memory_space),
             H5Sclose);
    if (space.ok()) H5Dvlen_reclaim(memory_type.id, space.id, H5P_DEFAULT, buffer.data());
  }
}

herr_t visit_attribute(hid_t location, const char* name, const H5A_info_t*, void* object_name) {
  say("attribute " + *static_cast<const std::string*>(object_name) + " " + name);
  Id attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
  if (!attribute.ok()) return 0;
  Id type(H5Aget_type(attribute.id), H5Tclose);
  Id space(H5Aget_space(attribute.id), H5Sclose);
  if (!type.ok() || !space.ok()) return 0;
  const hssize_t count = H5Sget_simple_extent_npoints(space.id);
  if (count < 0) {
    after_failure();
    return 0;
  }
  read_values(attribute.id, true, type.id, hsize_t(count), H5S_ALL, H5S_ALL);
  return 0;
}

// The rows [first, first + rows) along the first axis of a dataset of shape `dims`.
void read_rows(hid_t set, hid_t type, const std::vector<hsize_t>& dims, hsize_t first,
               hsize_t rows) {
  Id file_space(H5Dget_space(set), H5Sclose);
  if (!file_space.ok()) return;
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = first;
  count[0] = rows;
  if (H5Sselect_hyperslab(file_space.id, H5S_SELECT_SET, start.data(), nullptr, count.data(),
                          nullptr) < 0) {
    after_failure();
    return;
  }
  Id memory_space(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose);
  if (!memory_space.ok()) return;
  hsize_t total = 1;
  for (hsize_t c : count) total *= c;
  read_values(set, false, type, total, memory_space.id, file_space.id);
}

void visit_dataset(hid_t set, const std::string& name) {
  Id type(H5Dget_type(set), H5Tclose);
  Id space(H5Dget_space(set), H5Sclose);
  if (!type.ok() || !space.ok()) return;
  const int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank < 0) {
    after_failure();
    return;
  }
  std::vector<hsize_t> dims(std::size_t(rank), 0);
  if (rank > 0 && H5Sget_simple_extent_dims(space.id, dims.data(), nullptr) < 0) {
    after_failure();
    return;
  }
  // The chunk index: every chunk's address and size (libhdf5 reads its B-tree).
  Id create(H5Dget_create_plist(set), H5Pclose);
  if (create.ok() && H5Pget_layout(create.id) == H5D_CHUNKED) {
    say("chunks " + name);
    hsize_t chunks = 0;
    if (H5Dget_num_chunks(set, H5S_ALL, &chunks) < 0) {
      after_failure();
    } else {
      std::vector<hsize_t> offset(std::max(1, rank), 0);
      for (hsize_t i = 0; i < std::min(chunks, kMaxChunksListed); ++i) {
        unsigned filter_mask = 0;
        haddr_t address = 0;
        hsize_t size = 0;
        if (H5Dget_chunk_info(set, H5S_ALL, i, offset.data(), &filter_mask, &address, &size) < 0) {
          after_failure();
          break;
        }
      }
    }
  }
  if (g_out_of_memory) return;
  say("data " + name);
  const hssize_t points = H5Sget_simple_extent_npoints(space.id);
  const std::size_t item = H5Tget_size(type.id);
  if (points <= 0 || item == 0) return;
  const double bytes = double(points) * double(item);
  if (bytes <= double(kWholeDataset) || rank == 0) {
    read_values(set, false, type.id, hsize_t(points), H5S_ALL, H5S_ALL);
    return;
  }
  // A large dataset: as many whole rows (first axis) as fit in kDatasetEnds at each end.
  const double row_bytes = bytes / double(dims[0]);
  const hsize_t rows = std::max<hsize_t>(1, hsize_t(double(kDatasetEnds) / row_bytes));
  if (row_bytes > double(kWholeDataset)) {
    out_of_memory();  // one row of more than 256 MiB: no loader reads such a thing
    return;
  }
  const hsize_t head = std::min(rows, dims[0]);
  read_rows(set, type.id, dims, 0, head);
  const hsize_t tail = std::min(rows, dims[0] - head);
  if (tail > 0 && !g_out_of_memory) read_rows(set, type.id, dims, dims[0] - tail, tail);
}

#if H5_VERSION_GE(1, 12, 0)
herr_t visit_object(hid_t root, const char* name, const H5O_info2_t* info, void*) {
#else
herr_t visit_object(hid_t root, const char* name, const H5O_info_t* info, void*) {
#endif
  const std::string path = std::strcmp(name, ".") == 0 ? "/" : "/" + std::string(name);
  say("object " + path);
  Id object(H5Oopen(root, name, H5P_DEFAULT), H5Oclose);
  if (!object.ok()) return g_out_of_memory ? -1 : 0;
  // Every attribute message of the object header, decoded and read.
  // A healthy header lists its attributes; one that cannot would still let a loader open an
  // attribute by name through another path (a fuzzed grid file whose root's attribute index
  // failed to list made H5Aread of its `format` attribute loop in H5HG_read), so the file is
  // refused.
  if (H5Aiterate2(object.id, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, visit_attribute,
                  const_cast<std::string*>(&path)) < 0) {
    after_failure();
    if (g_corrupt.empty()) g_corrupt = "the attributes of " + path;
  }
  if (info->type == H5O_TYPE_DATASET) visit_dataset(object.id, path);
  return g_out_of_memory ? -1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: diffuscope-hdf5-check FILE\n");
    return kUsage;
  }
  // Never outlive the caller, never run past its time limit.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return kUsage;
  int timeout = 20;
  if (const char* t = std::getenv("DIFFUSCOPE_HDF5_CHECK_TIMEOUT")) timeout = std::atoi(t);
  alarm(unsigned(std::max(1, timeout) + 5));
#if !defined(DS_CHECK_ASAN)
  const rlimit limit{kMemoryLimit, kMemoryLimit};
  setrlimit(RLIMIT_AS, &limit);
#endif
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);

  const char* path = argv[1];
  say("superblock");
  const htri_t is_hdf5 = H5Fis_hdf5(path);
  if (is_hdf5 <= 0) {
    say("not-hdf5");
    return kNotHdf5;
  }
  say("open");
  const hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    after_failure();
    if (g_out_of_memory) {
      say("memory " + g_memory_step);
      return kMemory;
    }
    say("cannot-open");
    return kCannotOpen;
  }
#if H5_VERSION_GE(1, 12, 0)
  const herr_t visited =
      H5Ovisit3(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, nullptr, H5O_INFO_BASIC);
#else
  const herr_t visited =
      H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, nullptr, H5O_INFO_BASIC);
#endif
  if (visited < 0) {
    after_failure();
    if (g_corrupt.empty() && !g_out_of_memory) g_corrupt = "its object tree";
  }
  say("close");
  if (H5Fclose(file) < 0) after_failure();
  if (g_out_of_memory) {
    say("memory " + g_memory_step);
    return kMemory;
  }
  if (!g_corrupt.empty()) {
    say("corrupt " + g_corrupt);
    return kCorrupt;
  }
  say("ok");
  return kOk;
}
