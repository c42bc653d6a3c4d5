#include "diffuscope/bench/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "diffuscope/error.h"
#include "diffuscope/runtime.h"

namespace ds {

std::vector<BenchSuite> make_bench_suites();  // suites.cpp

const std::vector<BenchSuite>& bench_suites() {
  static const std::vector<BenchSuite> suites = make_bench_suites();
  return suites;
}

const BenchSuite& bench_suite(const std::string& name) {
  std::string choices;
  for (const auto& s : bench_suites()) {
    if (s.name == name) return s;
    choices += (choices.empty() ? "" : ", ") + s.name;
  }
  throw InvalidArgument("unknown benchmark suite '" + name + "' (choose one of: " + choices + ")");
}

BenchMeasurement time_call(const std::string& name, const std::function<void()>& fn,
                           double min_seconds, int min_repetitions) {
  using clock = std::chrono::steady_clock;
  fn();  // warm-up: plans, caches, first-touch allocation
  std::vector<double> times;
  const ProcessTimes cpu0 = process_times();
  const auto start = clock::now();
  while (int(times.size()) < min_repetitions ||
         std::chrono::duration<double>(clock::now() - start).count() < min_seconds) {
    const auto t0 = clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(clock::now() - t0).count());
  }
  const ProcessTimes cpu1 = process_times();
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  BenchMeasurement m;
  m.name = name;
  m.seconds = times[times.size() / 2];
  m.repetitions = int(times.size());
  m.user_seconds = (cpu1.user - cpu0.user) / double(times.size());
  m.system_seconds = (cpu1.system - cpu0.system) / double(times.size());
  return m;
}

double MachinePeaks::gflops(const std::string& name) const {
  if (name == "sgemm_fp32") return sgemm_fp32;
  if (name == "dgemm_fp64") return dgemm_fp64;
  if (name == "conv3x3_fp32") return conv3x3_fp32;
  return 0.0;
}

double fft_flops(double points) {
  return points > 1.0 ? 2.5 * points * std::log2(points) : 0.0;
}

std::string efficiency_text(const BenchMeasurement& m, const MachinePeaks& peaks) {
  if (!(m.flops > 0.0) || !(m.seconds > 0.0)) return {};
  const double achieved = m.flops / m.seconds / 1e9, peak = peaks.gflops(m.peak);
  char buffer[96];
  if (peak > 0.0)
    std::snprintf(buffer, sizeof buffer, "%.2f GFLOP/s, %.1f%% of %s", achieved,
                  100.0 * achieved / peak, m.peak.c_str());
  else
    std::snprintf(buffer, sizeof buffer, "%.2f GFLOP/s", achieved);
  return buffer;
}

std::string bench_results_to_json(const std::vector<BenchSuiteResult>& results,
                                  const MachinePeaks* peaks) {
  using nlohmann::json;
  const LibraryVersions v = library_versions();
  json root;
  root["diffuscope"] = v.diffuscope;
  root["libraries"] = {{"libtorch", v.libtorch}, {"hdf5", v.hdf5}, {"fftw", v.fftw}};
  root["cuda_available"] = v.cuda_available;
  root["threads"] = thread_count();
  root["allocator"] = memory_allocator_report();
  if (peaks)
    root["machine_peak"] = {{"sgemm_fp32_gflops", peaks->sgemm_fp32},
                            {"dgemm_fp64_gflops", peaks->dgemm_fp64},
                            {"conv3x3_fp32_gflops", peaks->conv3x3_fp32},
                            {"how", peaks->how}};
  root["suites"] = json::array();
  bool all_met = true;
  for (const auto& r : results) {
    json suite{{"name", r.suite},
               {"description", r.description},
               {"measurements", json::array()},
               {"notes", r.notes}};
    for (const auto& m : r.measurements) {
      json entry{{"name", m.name},
                 {"reference", m.reference},
                 {"seconds", m.seconds},
                 {"repetitions", m.repetitions},
                 {"user_seconds", m.user_seconds},
                 {"system_seconds", m.system_seconds},
                 {"ratio", m.ratio},
                 {"target_ratio", m.target_ratio},
                 {"meets_target", m.meets_target()},
                 {"note", m.note}};
      if (m.flops > 0.0 && m.seconds > 0.0) {
        const double achieved = m.flops / m.seconds / 1e9;
        entry["flops"] = m.flops;
        entry["gflops"] = achieved;
        entry["peak"] = m.peak;
        const double peak = peaks ? peaks->gflops(m.peak) : 0.0;
        if (peak > 0.0) entry["peak_fraction"] = achieved / peak;
      }
      suite["measurements"].push_back(entry);
      all_met = all_met && m.meets_target();
    }
    root["suites"].push_back(suite);
  }
  root["all_targets_met"] = all_met;
  return root.dump(2) + "\n";
}

}  // namespace ds
