// Shared by the two ds::Model implementations (model/field_model.cpp, model/cloud_model.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "diffuscope/model/model.h"

namespace ds {

std::shared_ptr<const Model> make_field_model(const std::string& path, Device device, bool ema);
std::shared_ptr<const Model> make_cloud_model(const std::string& path, Device device, bool ema);

// printf into a std::string.
std::string format_text(const char* format, ...) __attribute__((format(printf, 1, 2)));

// The file's JSON configuration, or an empty object when it is missing or not JSON.
nlohmann::json parse_config(const std::string& config_json);

// The training set as a model file records it (/config "dataset") plus the steps trained, one
// line: "PATH (GENERATOR SET_KIND set, COUNT samples; fingerprint F), S training steps".
std::string training_data_text(const nlohmann::json& config, std::int64_t steps);

// object[key] as text: the string itself, any other value as JSON, `fallback` when object is no
// object or has no such key. Never throws (a model file's config is untrusted input).
std::string json_text(const nlohmann::json& object, const char* key,
                      const std::string& fallback = "");

std::string file_name_of(const std::string& path);

// Throws FileError(path, "does not exist") for a missing file.
void require_existing_file(const std::string& path);

}  // namespace ds
