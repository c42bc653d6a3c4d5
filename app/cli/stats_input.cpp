#include "stats_input.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/text.h"

namespace dscli {

namespace {

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + ")";
}

// The array behind FILE, its box size and (for HDF5) feature names and units.
struct RawInput {
  std::vector<std::size_t> shape;
  std::vector<double> values;
  double box = 0.0;
  ds::SampleKind kind = ds::SampleKind::Fields;
  bool from_dataset = false;
  std::vector<std::string> feature_names;
  std::string units;
};

RawInput read_raw(const std::string& path) {
  RawInput raw;
  if (ds::ends_with(path, ".npy")) {
    auto array = ds::read_npy(path);
    raw.shape = array.shape;
    raw.values = std::move(array.data);
    return raw;
  }
  const ds::Dataset d = ds::read_dataset_hdf5(path);
  raw.shape = d.shape;
  raw.values.assign(d.samples.begin(), d.samples.end());
  raw.box = d.box_size;
  raw.kind = d.kind;
  raw.from_dataset = true;
  raw.feature_names = d.feature_names;
  raw.units = d.units;
  return raw;
}

double box_of(const std::string& path, const RawInput& raw, double override_box) {
  if (override_box > 0.0) return override_box;
  if (raw.box > 0.0) return raw.box;
  throw ds::FileError(path, "the file carries no box size: give --box L (Mpc/h)");
}

// Picks sample `index` of a stack whose single samples have rank `sample_rank`.
std::vector<std::size_t> pick_sample(const std::string& path, const RawInput& raw,
                                     std::size_t sample_rank, std::size_t index,
                                     std::size_t& offset) {
  if (raw.shape.size() == sample_rank) {
    if (index != 0)
      throw ds::FileError(path, "holds a single sample " + shape_text(raw.shape) + ", --index " +
                                    std::to_string(index) + " does not exist");
    offset = 0;
    return raw.shape;
  }
  if (raw.shape.size() != sample_rank + 1)
    throw ds::FileError(path, "array of shape " + shape_text(raw.shape) + " has the wrong rank");
  if (index >= raw.shape[0])
    throw ds::FileError(path, "--index " + std::to_string(index) +
                                  " is out of range: the file holds " +
                                  std::to_string(raw.shape[0]) + " samples");
  std::vector<std::size_t> sample(raw.shape.begin() + 1, raw.shape.end());
  std::size_t size = 1;
  for (std::size_t s : sample) size *= s;
  offset = index * size;
  return sample;
}

}  // namespace

FieldInput read_field_input(const std::string& path, std::size_t index, double box) {
  const RawInput raw = read_raw(path);
  if (raw.from_dataset && raw.kind != ds::SampleKind::Fields)
    throw ds::FileError(path, "holds point clouds, not 2D fields");
  if (raw.shape.size() != 2 && raw.shape.size() != 3)
    throw ds::FileError(path, "fields must be (N, N) or (M, N, N), got " + shape_text(raw.shape));
  std::size_t offset = 0;
  const auto sample = pick_sample(path, raw, 2, index, offset);
  if (sample[0] != sample[1])
    throw ds::FileError(path, "the field is " + std::to_string(sample[0]) + " x " +
                                  std::to_string(sample[1]) + ", not square");
  FieldInput in;
  in.field.n = int(sample[0]);
  in.field.box_size = box_of(path, raw, box);
  in.field.values.assign(raw.values.begin() + std::ptrdiff_t(offset),
                         raw.values.begin() + std::ptrdiff_t(offset + sample[0] * sample[1]));
  in.units = raw.units;
  return in;
}

PointInput read_point_input(const std::string& path, std::size_t index, double box) {
  const RawInput raw = read_raw(path);
  if (raw.from_dataset && raw.kind != ds::SampleKind::Points)
    throw ds::FileError(path, "holds 2D fields, not point clouds");
  if (raw.shape.size() != 2 && raw.shape.size() != 3)
    throw ds::FileError(
        path, "points must be (P, F) or (M, P, F) with F >= 3, got " + shape_text(raw.shape));
  std::size_t offset = 0;
  const auto sample = pick_sample(path, raw, 2, index, offset);
  const std::size_t count = sample[0], features = sample[1];
  if (features < 3)
    throw ds::FileError(
        path, "points need at least 3 columns (x, y, z), got " + std::to_string(features));
  // Column of a named feature: from the HDF5 feature names when present, else the convention.
  auto column = [&](const std::string& name, std::size_t fallback) -> std::size_t {
    const auto& names = raw.feature_names;
    if (!names.empty()) {
      const auto it = std::find(names.begin(), names.end(), name);
      return it == names.end() ? features : std::size_t(it - names.begin());
    }
    return fallback;
  };
  PointInput in;
  in.points.box_size = box_of(path, raw, box);
  const double* v = raw.values.data() + offset;
  for (std::size_t i = 0; i < count; ++i)
    in.points.positions.push_back({v[i * features], v[i * features + 1], v[i * features + 2]});
  const std::size_t vx = column("vx", 3), vy = column("vy", 4), vz = column("vz", 5);
  if (vx < features && vy < features && vz < features)
    for (std::size_t i = 0; i < count; ++i)
      in.velocities.push_back({v[i * features + vx], v[i * features + vy], v[i * features + vz]});
  const std::size_t mass = column("log10_mass", 6);
  if (mass < features)
    for (std::size_t i = 0; i < count; ++i) in.log10_mass.push_back(v[i * features + mass]);
  return in;
}

void CsvTable::add_column(const std::string& name, const std::vector<double>& values) {
  columns_.push_back(Column{name, values, {}, false});
}

void CsvTable::add_column(const std::string& name, const std::vector<std::int64_t>& values) {
  columns_.push_back(Column{name, {}, values, true});
}

void CsvTable::write(const std::string& path) const {
  ds::write_file_atomically(path, [&](std::ostream& out) {
    for (std::size_t c = 0; c < columns_.size(); ++c) out << (c ? "," : "") << columns_[c].name;
    out << '\n';
    const std::size_t rows = columns_.empty()         ? 0
                             : columns_[0].is_integer ? columns_[0].integer.size()
                                                      : columns_[0].real.size();
    char cell[40];
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        const Column& col = columns_[c];
        if (col.is_integer)
          std::snprintf(cell, sizeof cell, "%lld", static_cast<long long>(col.integer[r]));
        else
          std::snprintf(cell, sizeof cell, "%.17g", col.real[r]);
        out << (c ? "," : "") << cell;
      }
      out << '\n';
    }
  });
}

}  // namespace dscli
