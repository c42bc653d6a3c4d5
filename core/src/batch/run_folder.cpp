#include "diffuscope/batch/run_folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

namespace fs = std::filesystem;

std::string batch_output_extension(BatchTask task) {
  switch (task) {
    case BatchTask::VlbGrid:
      return "h5";
    case BatchTask::ReportCalibration:
      return "json";
    case BatchTask::Nuts:
    case BatchTask::Hmc:
      break;
  }
  return "nc";
}

bool batch_task_has_chains(BatchTask task) {
  return task == BatchTask::Nuts || task == BatchTask::Hmc;
}

std::size_t BatchManifest::task_count() const {
  return (fields.size() + fields_per_task - 1) / fields_per_task;
}

std::vector<std::size_t> BatchManifest::task_fields(std::size_t task) const {
  if (task >= task_count())
    throw InvalidArgument("task id " + std::to_string(task) + " is out of range: the run has " +
                          std::to_string(task_count()) + " tasks (0-" +
                          std::to_string(task_count() - 1) + ")");
  std::vector<std::size_t> out;
  const std::size_t first = task * fields_per_task;
  for (std::size_t p = first; p < std::min(fields.size(), first + fields_per_task); ++p)
    out.push_back(p);
  return out;
}

namespace {

std::size_t parse_index(const std::string& item, const std::string& text) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    if (item.empty() || item[0] == '-' || item[0] == '+') throw std::invalid_argument(item);
    value = std::stoull(item, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != item.size())
    throw InvalidArgument("index list '" + text + "': '" + item + "' is not an index");
  return std::size_t(value);
}

}  // namespace

std::vector<std::size_t> parse_index_list(const std::string& text, std::size_t count) {
  std::vector<std::size_t> out;
  if (text.empty() || text == "all") {
    for (std::size_t i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  std::set<std::size_t> seen;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const std::size_t dash = item.find('-', 1);
    const std::size_t first = parse_index(item.substr(0, dash), text);
    const std::size_t last =
        dash == std::string::npos ? first : parse_index(item.substr(dash + 1), text);
    if (last < first)
      throw InvalidArgument("index list '" + text + "': range '" + item + "' is reversed");
    for (std::size_t i = first; i <= last; ++i) {
      if (i >= count)
        throw InvalidArgument("index list '" + text + "': index " + std::to_string(i) +
                              " is out of range (the file holds " + std::to_string(count) +
                              " fields)");
      if (!seen.insert(i).second)
        throw InvalidArgument("index list '" + text + "': index " + std::to_string(i) +
                              " is repeated");
      out.push_back(i);
    }
  }
  if (out.empty()) throw InvalidArgument("index list '" + text + "' names no field");
  return out;
}

std::string format_index_list(const std::vector<std::size_t>& indices) {
  std::string out;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

std::vector<BatchField> seed_fields(const std::vector<std::size_t>& indices, std::uint64_t seed) {
  std::vector<BatchField> out;
  for (std::size_t i : indices) out.push_back({i, mix_seed(seed, i)});
  return out;
}

std::string batch_manifest_path(const std::string& run_folder) {
  return (fs::path(run_folder) / "manifest.json").string();
}

void write_batch_manifest(const std::string& run_folder, const BatchManifest& m) {
  nlohmann::ordered_json j;
  j["format"] = "diffuscope-batch-run";
  j["format_version"] = 1;
  j["diffuscope_version"] = m.version;
  j["created_at"] = m.created_at;
  j["fields_file"] = m.fields_file;
  j["fields_in_file"] = m.fields_in_file;
  j["task"] = kBatchTasks.name(m.task);
  j["task_arguments"] = m.task_arguments;
  j["global_arguments"] = m.global_arguments;
  j["seed"] = m.seed;
  j["fields_per_task"] = m.fields_per_task;
  j["task_count"] = m.task_count();
  j["output_extension"] = batch_output_extension(m.task);
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const auto& f : m.fields) fields.push_back({{"index", f.index}, {"seed", f.seed}});
  j["fields"] = fields;
  j["slurm"] = {{"partition", m.slurm.partition},
                {"time", m.slurm.time},
                {"cpus_per_task", m.slurm.cpus_per_task},
                {"mem", m.slurm.mem},
                {"gpus", m.slurm.gpus}};
  j["cli"] = m.cli;
  write_file_atomically(batch_manifest_path(run_folder),
                        [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

BatchManifest read_batch_manifest(const std::string& run_folder) {
  const std::string path = batch_manifest_path(run_folder);
  if (!fs::is_directory(run_folder)) throw FileError(run_folder, "is not a directory");
  std::ifstream in(path);
  if (!in) throw FileError(path, "does not exist: " + run_folder + " is not a batch run folder");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw FileError(path, std::string("is not valid JSON: ") + e.what());
  }
  BatchManifest m;
  try {
    if (j.at("format").get<std::string>() != "diffuscope-batch-run")
      throw FileError(path, "is not a Diffuscope batch manifest");
    m.version = j.at("diffuscope_version").get<std::string>();
    m.created_at = j.at("created_at").get<std::string>();
    m.fields_file = j.at("fields_file").get<std::string>();
    m.fields_in_file = j.at("fields_in_file").get<std::size_t>();
    m.task = kBatchTasks.from_string(j.at("task").get<std::string>());
    m.task_arguments = j.at("task_arguments").get<std::vector<std::string>>();
    m.global_arguments = j.at("global_arguments").get<std::vector<std::string>>();
    m.seed = j.at("seed").get<std::uint64_t>();
    m.fields_per_task = j.at("fields_per_task").get<std::size_t>();
    for (const auto& f : j.at("fields"))
      m.fields.push_back({f.at("index").get<std::size_t>(), f.at("seed").get<std::uint64_t>()});
    const auto& s = j.at("slurm");
    m.slurm.partition = s.at("partition").get<std::string>();
    m.slurm.time = s.at("time").get<std::string>();
    m.slurm.cpus_per_task = s.at("cpus_per_task").get<int>();
    m.slurm.mem = s.at("mem").get<std::string>();
    m.slurm.gpus = s.at("gpus").get<int>();
    m.cli = j.at("cli").get<std::string>();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw FileError(path, std::string("malformed manifest: ") + e.what());
  }
  if (m.fields.empty() || m.fields_per_task == 0)
    throw FileError(path, "malformed manifest: no fields or fields_per_task 0");
  return m;
}

std::string batch_output_path(const std::string& run_folder, const BatchManifest& manifest,
                              std::size_t index) {
  return (fs::path(run_folder) / "out" /
          ("field-" + std::to_string(index) + "." + batch_output_extension(manifest.task)))
      .string();
}

std::string batch_failure_path(const std::string& run_folder, std::size_t index) {
  return (fs::path(run_folder) / "out" / ("field-" + std::to_string(index) + ".failed")).string();
}

std::string batch_partial_folder(const std::string& run_folder, std::size_t index) {
  return (fs::path(run_folder) / "out" / (".field-" + std::to_string(index) + ".partial")).string();
}

BatchStatus batch_status(const std::string& run_folder, const BatchManifest& manifest) {
  BatchStatus s;
  std::set<std::size_t> unfinished;
  for (std::size_t p = 0; p < manifest.fields.size(); ++p) {
    const std::size_t index = manifest.fields[p].index;
    if (fs::exists(batch_output_path(run_folder, manifest, index))) {
      s.done.push_back(index);
      continue;
    }
    unfinished.insert(p / manifest.fields_per_task);
    const std::string marker = batch_failure_path(run_folder, index);
    if (fs::exists(marker)) {
      std::ifstream failure(marker);
      std::string line;
      std::getline(failure, line);
      s.failed.push_back(index);
      s.errors[index] = line.empty() ? "(no message)" : line;
    } else {
      s.missing.push_back(index);
    }
  }
  for (auto* list : {&s.done, &s.failed, &s.missing}) std::sort(list->begin(), list->end());
  s.unfinished_tasks.assign(unfinished.begin(), unfinished.end());
  return s;
}

}  // namespace ds
