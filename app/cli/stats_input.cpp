#include "stats_input.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/observation.h"
#include "diffuscope/error.h"

namespace dscli {

namespace {

ds::ObservedSample read_sample(const std::string& path, std::size_t index, ds::SampleKind kind) {
  ds::ObservationRequest request;
  request.index = long(index);
  request.kind = kind;
  return ds::read_observation(path, request);
}

double box_of(const std::string& path, const ds::ObservedSample& sample, double override_box) {
  if (override_box > 0.0) return override_box;
  if (sample.box_size > 0.0) return sample.box_size;
  throw ds::FileError(path, "the file carries no box size: give --box L (Mpc/h)");
}

}  // namespace

FieldInput read_field_input(const std::string& path, std::size_t index, double box) {
  const ds::ObservedSample sample = read_sample(path, index, ds::SampleKind::Fields);
  FieldInput in;
  in.field = sample.field();
  in.field.box_size = box_of(path, sample, box);
  in.units = sample.units;
  return in;
}

PointInput read_point_input(const std::string& path, std::size_t index, double box) {
  const ds::ObservedSample sample = read_sample(path, index, ds::SampleKind::Points);
  const std::size_t count = sample.n_points(), features = std::size_t(sample.n_features());
  // Column of a named feature: from the file's feature names when present, else the convention
  // (x y z vx vy vz log10_mass).
  auto column = [&](const std::string& name, std::size_t fallback) -> std::size_t {
    const auto& names = sample.feature_names;
    if (!names.empty()) {
      const auto it = std::find(names.begin(), names.end(), name);
      return it == names.end() ? features : std::size_t(it - names.begin());
    }
    return fallback;
  };
  PointInput in;
  in.points.box_size = box_of(path, sample, box);
  const double* v = sample.values.data();
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
