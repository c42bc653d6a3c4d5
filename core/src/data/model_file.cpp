#include "diffuscope/data/model_file.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/hdf5_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/runtime.h"

namespace ds {

namespace {

constexpr const char* kFormat = "diffuscope-model";

void write_group(detail::Hdf5File& file, const std::string& group,
                 const std::vector<NamedArray>& arrays) {
  file.create_group(group);
  for (const auto& a : arrays) {
    if (a.name.empty() || a.name.find('/') != std::string::npos)
      throw InvalidArgument("checkpoint: bad tensor name '" + a.name + "'");
    std::vector<std::size_t> shape(a.shape.begin(), a.shape.end());
    if (shape.empty()) shape = {1};  // scalars as [1]
    file.write(group + "/" + a.name, shape, a.values.data(), a.values.size() > 4096);
  }
}

std::vector<NamedArray> read_group(const detail::Hdf5File& file, const std::string& group) {
  std::vector<NamedArray> out;
  for (const auto& name : file.members(group)) {
    NamedArray a;
    a.name = name;
    const auto shape = file.shape(group + "/" + name);
    a.shape.assign(shape.begin(), shape.end());
    a.values = file.read_floats(group + "/" + name);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

bool is_hdf5_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char signature[8] = {};
  if (!in.read(signature, 8)) return false;
  return std::memcmp(signature, "\x89HDF\r\n\x1a\n", 8) == 0;
}

void write_model_checkpoint(const std::string& path, const ModelCheckpoint& c) {
  if (c.config_json.empty()) throw InvalidArgument("checkpoint: empty /config");
  if (c.weights.empty()) throw InvalidArgument("checkpoint: no weights");
  write_path_atomically(path, [&](const std::string& temporary) {
    auto file = detail::Hdf5File::create(temporary);
    file.set_attribute("/", "format", std::string(kFormat));
    file.set_attribute("/", "version", library_versions().diffuscope);
    file.write_string("/config", c.config_json);
    file.create_group("/schedule");
    if (!c.betas.empty()) file.write("/schedule/betas", {c.betas.size()}, c.betas.data());
    write_group(file, "/weights", c.weights);
    if (!c.ema.empty()) write_group(file, "/ema", c.ema);
    if (!c.exp_avg.empty()) {
      file.create_group("/optimizer");
      write_group(file, "/optimizer/exp_avg", c.exp_avg);
      write_group(file, "/optimizer/exp_avg_sq", c.exp_avg_sq);
      file.set_attribute("/optimizer", "step", std::uint64_t(c.optimizer_step));
    }
    file.create_group("/train");
    const std::int64_t step = c.step;
    file.write("/train/step", {1}, &step);
    if (c.data_position >= 0) file.write("/train/data_position", {1}, &c.data_position);
    if (!c.loss.empty()) file.write("/train/loss", {c.loss.size()}, c.loss.data());
    if (!c.validation.empty())
      file.write("/train/validation", {c.validation.size() / 3, 3}, c.validation.data());
    file.close();
  });
}

std::string model_file_modality(const std::string& path) {
  if (!is_hdf5_file(path)) return {};
  try {
    const auto file = detail::Hdf5File::open_read(path);
    if (!file.has_attribute("/", "format") ||
        file.string_attribute("/", "format") != "diffuscope-model" || !file.exists("/config"))
      return {};
    const auto config = nlohmann::json::parse(file.read_string("/config"));
    return config.is_object() ? config.value("modality", std::string()) : std::string();
  } catch (const std::exception&) {
    return {};
  }
}

ModelCheckpoint read_model_checkpoint(const std::string& path, CheckpointParts parts) {
  if (!is_hdf5_file(path)) {
    std::ifstream probe(path);
    if (!probe) throw FileError(path, "cannot be opened (missing or unreadable)");
    throw FileError(path, "is not an HDF5 file");
  }
  auto file = detail::Hdf5File::open_read(path);
  if (!file.has_attribute("/", "format") || file.string_attribute("/", "format") != kFormat)
    throw FileError(path, "is an HDF5 file but not a Diffuscope model (no format attribute '" +
                              std::string(kFormat) + "')");
  if (!file.exists("/config")) throw FileError(path, "has no /config");
  if (!file.exists("/weights")) throw FileError(path, "has no /weights");
  ModelCheckpoint c;
  c.config_json = file.read_string("/config");
  if (file.exists("/schedule/betas")) c.betas = file.read_doubles("/schedule/betas");
  c.weights = read_group(file, "/weights");
  if (c.weights.empty()) throw FileError(path, "/weights is empty");
  if (file.exists("/ema")) c.ema = read_group(file, "/ema");
  if (file.exists("/train/step")) {
    const auto step = file.read_int64("/train/step");
    if (step.size() != 1 || step[0] < 0) throw FileError(path, "/train/step is not one count");
    c.step = step[0];
  }
  if (parts == CheckpointParts::Everything) {
    if (file.exists("/optimizer")) {
      c.exp_avg = read_group(file, "/optimizer/exp_avg");
      c.exp_avg_sq = read_group(file, "/optimizer/exp_avg_sq");
      c.optimizer_step = std::int64_t(file.uint_attribute("/optimizer", "step"));
    }
    if (file.exists("/train/data_position")) {
      const auto position = file.read_int64("/train/data_position");
      if (position.size() != 1 || position[0] < 0)
        throw FileError(path, "/train/data_position is not one count");
      c.data_position = position[0];
    }
    if (file.exists("/train/loss")) c.loss = file.read_doubles("/train/loss");
    if (file.exists("/train/validation")) {
      c.validation = file.read_doubles("/train/validation");
      if (c.validation.size() % 3 != 0) throw FileError(path, "/train/validation is not [k, 3]");
    }
  }
  return c;
}

void export_model_file(const std::string& in, const std::string& out, bool ema) {
  if (in == out) throw InvalidArgument("model export: --out must differ from the input " + in);
  ModelCheckpoint c = read_model_checkpoint(in);
  if (ema) {
    if (c.ema.empty()) throw FileError(in, "has no EMA weights to export");
    c.weights = std::move(c.ema);
  }
  c.ema.clear();
  write_model_checkpoint(out, c);
}

std::string data_fingerprint(const std::vector<float>& samples, const std::vector<double>& params) {
  std::uint64_t h = 1469598103934665603ULL;
  auto feed = [&h](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
  };
  feed(samples.data(), samples.size() * sizeof(float));
  feed(params.data(), params.size() * sizeof(double));
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

}  // namespace ds
