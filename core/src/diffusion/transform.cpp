#include "diffuscope/diffusion/transform.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diffuscope/error.h"

namespace ds {

namespace {

void require_finite(double v, const char* what) {
  if (!std::isfinite(v))
    throw InvalidArgument(std::string("field transform: ") + what + " is not finite");
}

}  // namespace

FieldTransform FieldTransform::log10_min_max(double lo, double hi, double floor) {
  require_finite(lo, "lo");
  require_finite(hi, "hi");
  require_finite(floor, "floor");
  if (floor < 0.0)
    throw InvalidArgument("field transform: floor " + std::to_string(floor) + " is negative");
  if (!(lo < hi))
    throw InvalidArgument("field transform: log10 range [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "] is empty (need lo < hi)");
  FieldTransform t;
  t.kind = FieldTransformKind::Log10MinMax;
  t.lo = lo;
  t.hi = hi;
  t.floor = floor;
  return t;
}

FieldTransform FieldTransform::affine(double offset, double scale) {
  require_finite(offset, "offset");
  require_finite(scale, "scale");
  if (!(scale > 0.0))
    throw InvalidArgument("field transform: affine scale " + std::to_string(scale) +
                          " is not positive");
  FieldTransform t;
  t.kind = FieldTransformKind::Affine;
  t.offset = offset;
  t.scale = scale;
  return t;
}

FieldTransform FieldTransform::identity() {
  FieldTransform t;
  t.kind = FieldTransformKind::Identity;
  return t;
}

FieldTransform FieldTransform::fit_log10_min_max(const std::vector<float>& physical,
                                                 double floor_fraction) {
  if (physical.empty()) throw InvalidArgument("field transform: no values to fit");
  double floor = 0.0;
  if (floor_fraction > 0.0) {
    double mean = 0.0;
    bool zero = false;
    for (float v : physical) {
      mean += v;
      zero = zero || v == 0.0f;
    }
    if (zero) floor = floor_fraction * mean / double(physical.size());
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < physical.size(); ++i) {
    if (!(physical[i] + floor > 0.0) || physical[i] < 0.0f || !std::isfinite(physical[i]))
      throw InvalidArgument("field transform: value " + std::to_string(physical[i]) + " at index " +
                            std::to_string(i) +
                            " is not positive and finite (log10 needs positive maps)");
    const double v = std::log10(double(physical[i]) + floor);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return log10_min_max(lo, hi, floor);
}

FieldTransform FieldTransform::fit_affine(const std::vector<float>& physical) {
  if (physical.size() < 2) throw InvalidArgument("field transform: need >= 2 values to fit");
  double mean = 0.0;
  for (float v : physical) mean += v;
  mean /= double(physical.size());
  double var = 0.0;
  for (float v : physical) var += (v - mean) * (v - mean);
  var /= double(physical.size() - 1);
  return affine(mean, std::sqrt(var));
}

double FieldTransform::to_model(double x) const {
  switch (kind) {
    case FieldTransformKind::Log10MinMax:
      if (!(x + floor > 0.0) || !std::isfinite(x))
        throw InvalidArgument("field transform: value " + std::to_string(x) +
                              (floor > 0.0 ? " is not finite or below -floor"
                                           : " is not positive and finite (log10-minmax needs "
                                             "positive maps)"));
      return (std::log10(x + floor) - lo) / (hi - lo) * 2.0 - 1.0;
    case FieldTransformKind::Affine:
      return (x - offset) / scale;
    case FieldTransformKind::Identity:
      return x;
  }
  return x;
}

double FieldTransform::to_physical(double x) const {
  switch (kind) {
    case FieldTransformKind::Log10MinMax:
      // Model values below the image of an empty pixel (log10(floor)) are "emptier than empty":
      // they map to 0, never to a negative density (issue 18: DDIM samples reach there).
      return std::max(0.0, std::pow(10.0, (x + 1.0) / 2.0 * (hi - lo) + lo) - floor);
    case FieldTransformKind::Affine:
      return x * scale + offset;
    case FieldTransformKind::Identity:
      return x;
  }
  return x;
}

void FieldTransform::to_model(std::vector<float>& values) const {
  for (std::size_t i = 0; i < values.size(); ++i) {
    try {
      values[i] = static_cast<float>(to_model(double(values[i])));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string(e.what()) + " at index " + std::to_string(i));
    }
  }
}

void FieldTransform::to_physical(std::vector<float>& values) const {
  for (auto& v : values) v = static_cast<float>(to_physical(double(v)));
}

std::string FieldTransform::to_json() const {
  nlohmann::json j;
  switch (kind) {
    case FieldTransformKind::Log10MinMax:
      j = {{"kind", "log10-minmax"}, {"lo", lo}, {"hi", hi}};
      if (floor > 0.0) j["floor"] = floor;
      break;
    case FieldTransformKind::Affine:
      j = {{"kind", "affine"}, {"offset", offset}, {"scale", scale}};
      break;
    case FieldTransformKind::Identity:
      j = {{"kind", "identity"}};
      break;
  }
  return j.dump();
}

FieldTransform FieldTransform::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw InvalidArgument("field transform: not valid JSON: " + text.substr(0, 80));
  }
  const std::string kind = j.is_object() ? j.value("kind", std::string()) : std::string();
  try {
    if (kind == "log10-minmax") return log10_min_max(j.at("lo"), j.at("hi"), j.value("floor", 0.0));
    if (kind == "affine") return affine(j.at("offset"), j.at("scale"));
  } catch (const nlohmann::json::exception&) {
    throw InvalidArgument("field transform: '" + kind + "' lacks a numeric constant in " +
                          text.substr(0, 80));
  }
  if (kind == "identity") return identity();
  throw InvalidArgument("field transform: unknown kind '" + kind +
                        "' (log10-minmax, affine or identity)");
}

std::string FieldTransform::describe() const {
  std::ostringstream s;
  switch (kind) {
    case FieldTransformKind::Log10MinMax:
      s << "log10 then min-max to [-1, 1]: x_n = (log10 " << (floor > 0.0 ? "(x + floor)" : "x")
        << " - " << lo << ") / (" << hi << " - " << lo << ") * 2 - 1";
      if (floor > 0.0) s << ", floor = " << floor;
      break;
    case FieldTransformKind::Affine:
      s << "affine: x_n = (x - " << offset << ") / " << scale;
      break;
    case FieldTransformKind::Identity:
      s << "identity (fields in model space)";
      break;
  }
  return s.str();
}

}  // namespace ds
