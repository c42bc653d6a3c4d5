// Per-feature standardisation of halo catalogues (point_transform.h).
#include "diffuscope/pointcloud/point_transform.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "diffuscope/error.h"

namespace ds {

namespace {

std::vector<std::string> default_feature_names(std::size_t features) {
  static const char* const kSeven[] = {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
  std::vector<std::string> names;
  for (std::size_t d = 0; d < features; ++d)
    names.push_back(features == 7 || d < 3 ? kSeven[d] : "feature" + std::to_string(d));
  return names;
}

// The invariants every transform keeps, whether fitted or read: F >= 3 positive finite scales,
// finite means, one name per feature, a positive box.
void validate(const PointTransform& t, const std::string& where) {
  if (t.mean.size() < 3)
    throw InvalidArgument(where + ": " + std::to_string(t.mean.size()) +
                          " features; point clouds need at least 3 (positions first)");
  if (t.std.size() != t.mean.size())
    throw InvalidArgument(where + ": " + std::to_string(t.std.size()) + " scales for " +
                          std::to_string(t.mean.size()) + " means");
  if (t.feature_names.size() != t.mean.size())
    throw InvalidArgument(where + ": " + std::to_string(t.feature_names.size()) +
                          " feature names for " + std::to_string(t.mean.size()) + " features");
  for (std::size_t d = 0; d < t.mean.size(); ++d) {
    if (!std::isfinite(t.mean[d]))
      throw InvalidArgument(where + ": mean of feature '" + t.feature_names[d] + "' is not finite");
    if (!(std::isfinite(t.std[d]) && t.std[d] > 0.0))
      throw InvalidArgument(where + ": std of feature '" + t.feature_names[d] + "' is " +
                            std::to_string(t.std[d]) + "; it must be positive and finite");
  }
  if (!(std::isfinite(t.box_size) && t.box_size > 0.0))
    throw InvalidArgument(where + ": box_size " + std::to_string(t.box_size) +
                          " must be positive and finite");
}

void require_whole_points(std::size_t values, std::size_t features, const char* what) {
  if (features == 0) throw InvalidArgument(std::string(what) + ": the transform has no features");
  if (values % features != 0)
    throw InvalidArgument(std::string(what) + ": " + std::to_string(values) +
                          " values are not a whole number of points of " +
                          std::to_string(features) + " features");
}

}  // namespace

PointTransform PointTransform::fit(const std::vector<float>& samples, std::size_t features,
                                   const std::vector<std::string>& feature_names, double box_size) {
  if (features < 3)
    throw InvalidArgument("point transform: " + std::to_string(features) +
                          " features; point clouds need at least 3 (positions first)");
  if (samples.empty()) throw InvalidArgument("point transform: no samples to fit");
  require_whole_points(samples.size(), features, "point transform");
  if (!feature_names.empty() && feature_names.size() != features)
    throw InvalidArgument("point transform: " + std::to_string(feature_names.size()) +
                          " feature names for " + std::to_string(features) + " features");
  PointTransform t;
  t.feature_names = feature_names.empty() ? default_feature_names(features) : feature_names;
  t.box_size = box_size;
  const std::size_t points = samples.size() / features;
  // Two passes in double: exact enough for 10^7 halos whose positions are O(10^3).
  t.mean.assign(features, 0.0);
  for (std::size_t i = 0; i < points; ++i)
    for (std::size_t d = 0; d < features; ++d) {
      const double v = samples[i * features + d];
      if (!std::isfinite(v))
        throw InvalidArgument("point transform: feature '" + t.feature_names[d] + "' of point " +
                              std::to_string(i) + " is not finite");
      t.mean[d] += v;
    }
  for (auto& m : t.mean) m /= double(points);
  t.std.assign(features, 0.0);
  for (std::size_t i = 0; i < points; ++i)
    for (std::size_t d = 0; d < features; ++d) {
      const double r = samples[i * features + d] - t.mean[d];
      t.std[d] += r * r;
    }
  for (std::size_t d = 0; d < features; ++d) {
    t.std[d] = std::sqrt(t.std[d] / double(points));
    // A spread below float resolution of the mean is a constant feature in practice.
    if (!(t.std[d] > 1e-6 * std::max(1.0, std::abs(t.mean[d]))))
      throw InvalidArgument("point transform: feature '" + t.feature_names[d] +
                            "' is constant; it cannot be standardised");
  }
  validate(t, "point transform");
  return t;
}

void PointTransform::standardise(std::vector<float>& values) const {
  const std::size_t f = features();
  require_whole_points(values.size(), f, "standardise");
  for (std::size_t i = 0; i < values.size(); i += f)
    for (std::size_t d = 0; d < f; ++d)
      values[i + d] = float((double(values[i + d]) - mean[d]) / std[d]);
}

void PointTransform::unstandardise(std::vector<float>& values, bool wrap) const {
  const std::size_t f = features();
  require_whole_points(values.size(), f, "unstandardise");
  for (std::size_t i = 0; i < values.size(); i += f)
    for (std::size_t d = 0; d < f; ++d) {
      double v = double(values[i + d]) * std[d] + mean[d];
      if (wrap && d < 3) v -= box_size * std::floor(v / box_size);
      float out = float(v);
      // Values just below the box edge may round up to it in float: the same place as 0.
      if (wrap && d < 3 && out >= float(box_size)) out = 0.0f;
      values[i + d] = out;
    }
}

std::string PointTransform::to_json() const {
  const nlohmann::json j = {
      {"mean", mean}, {"std", std}, {"feature_names", feature_names}, {"box_size", box_size}};
  return j.dump();
}

PointTransform PointTransform::from_json(const std::string& json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    const std::string what = e.what();
    throw InvalidArgument("point transform: not valid JSON (" + what.substr(0, what.find('\n')) +
                          ")");
  }
  if (!j.is_object()) throw InvalidArgument("point transform: JSON must be an object");
  static const std::set<std::string> kKeys{"mean", "std", "feature_names", "box_size"};
  for (const auto& item : j.items())
    if (!kKeys.count(item.key()))
      throw InvalidArgument("point transform: unknown key '" + item.key() + "'");
  auto numbers = [&](const char* key) {
    if (!j.contains(key))
      throw InvalidArgument(std::string("point transform: '") + key + "' is missing");
    const auto& a = j.at(key);
    if (!a.is_array())
      throw InvalidArgument(std::string("point transform: '") + key + "' must be an array");
    std::vector<double> out;
    for (const auto& v : a) {
      if (!v.is_number())
        throw InvalidArgument(std::string("point transform: '") + key + "' holds " + v.dump() +
                              ", not a number");
      out.push_back(v.get<double>());
    }
    return out;
  };
  PointTransform t;
  t.mean = numbers("mean");
  t.std = numbers("std");
  if (j.contains("feature_names")) {
    const auto& names = j.at("feature_names");
    if (!names.is_array())
      throw InvalidArgument("point transform: 'feature_names' must be an array of strings");
    for (const auto& name : names) {
      if (!name.is_string())
        throw InvalidArgument("point transform: feature name " + name.dump() + " is not a string");
      t.feature_names.push_back(name.get<std::string>());
    }
  } else {
    t.feature_names = default_feature_names(t.mean.size());
  }
  if (j.contains("box_size")) {
    if (!j.at("box_size").is_number())
      throw InvalidArgument("point transform: 'box_size' must be a number");
    t.box_size = j.at("box_size").get<double>();
  }
  validate(t, "point transform");
  return t;
}

}  // namespace ds
