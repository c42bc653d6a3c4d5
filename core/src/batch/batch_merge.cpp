#include "diffuscope/batch/batch_merge.h"

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "data/hdf5_file.h"
#include "diffuscope/batch/field_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/grids/grid_posterior.h"

#ifndef DS_VERSION
#define DS_VERSION "unknown"
#endif

namespace ds {

BatchMerge summarize_batch_run(const std::string& run_folder, const BatchManifest& manifest,
                               bool allow_missing) {
  const BatchStatus status = batch_status(run_folder, manifest);
  const bool complete = status.failed.empty() && status.missing.empty();
  if (!complete && (!allow_missing || status.done.empty())) {
    std::string what = std::to_string(status.failed.size() + status.missing.size()) + " of " +
                       std::to_string(manifest.fields.size()) + " fields are not done";
    if (!status.missing.empty()) what += "; missing " + format_index_list(status.missing);
    if (!status.failed.empty()) what += "; failed " + format_index_list(status.failed);
    what += status.done.empty() ? " (nothing to merge)"
                                : " (run them again, or merge the rest with --allow-missing)";
    throw FileError(run_folder, what);
  }
  BatchMerge merge;
  merge.names = {"Omega_m", "sigma_8"};
  std::vector<std::size_t> indices;
  for (const auto& f : manifest.fields) indices.push_back(f.index);
  const std::vector<std::array<double, 2>> truths = field_truths(manifest.fields_file, indices);
  merge.has_truth = !truths.empty();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t p = 0; p < manifest.fields.size(); ++p) {
    const std::size_t index = manifest.fields[p].index;
    const std::string path = batch_output_path(run_folder, manifest, index);
    if (!std::filesystem::exists(path)) {
      merge.missing.push_back(index);
      continue;
    }
    CalibrationField field{index, {nan, nan}};
    if (merge.has_truth) field.truth = {truths[p][0], truths[p][1]};
    if (manifest.task == BatchTask::VlbGrid) {
      merge.fields.push_back(check_grid(field, read_grid_scan(path)));
      continue;
    }
    const Chains chains = read_arviz_netcdf(path);
    if (chains.parameters() != 2 || chains.names[0] != "Omega_m" || chains.names[1] != "sigma_8")
      throw FileError(path, "its chains are not of (Omega_m, sigma_8)");
    merge.fields.push_back(check_field(field, chains, nullptr));
  }
  if (merge.has_truth) merge.summary = summarize_calibration(merge.names, merge.fields);
  return merge;
}

namespace {

// [K, 2] column of the table.
template <class Get>
std::vector<double> table_column(const BatchMerge& merge, Get get) {
  std::vector<double> out;
  for (const auto& f : merge.fields)
    for (const auto& c : f.parameters) out.push_back(get(c));
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void write_batch_merge(const std::string& path, const std::string& run_folder,
                       const BatchManifest& manifest, const BatchMerge& merge) {
  const std::size_t k = merge.fields.size();
  write_path_atomically(path, [&](const std::string& temporary) {
    auto file = detail::Hdf5File::create(temporary);
    file.create_group("/fields");
    for (const auto& f : merge.fields) {
      const std::string source = batch_output_path(run_folder, manifest, f.index);
      const detail::Hdf5File input = detail::Hdf5File::open_read(source);
      const std::string target = "/fields/" + std::to_string(f.index);
      if (H5Ocopy(input.id(), "/", file.id(), target.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
        throw FileError(path, "cannot copy " + source + " into " + target);
    }
    file.create_group("/posterior");
    std::vector<std::int64_t> index;
    for (const auto& f : merge.fields) index.push_back(std::int64_t(f.index));
    file.write("/posterior/index", {k}, index.data());
    const auto write = [&](const std::string& name, const std::vector<double>& values) {
      file.write(name, {k, 2}, values.data());
    };
    write("/posterior/mean", table_column(merge, [](const auto& c) { return c.mean; }));
    write("/posterior/sd", table_column(merge, [](const auto& c) { return c.sd; }));
    write("/posterior/lo68", table_column(merge, [](const auto& c) { return c.inner_lo; }));
    write("/posterior/hi68", table_column(merge, [](const auto& c) { return c.inner_hi; }));
    write("/posterior/lo95", table_column(merge, [](const auto& c) { return c.outer_lo; }));
    write("/posterior/hi95", table_column(merge, [](const auto& c) { return c.outer_hi; }));
    if (manifest.task != BatchTask::VlbGrid) {
      write("/posterior/r_hat", table_column(merge, [](const auto& c) { return c.r_hat; }));
      write("/posterior/ess_bulk", table_column(merge, [](const auto& c) { return c.ess_bulk; }));
      std::vector<std::int64_t> divergences;
      for (const auto& f : merge.fields) divergences.push_back(std::int64_t(f.divergences));
      file.write("/posterior/divergences", {k}, divergences.data());
    }
    if (merge.has_truth) {
      write("/posterior/truth", table_column(merge, [](const auto& c) { return c.truth; }));
      write("/posterior/z", table_column(merge, [](const auto& c) { return c.z; }));
      std::vector<std::int64_t> inner, outer;
      for (const auto& f : merge.fields)
        for (const auto& c : f.parameters) {
          inner.push_back(c.inside_inner ? 1 : 0);
          outer.push_back(c.inside_outer ? 1 : 0);
        }
      file.write("/posterior/inside68", {k, 2}, inner.data());
      file.write("/posterior/inside95", {k, 2}, outer.data());
      file.create_group("/calibration");
      std::vector<double> c68, c95, z_mean, z_sd;
      for (const auto& s : merge.summary) {
        c68.push_back(s.inner_coverage);
        c95.push_back(s.outer_coverage);
        z_mean.push_back(s.z_mean);
        z_sd.push_back(s.z_sd);
      }
      file.write("/calibration/coverage_68", {2}, c68.data());
      file.write("/calibration/coverage_95", {2}, c95.data());
      file.write("/calibration/z_mean", {2}, z_mean.data());
      file.write("/calibration/z_sd", {2}, z_sd.data());
    }
    file.write_string("/manifest", read_text(batch_manifest_path(run_folder)));
    file.set_attribute("/", "format", std::string("diffuscope-batch-merge"));
    file.set_attribute("/", "task", std::string(kBatchTasks.name(manifest.task)));
    file.set_attribute("/", "fields_file", manifest.fields_file);
    file.set_attribute("/", "fields_planned", std::uint64_t(manifest.fields.size()));
    file.set_attribute("/", "fields_merged", std::uint64_t(k));
    file.set_attribute("/", "missing", format_index_list(merge.missing));
    file.set_attribute("/", "version", std::string(DS_VERSION));
    file.set_attribute("/", "parameter_names", merge.names);
    file.close();
  });
}

}  // namespace ds
