// runtime.h's process-level services: the allocator policy every executable applies, CPU times,
// and where the shipped models are found.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <malloc.h>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "diffuscope/bench/bench.h"
#include "diffuscope/runtime.h"

// AddressSanitizer replaces malloc, so glibc's mallopt policy cannot apply (scripts/
// sanitize-tests.sh runs the suite with DIFFUSCOPE_MALLOC=system for that reason).
#if defined(__SANITIZE_ADDRESS__)
#define DS_SKIP_UNDER_ASAN() GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc's"
#else
#define DS_SKIP_UNDER_ASAN() (void)0
#endif

TEST(Runtime, AllocatorPolicyIsAppliedAndKeepsFreedMemoryInTheProcess) {
  DS_SKIP_UNDER_ASAN();
  // tests/support/memory_policy.cpp applied it before main(), as the executables do.
  ASSERT_NE(ds::memory_allocator_report().find("kept in the process"), std::string::npos)
      << ds::memory_allocator_report();
  // A 64 MiB block freed and allocated again comes from the heap, not from a fresh mapping: the
  // mmap'd bytes (blocks made before the policy, by LibTorch's start-up) do not grow.
  const std::size_t mapped = mallinfo2().hblkhd;
  {
    std::vector<char> block(64u << 20, 1);
    EXPECT_EQ(mallinfo2().hblkhd, mapped);
  }
  std::vector<char> again(64u << 20, 2);
  EXPECT_EQ(mallinfo2().hblkhd, mapped);
  // Freed memory stays with the process (no trim of the heap's top).
  const std::size_t before = mallinfo2().arena;
  again = std::vector<char>();
  EXPECT_EQ(mallinfo2().arena, before);
}

TEST(Runtime, AllocatorPolicyStepsAsideForTheEnvironment) {
  DS_SKIP_UNDER_ASAN();
  setenv("DIFFUSCOPE_MALLOC", "system", 1);
  EXPECT_NE(ds::configure_memory_allocator().find("DIFFUSCOPE_MALLOC=system"), std::string::npos);
  unsetenv("DIFFUSCOPE_MALLOC");
  EXPECT_NE(ds::configure_memory_allocator().find("kept in the process"), std::string::npos);
}

TEST(Runtime, OpenMpSpinCountIsSetUnlessTheEnvironmentChose) {
  const char* before = std::getenv("GOMP_SPINCOUNT");
  const std::string saved = before ? before : "";
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const std::string saved_policy = policy ? policy : "";
  unsetenv("GOMP_SPINCOUNT");
  unsetenv("OMP_WAIT_POLICY");
  EXPECT_TRUE(ds::configure_openmp_environment());  // set: the GUI starts again
  EXPECT_STREQ(std::getenv("GOMP_SPINCOUNT"), "10000");
  EXPECT_EQ(ds::openmp_environment_report(), "GOMP_SPINCOUNT=10000");
  EXPECT_FALSE(ds::configure_openmp_environment());  // the second start keeps it
  EXPECT_EQ(ds::openmp_environment_report(), "GOMP_SPINCOUNT=10000");
  setenv("GOMP_SPINCOUNT", "500", 1);
  EXPECT_FALSE(ds::configure_openmp_environment());
  EXPECT_EQ(ds::openmp_environment_report(), "left to the environment (GOMP_SPINCOUNT)");
  EXPECT_STREQ(std::getenv("GOMP_SPINCOUNT"), "500");
  unsetenv("GOMP_SPINCOUNT");
  setenv("OMP_WAIT_POLICY", "passive", 1);
  EXPECT_FALSE(ds::configure_openmp_environment());
  EXPECT_EQ(ds::openmp_environment_report(), "left to the environment (OMP_WAIT_POLICY)");
  EXPECT_EQ(std::getenv("GOMP_SPINCOUNT"), nullptr);
  unsetenv("OMP_WAIT_POLICY");
  if (!saved.empty()) setenv("GOMP_SPINCOUNT", saved.c_str(), 1);
  if (!saved_policy.empty()) setenv("OMP_WAIT_POLICY", saved_policy.c_str(), 1);
}

TEST(Runtime, BenchMeasurementsCarryCpuTimes) {
  const ds::ProcessTimes t0 = ds::process_times();
  volatile double x = 0;
  const auto m = ds::time_call(
      "spin",
      [&] {
        for (int i = 0; i < 2000000; ++i) x = x + 1e-9 * i;
      },
      0.05, 3);
  EXPECT_GT(m.user_seconds, 0.0);
  EXPECT_GE(m.system_seconds, 0.0);
  EXPECT_GE(ds::process_times().user, t0.user);
  EXPECT_NE(ds::bench_results_to_json({}).find("\"allocator\""), std::string::npos);
}

TEST(Runtime, ShippedModelsAreFoundFromTheBuildTreeAndTheEnvironment) {
  const std::string halos = ds::find_shipped_model("halos1000.h5");
  ASSERT_FALSE(halos.empty());
  EXPECT_TRUE(std::filesystem::is_regular_file(halos));
  std::string searched;
  EXPECT_EQ(ds::find_shipped_model("no-such-model.h5", &searched), "");
  EXPECT_NE(searched.find("share/diffuscope/models/no-such-model.h5"), std::string::npos);
  // DIFFUSCOPE_MODELS comes first.
  const std::string folder = std::filesystem::path(halos).parent_path().string();
  setenv("DIFFUSCOPE_MODELS", folder.c_str(), 1);
  EXPECT_EQ(ds::find_shipped_model("zeldovich64.h5"),
            (std::filesystem::path(folder) / "zeldovich64.h5").string());
  unsetenv("DIFFUSCOPE_MODELS");
}

// A worker can run its parallel work on one core while the others keep theirs (the GUI's shared
// workers do, so that one OpenMP team runs at a time: runtime.h).
TEST(Runtime, CallingThreadCountIsPerThread) {
  ds::set_thread_count(2);
  int one = 0, untouched = 0, all = 0;
  std::thread a([&] {
    ds::set_calling_thread_count(1);
    one = at::get_num_threads();
  });
  a.join();
  std::thread b([&] { untouched = at::get_num_threads(); });
  b.join();
  std::thread c([&] {
    ds::set_calling_thread_count(1);
    ds::set_calling_thread_count(0);
    all = at::get_num_threads();
  });
  c.join();
  EXPECT_EQ(one, 1);
  EXPECT_EQ(untouched, 2);
  EXPECT_EQ(all, 2);
  EXPECT_EQ(at::get_num_threads(), 2);
  ds::set_thread_count(0);
}
