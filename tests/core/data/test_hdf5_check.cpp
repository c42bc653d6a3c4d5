// Untrusted HDF5 files are read first by diffuscope-hdf5-check in a process of its own
// (core/src/data/hdf5_check.h): the libhdf5 1.10.8 crashes, hangs and absurd allocations that
// fuzzing found (tests/fuzz/regressions/hdf5_*.h5) become FileErrors, and this process goes on.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../test_helpers.h"
#include "data/hdf5_check.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "diffuscope/jobs/job.h"

namespace fs = std::filesystem;

namespace {

ds::Dataset tiny_dataset() {
  ds::Dataset d;
  d.kind = ds::SampleKind::Fields;
  d.shape = {2, 4, 4};
  for (int i = 0; i < 32; ++i) d.samples.push_back(0.5f * float(i));
  d.param_names = {"Omega_m", "sigma_8"};
  d.params = {0.3, 0.8, 0.2, 0.7};
  d.box_size = 25.0;
  d.source = "mock";
  d.generator = "grf";
  d.units = "density contrast";
  return d;
}

// The reason of the FileError that reading `path` as a dataset throws ("" and a failure if none).
std::string dataset_refusal(const std::string& path) {
  try {
    ds::read_dataset_hdf5(path);
  } catch (const ds::FileError& e) {
    EXPECT_EQ(e.path(), path);
    return e.reason();
  }
  ADD_FAILURE() << "no FileError for " << path;
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A copy under a new name: another file (inode) that this process has not written.
std::string foreign_copy(const std::string& from, const fs::path& dir, const std::string& name) {
  const fs::path to = dir / name;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  return to.string();
}

}  // namespace

// Both crashes are inside libhdf5 (a SEGV in H5VM_memcpyvv reading a chunk shorter than its
// header says; a SEGV in H5HG_read reading a variable-length string attribute). The check process
// dies, this one names the file and where, and reads the next file as usual.
TEST(Hdf5Check, AFileThatCrashesLibhdf5IsRefusedAndThisProcessGoesOn) {
  const std::string chunk = dstest::fuzz_regression("hdf5_chunk_read_segv.h5");
  const std::string chunk_reason = dataset_refusal(chunk);
  EXPECT_TRUE(contains(chunk_reason, "refused: libhdf5 crashed (SIG")) << chunk_reason;
  EXPECT_TRUE(contains(chunk_reason, "reading data /points in a separate check process"))
      << chunk_reason;

  const std::string heap = dstest::fuzz_regression("hdf5_global_heap_segv.h5");
  const std::string heap_reason = dataset_refusal(heap);
  EXPECT_TRUE(contains(heap_reason, "refused: libhdf5 crashed (SIG")) << heap_reason;
  EXPECT_TRUE(contains(heap_reason, "reading attribute /params names")) << heap_reason;

  const auto dir = dstest::scratch_dir("hdf5-check-crash");
  const std::string good = (dir / "good.h5").string();
  ds::write_dataset_hdf5(good, tiny_dataset());
  EXPECT_EQ(ds::read_dataset_hdf5(foreign_copy(good, dir, "copy.h5")).samples,
            tiny_dataset().samples);
}

// libhdf5 loops forever in H5HG_read on this file (a corrupt global heap behind the root's
// set_kind attribute). The check is killed at the time limit and the file refused.
TEST(Hdf5Check, AFileThatHangsLibhdf5IsRefusedAtTheTimeLimit) {
  const dstest::ScopedEnv limit("DIFFUSCOPE_HDF5_CHECK_TIMEOUT", "1");
  const std::string hang = dstest::fuzz_regression("hdf5_global_heap_hang.h5");
  const auto start = std::chrono::steady_clock::now();
  const std::string reason = dataset_refusal(hang);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(contains(reason,
                       "refused: libhdf5 did not finish reading attribute / set_kind "
                       "within 1 s in a separate check process"))
      << reason;
  RecordProperty("refused_after_seconds", std::to_string(seconds));
  std::printf("hang refused after %.2f s (limit 1 s)\n", seconds);
  // Refused again without a second check: the same reason, no new process.
  const std::size_t processes = ds::detail::hdf5_check_processes();
  EXPECT_EQ(dataset_refusal(hang), reason);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), processes);
}

// A 12 kB file whose root attribute `format` (a variable-length string) claims 11 GB: libhdf5
// allocates and fills that before it reads the heap (in process: 66 s and 22 GB, then an error).
// The check process runs under a 4 GiB limit, so the allocation fails there at once.
TEST(Hdf5Check, AnAbsurdAllocationIsRefusedInsteadOfMade) {
  const std::string attribute = dstest::fuzz_regression("hdf5_string_attribute_11gb.h5");
  std::string reason;
  try {
    ds::read_model_checkpoint(attribute);
    ADD_FAILURE() << "no FileError for " << attribute;
  } catch (const ds::FileError& e) {
    reason = e.reason();
  }
  EXPECT_TRUE(contains(reason,
                       "refused: reading attribute / format makes libhdf5 ask for more "
                       "than 4 GiB of memory"))
      << reason;
  EXPECT_EQ(ds::model_file_modality(attribute), "");  // never throws
}

// A grid file (fuzz_grid_scan, the first 10-minute run with the check) whose root cannot list
// its attributes, while opening its `format` attribute by name and reading it loops in libhdf5's
// global-heap reader: the check refuses a file whose attributes cannot be listed.
TEST(Hdf5Check, AHeaderThatCannotListItsAttributesIsRefused) {
  const std::string path = dstest::fuzz_regression("hdf5_unlisted_attribute_heap_hang.h5");
  std::string reason;
  try {
    ds::read_grid_scan(path);
    ADD_FAILURE() << "no FileError for " << path;
  } catch (const ds::FileError& e) {
    reason = e.reason();
  }
  EXPECT_TRUE(contains(reason, "refused: libhdf5 cannot list the attributes of / (a corrupt or "
                               "crafted file)"))
      << reason;
}

// Over-reads that do not crash a normal libhdf5 (seen by AddressSanitizer only) and a 1 TiB
// request that malloc refuses: a normal build's check passes them and the loader refuses the file
// with libhdf5's error; a sanitized build's check process aborts on them. Either way a FileError
// naming the file, and no crash here.
TEST(Hdf5Check, OverReadsAndRefusedAllocationsEndInAFileError) {
  for (const char* name : {"hdf5_attribute_message_overread.h5", "hdf5_global_heap_overread.h5",
                           "hdf5_cache_entry_terabyte_malloc.h5"}) {
    const std::string path = dstest::fuzz_regression(name);
    bool refused = false;
    try {
      ds::read_dataset_hdf5(path);
      ds::read_model_checkpoint(path);
    } catch (const ds::FileError& e) {
      refused = e.path() == path;
    }
    EXPECT_TRUE(refused) << name;
  }
}

// The check costs a process start: made once per file per process, and never for a file this
// process wrote; a changed file is checked again.
TEST(Hdf5Check, EachFileIsCheckedOncePerProcessAndOwnFilesNotAtAll) {
  const auto dir = dstest::scratch_dir("hdf5-check-once");
  const std::string own = (dir / "own.h5").string();
  ds::write_dataset_hdf5(own, tiny_dataset());
  const std::size_t at_start = ds::detail::hdf5_check_processes();
  ds::read_dataset_hdf5(own);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), at_start);

  const std::string foreign = foreign_copy(own, dir, "foreign.h5");
  ds::read_dataset_hdf5(foreign);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), at_start + 1);
  ds::read_dataset_hdf5(foreign);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), at_start + 1);

  // Changed by someone else (a byte appended: HDF5 ignores data past its end of file).
  {
    std::ofstream append(foreign, std::ios::binary | std::ios::app);
    append.put('\0');
  }
  EXPECT_EQ(ds::read_dataset_hdf5(foreign).samples, tiny_dataset().samples);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), at_start + 2);

  // Rewritten by this process: trusted again.
  ds::write_dataset_hdf5(foreign, tiny_dataset());
  ds::read_dataset_hdf5(foreign);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), at_start + 2);
}

TEST(Hdf5Check, IsolationOffReadsInThisProcess) {
  const dstest::ScopedEnv off("DIFFUSCOPE_HDF5_ISOLATION", "off");
  const auto dir = dstest::scratch_dir("hdf5-check-off");
  const std::string own = (dir / "own.h5").string();
  ds::write_dataset_hdf5(own, tiny_dataset());
  const std::size_t at_start = ds::detail::hdf5_check_processes();
  EXPECT_EQ(ds::read_dataset_hdf5(foreign_copy(own, dir, "foreign.h5")).samples,
            tiny_dataset().samples);
  EXPECT_EQ(ds::detail::hdf5_check_processes(), at_start);
}

TEST(Hdf5Check, AMissingCheckProgramIsNamedAndNothingIsRead) {
  const dstest::ScopedEnv program("DIFFUSCOPE_HDF5_CHECK", "/nonexistent/diffuscope-hdf5-check");
  const auto dir = dstest::scratch_dir("hdf5-check-missing");
  const std::string own = (dir / "own.h5").string();
  ds::write_dataset_hdf5(own, tiny_dataset());
  const std::string reason = dataset_refusal(foreign_copy(own, dir, "foreign.h5"));
  EXPECT_TRUE(contains(reason,
                       "cannot check it: the HDF5 check program diffuscope-hdf5-check "
                       "is missing (looked in /nonexistent/diffuscope-hdf5-check)"))
      << reason;
  EXPECT_TRUE(contains(reason, "DIFFUSCOPE_HDF5_ISOLATION=off")) << reason;
}

// Cancel (a GUI job's token) while the check waits on a hanging file: Cancelled within a poll
// step, the check process killed and reaped.
TEST(Hdf5Check, CancellingTheCallingJobStopsTheCheck) {
  const dstest::ScopedEnv limit("DIFFUSCOPE_HDF5_CHECK_TIMEOUT", "30");
  // A copy: the refusal of the regression file itself may be remembered by an earlier test.
  const auto dir = dstest::scratch_dir("hdf5-check-cancel");
  const std::string hang =
      foreign_copy(dstest::fuzz_regression("hdf5_global_heap_hang.h5"), dir, "hang.h5");
  ds::CancellationToken token;
  std::thread canceller([token] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    token.request();
  });
  const auto start = std::chrono::steady_clock::now();
  {
    const ds::CancellationScope scope(token);
    EXPECT_THROW(ds::read_dataset_hdf5(hang), ds::Cancelled);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  canceller.join();
  // Cancelled, not the FileError of the 30 s limit: the wait ended at the cancel.
  std::printf("cancelled check returned after %.2f s (cancel at 0.3 s)\n", seconds);
}
