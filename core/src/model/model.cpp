#include "diffuscope/model/model.h"

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <filesystem>

#include "diffuscope/data/model_file.h"
#include "diffuscope/error.h"
#include "model_internal.h"

namespace ds {

std::shared_ptr<const Model> Model::load(const std::string& path, Device device, bool ema) {
  return model_modality(path) == Modality::PointCloud ? make_cloud_model(path, device, ema)
                                                      : make_field_model(path, device, ema);
}

Modality model_modality(const std::string& path) {
  return model_file_modality(path) == "points" ? Modality::PointCloud : Modality::Field2d;
}

std::optional<Modality> recognise_model_file(const std::string& path) {
  const std::string modality = model_file_modality(path);
  if (modality == "points") return Modality::PointCloud;
  if (modality == "field2d") return Modality::Field2d;
  std::string suffix = std::filesystem::path(path).extension().string();
  for (char& c : suffix) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char* torch : {".pt", ".pth", ".ts", ".zip"})
    if (suffix == torch) return Modality::Field2d;
  return std::nullopt;
}

std::string format_text(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int length = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(length > 0 ? std::size_t(length) : 0, '\0');
  if (length > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

nlohmann::json parse_config(const std::string& config_json) {
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  return config.is_object() ? config : nlohmann::json::object();
}

std::string json_text(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  const auto v = object.find(key);
  if (v == object.end()) return fallback;
  return v->is_string() ? v->get<std::string>() : v->dump();
}

std::string training_data_text(const nlohmann::json& config, std::int64_t steps) {
  std::string text;
  const auto dataset = config.find("dataset");
  if (dataset != config.end() && dataset->is_object() && !dataset->empty()) {
    const auto field = [&dataset](const char* key) { return json_text(*dataset, key, "?"); };
    text = field("path") + " (" + field("generator") + " " + field("set_kind") + " set, " +
           field("count") + " samples";
    if (dataset->contains("fingerprint")) text += "; fingerprint " + field("fingerprint");
    text += ")";
  } else {
    text = "not recorded in the file";
  }
  if (steps > 0) text += ", " + std::to_string(steps) + " training steps";
  return text;
}

std::string file_name_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void require_existing_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path, "does not exist");
}

}  // namespace ds
