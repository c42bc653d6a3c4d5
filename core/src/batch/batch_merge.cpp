#include "diffuscope/batch/batch_merge.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "data/hdf5_file.h"
#include "diffuscope/batch/field_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/grids/grid_posterior.h"

#ifndef DS_VERSION
#define DS_VERSION "unknown"
#endif

namespace ds {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The final posterior grid of a report calibration record (report/report.h run_report_field):
// "posterior": {"grid": {"omega_m": [n], "sigma_8": [n], "log_like": [n * n], null for NaN}}.
GridScan record_grid(const std::string& path) {
  GridScan scan;
  try {
    const nlohmann::json record = nlohmann::json::parse(read_text(path));
    const nlohmann::json& grid = record.at("posterior").at("grid");
    const auto values = [](const nlohmann::json& array) {
      std::vector<double> out;
      for (const auto& v : array)
        out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
      return out;
    };
    scan.omega_m = values(grid.at("omega_m"));
    scan.sigma_8 = values(grid.at("sigma_8"));
    scan.log_like = values(grid.at("log_like"));
  } catch (const std::exception& e) {
    throw FileError(path, std::string("is not a calibration field record: ") + e.what());
  }
  const std::size_t n = scan.omega_m.size();
  if (n < 2 || scan.sigma_8.size() != n || scan.log_like.size() != n * n)
    throw FileError(path, "its posterior grid is not n x n with n >= 2 (axes of " +
                              std::to_string(n) + " and " + std::to_string(scan.sigma_8.size()) +
                              " points, " + std::to_string(scan.log_like.size()) + " values)");
  return scan;
}

// A record whose posterior came from NUTS (report-calibration --nuts): its checks from the
// recorded draws' summaries, against `field`'s truth (NaN: none). Empty for a grid record.
std::optional<FieldCalibration> record_nuts_check(const std::string& path,
                                                  const CalibrationField& field) {
  try {
    const nlohmann::json record = nlohmann::json::parse(read_text(path));
    const nlohmann::json& posterior = record.at("posterior");
    if (posterior.value("method", std::string()) != "nuts") return std::nullopt;
    const auto number = [](const nlohmann::json& v) {
      return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    };
    FieldCalibration out;
    out.index = field.index;
    out.divergences = posterior.at("divergences").get<std::size_t>();
    for (std::size_t p = 0; p < 2; ++p) {
      const nlohmann::json& pj = posterior.at("parameters").at(p);
      ParameterCheck c;
      c.truth = field.truth[p];
      c.mean = number(pj.at("mean"));
      c.sd = number(pj.at("sd"));
      c.z = (c.mean - c.truth) / c.sd;
      c.inner_lo = number(pj.at("inner").at(0));
      c.inner_hi = number(pj.at("inner").at(1));
      c.outer_lo = number(pj.at("outer").at(0));
      c.outer_hi = number(pj.at("outer").at(1));
      c.inside_inner = c.truth >= c.inner_lo && c.truth <= c.inner_hi;
      c.inside_outer = c.truth >= c.outer_lo && c.truth <= c.outer_hi;
      c.r_hat = number(pj.at("r_hat"));
      c.ess_bulk = number(pj.at("ess_bulk"));
      out.parameters.push_back(c);
    }
    return out;
  } catch (const std::exception& e) {
    throw FileError(path, std::string("is not a calibration field record: ") + e.what());
  }
}

}  // namespace

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
    if (manifest.task == BatchTask::ReportCalibration) {
      if (auto nuts = record_nuts_check(path, field))
        merge.fields.push_back(std::move(*nuts));
      else
        merge.fields.push_back(check_grid(field, record_grid(path)));
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

}  // namespace

void write_batch_merge(const std::string& path, const std::string& run_folder,
                       const BatchManifest& manifest, const BatchMerge& merge) {
  const std::size_t k = merge.fields.size();
  write_path_atomically(path, [&](const std::string& temporary) {
    auto file = detail::Hdf5File::create(temporary);
    file.create_group("/fields");
    for (const auto& f : merge.fields) {
      const std::string source = batch_output_path(run_folder, manifest, f.index);
      if (manifest.task == BatchTask::ReportCalibration) {
        file.write_string("/fields/" + std::to_string(f.index), read_text(source));
        continue;
      }
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
    if (batch_task_has_chains(manifest.task)) {
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

bool is_batch_merge_file(const std::string& path) {
  try {
    if (!std::filesystem::is_regular_file(path) || !is_hdf5_file(path)) return false;
    const auto file = detail::Hdf5File::open_read(path);
    return file.has_attribute("/", "format") &&
           file.string_attribute("/", "format") == "diffuscope-batch-merge";
  } catch (const std::exception&) {
    return false;
  }
}

BatchMergeFile read_batch_merge(const std::string& path) {
  const std::string not_merged =
      "is not a merged batch file (`diffuscope-cli batch merge` writes them)";
  if (!std::filesystem::is_regular_file(path) || !is_hdf5_file(path))
    throw FileError(path, not_merged);
  const auto file = detail::Hdf5File::open_read(path);  // one open: the format is checked on it
  if (!file.has_attribute("/", "format") ||
      file.string_attribute("/", "format") != "diffuscope-batch-merge")
    throw FileError(path, not_merged);
  BatchMergeFile out;
  out.path = path;
  out.task = file.string_attribute("/", "task");
  out.chains =
      out.task == kBatchTasks.name(BatchTask::Nuts) || out.task == kBatchTasks.name(BatchTask::Hmc);
  out.fields_file = file.string_attribute("/", "fields_file");
  out.fields_planned = std::size_t(file.uint_attribute("/", "fields_planned"));
  out.missing = file.string_attribute("/", "missing");
  out.version = file.string_attribute("/", "version");
  BatchMerge& m = out.merge;
  m.names = {"Omega_m", "sigma_8"};
  const std::vector<std::int64_t> index = file.read_int64("/posterior/index");
  const std::size_t k = index.size();
  // A [K, 2] column, checked.
  const auto column = [&](const std::string& name) {
    const std::vector<double> v = file.read_doubles(name);
    if (v.size() != 2 * k)
      throw FileError(path, name + " holds " + std::to_string(v.size()) + " values, not " +
                                std::to_string(2 * k) + " ([K, 2] for K = " + std::to_string(k) +
                                " fields)");
    return v;
  };
  const auto mean = column("/posterior/mean"), sd = column("/posterior/sd"),
             lo68 = column("/posterior/lo68"), hi68 = column("/posterior/hi68"),
             lo95 = column("/posterior/lo95"), hi95 = column("/posterior/hi95");
  std::vector<double> r_hat, ess;
  std::vector<std::int64_t> divergences;
  if (out.chains) {
    r_hat = column("/posterior/r_hat");
    ess = column("/posterior/ess_bulk");
    divergences = file.read_int64("/posterior/divergences");
    if (divergences.size() != k) throw FileError(path, "/posterior/divergences is not [K]");
  }
  m.has_truth = file.exists("/posterior/truth");
  std::vector<double> truth, z;
  if (m.has_truth) {
    truth = column("/posterior/truth");
    z = column("/posterior/z");
  }
  for (std::size_t f = 0; f < k; ++f) {
    if (index[f] < 0) throw FileError(path, "/posterior/index holds a negative index");
    FieldCalibration field;
    field.index = std::size_t(index[f]);
    if (out.chains) field.divergences = std::size_t(std::max<std::int64_t>(0, divergences[f]));
    for (std::size_t p = 0; p < 2; ++p) {
      const std::size_t i = 2 * f + p;
      ParameterCheck c;
      c.mean = mean[i], c.sd = sd[i];
      c.inner_lo = lo68[i], c.inner_hi = hi68[i], c.outer_lo = lo95[i], c.outer_hi = hi95[i];
      if (out.chains) c.r_hat = r_hat[i], c.ess_bulk = ess[i];
      if (m.has_truth) {
        c.truth = truth[i], c.z = z[i];
        c.inside_inner = c.truth >= c.inner_lo && c.truth <= c.inner_hi;
        c.inside_outer = c.truth >= c.outer_lo && c.truth <= c.outer_hi;
      }
      field.parameters.push_back(c);
    }
    m.fields.push_back(std::move(field));
  }
  if (m.has_truth && !m.fields.empty()) m.summary = summarize_calibration(m.names, m.fields);
  return out;
}

}  // namespace ds
