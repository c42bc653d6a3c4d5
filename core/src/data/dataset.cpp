#include "diffuscope/data/dataset.h"

#include <cmath>

#include "data/hdf5_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/text.h"

namespace ds {

namespace {
constexpr const char* kSchemaVersion = "1";

}  // namespace

std::size_t Dataset::sample_size() const {
  std::size_t n = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

void Dataset::validate(const std::string& origin) const {
  auto bad = [&](const std::string& why) { throw InvalidArgument(origin + ": " + why); };
  if (shape.size() != 3)
    bad("samples must have rank 3 ([M, N, N] or [M, P, F]), got " + ds::shape_text(shape));
  if (kind == SampleKind::Fields && shape[1] != shape[2])
    bad("fields must be square, got " + ds::shape_text(shape));
  if (kind == SampleKind::Points && feature_names.size() != shape[2])
    bad("point clouds have " + std::to_string(shape[2]) + " features but " +
        std::to_string(feature_names.size()) + " feature names");
  if (samples.size() != count() * sample_size())
    bad("holds " + std::to_string(samples.size()) + " values, shape " + ds::shape_text(shape) +
        " needs " + std::to_string(count() * sample_size()));
  if (params.size() != count() * param_count())
    bad(std::to_string(params.size()) + " parameter values for " + std::to_string(count()) +
        " samples and " + std::to_string(param_count()) + " parameter names");
  if (!(box_size > 0.0) || !std::isfinite(box_size)) bad("box size must be positive");
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (!std::isfinite(samples[i]))
      bad("sample " + std::to_string(i / sample_size()) + " holds a non-finite value (NaN or Inf)");
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!std::isfinite(params[i]))
      bad("parameters of sample " + std::to_string(i / param_count()) + " are not finite");
}

void write_dataset_hdf5(const std::string& path, const Dataset& d) {
  d.validate(path);
  write_path_atomically(path, [&](const std::string& temporary) {
    auto file = detail::Hdf5File::create(temporary);
    const std::string samples = d.kind == SampleKind::Fields ? "/fields" : "/points";
    file.write(samples, d.shape, d.samples.data(), true);
    if (d.kind == SampleKind::Points) file.set_attribute(samples, "feature_names", d.feature_names);
    file.write("/params", {d.count(), d.param_count()}, d.params.data());
    if (d.param_count() > 0) file.set_attribute("/params", "names", d.param_names);
    file.set_attribute("/", "box_size", d.box_size);
    file.set_attribute("/", "set_kind", std::string(kSetKinds.name(d.set_kind)));
    file.set_attribute("/", "source", d.source);
    file.set_attribute("/", "generator", d.generator);
    file.set_attribute("/", "seed", d.seed);
    file.set_attribute("/", "units", d.units);
    file.set_attribute("/", "version", std::string(kSchemaVersion));
    file.close();
  });
}

Dataset read_dataset_hdf5(const std::string& path) {
  auto file = detail::Hdf5File::open_read(path);
  Dataset d;
  const bool fields = file.exists("/fields"), points = file.exists("/points");
  if (fields == points)
    throw FileError(path, fields ? "holds both /fields and /points"
                                 : "is not a Diffuscope dataset: no /fields or /points");
  d.kind = fields ? SampleKind::Fields : SampleKind::Points;
  const std::string name = fields ? "/fields" : "/points";
  d.shape = file.shape(name);
  if (d.shape.size() != 3)
    throw FileError(path, name + " has rank " + std::to_string(d.shape.size()) + ", expected 3");
  d.samples = file.read_floats(name);
  if (points) d.feature_names = file.strings_attribute(name, "feature_names");
  if (!file.exists("/params")) throw FileError(path, "has no /params dataset");
  const auto pshape = file.shape("/params");
  if (pshape.size() != 2 || pshape[0] != d.shape[0])
    throw FileError(path, "/params has shape " + ds::shape_text(pshape) + ", expected [" +
                              std::to_string(d.shape[0]) + ", K]");
  d.params = file.read_doubles("/params");
  if (pshape[1] > 0) d.param_names = file.strings_attribute("/params", "names");
  d.box_size = file.double_attribute("/", "box_size");
  try {
    d.set_kind = kSetKinds.from_string(file.string_attribute("/", "set_kind"));
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  d.source = file.string_attribute("/", "source");
  d.generator = file.string_attribute("/", "generator");
  d.seed = file.uint_attribute("/", "seed");
  if (file.has_attribute("/", "units")) d.units = file.string_attribute("/", "units");
  try {
    d.validate(path);
  } catch (const InvalidArgument& e) {
    throw FileError(path, std::string(e.what()).substr(path.size() + 2));
  }
  return d;
}

std::map<std::vector<double>, std::vector<std::size_t>> group_by_parameters(const Dataset& dataset,
                                                                            std::size_t p) {
  std::map<std::vector<double>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < dataset.count(); ++i) {
    std::vector<double> theta(p);
    for (std::size_t k = 0; k < p; ++k) theta[k] = std::round(dataset.param(i, k) * 1e9) / 1e9;
    groups[theta].push_back(i);
  }
  return groups;
}

FieldKind field_kind_of_units(const std::string& units) {
  return units.find("contrast") != std::string::npos ? FieldKind::Contrast : FieldKind::Density;
}

Field2D dataset_field(const Dataset& dataset, std::size_t i) {
  if (dataset.kind != SampleKind::Fields || dataset.shape.size() != 3 ||
      dataset.shape[1] != dataset.shape[2])
    throw InvalidArgument("the dataset does not hold square 2D fields");
  if (i >= dataset.count())
    throw InvalidArgument("field " + std::to_string(i) + " is out of range: the dataset holds " +
                          std::to_string(dataset.count()));
  Field2D field;
  field.n = int(dataset.shape[1]);
  field.box_size = dataset.box_size;
  field.kind = field_kind_of_units(dataset.units);
  const float* v = dataset.sample(i);
  field.values.assign(v, v + dataset.sample_size());
  return field;
}

}  // namespace ds
