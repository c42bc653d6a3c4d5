#include "diffuscope/data/observation.h"

#include <filesystem>

#include "diffuscope/data/camels.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/text.h"

namespace ds {

namespace fs = std::filesystem;

namespace {

std::string counted(std::size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

const char* noun_of(SampleKind kind) {
  return kind == SampleKind::Fields ? "field" : "cloud";
}

// The sample `index` asks for out of `count`.
std::size_t pick(const std::string& path, long index, std::size_t count, SampleKind kind) {
  if (index < 0) {
    if (count != 1)
      throw FileError(path, "holds " + counted(count, noun_of(kind)) + "; choose one with --index");
    return 0;
  }
  if (std::size_t(index) >= count)
    throw FileError(path, "has " + counted(count, noun_of(kind)) + "; index " +
                              std::to_string(index) + " is out of range");
  return std::size_t(index);
}

void require_kind(const std::string& path, SampleKind holds, const ObservationRequest& r) {
  if (!r.kind || *r.kind == holds) return;
  throw FileError(path, holds == SampleKind::Points ? "holds point clouds, not 2D fields"
                                                    : "holds 2D fields, not point clouds");
}

// The checks every cloud gets, whatever file it came from.
void check_cloud(const std::string& path, std::size_t points, std::size_t features) {
  if (features < 3)
    throw FileError(path,
                    "points need at least 3 columns (x, y, z), got " + std::to_string(features));
  if (points < 1) throw FileError(path, "holds an empty cloud");
}

void check_square(const std::string& path, std::size_t rows, std::size_t columns) {
  if (rows != columns)
    throw FileError(path, "the field is " + std::to_string(rows) + " x " + std::to_string(columns) +
                              ", not square");
}

// Sample i of a Dataset (every kind but a plain .npy goes through one).
ObservedSample from_dataset(const std::string& path, Dataset d, long index, InputKind source,
                            const ObservationRequest& r, std::size_t count, std::size_t offset) {
  require_kind(path, d.kind, r);
  ObservedSample o;
  o.path = path;
  o.source = source;
  o.kind = d.kind;
  o.count = count;
  o.index = pick(path, index, count, d.kind);
  const std::size_t i = o.index - offset;  // the sample's place in d (CAMELS: d holds one map)
  if (d.kind == SampleKind::Fields) {
    check_square(path, d.shape[1], d.shape[2]);
    o.shape = {1, d.shape[1], d.shape[2]};
  } else {
    check_cloud(path, d.shape[1], d.shape[2]);
    o.shape = {d.shape[1], d.shape[2]};
    o.feature_names = d.feature_names;
  }
  o.values.assign(d.sample(i), d.sample(i) + d.sample_size());
  o.physical = true;
  o.box_size = d.box_size;
  o.units = d.units;
  o.generator = d.generator;
  o.param_names = d.param_names;
  if (d.param_count() > 0)
    o.params.assign(d.params.begin() + std::ptrdiff_t(i * d.param_count()),
                    d.params.begin() + std::ptrdiff_t((i + 1) * d.param_count()));
  return o;
}

// A plain .npy array: fields [N, N], [M, N, N], [M, C, N, N]; clouds [P, F], [M, P, F].
ObservedSample from_npy(const std::string& path, SampleKind kind, const ObservationRequest& r) {
  NpyArray a = read_npy(path);
  const auto& s = a.shape;
  ObservedSample o;
  o.path = path;
  o.kind = kind;
  o.source = kind == SampleKind::Fields ? InputKind::NpyFields : InputKind::NpyPoints;
  o.generator = fs::path(path).filename().string();
  if (kind == SampleKind::Fields) {
    if (s.size() < 2 || s.size() > 4)
      throw FileError(path, "shape " + shape_text(s) + " is not [N, N], [M, N, N] or [M, C, N, N]");
    check_square(path, s[s.size() - 2], s.back());
    o.count = s.size() == 2 ? 1 : s[0];
    o.shape = {s.size() == 4 ? s[1] : 1, s.back(), s.back()};
  } else {
    if (s.size() != 2 && s.size() != 3)
      throw FileError(
          path, "shape " + shape_text(s) + " is not a cloud [N, F] or a stack of clouds [M, N, F]");
    o.count = s.size() == 2 ? 1 : s[0];
    o.shape = {s[s.size() - 2], s.back()};
    check_cloud(path, o.shape[0], o.shape[1]);
  }
  o.index = pick(path, r.index, o.count, kind);
  const std::size_t size = o.shape[0] * o.shape[1] * (o.shape.size() == 3 ? o.shape[2] : 1);
  if (o.count == 1) {
    o.values = std::move(a.data);
  } else {
    const auto first = a.data.begin() + std::ptrdiff_t(o.index * size);
    o.values.assign(first, first + std::ptrdiff_t(size));
  }
  if (!r.params_path.empty()) {
    // The labels of a plain stack, as `data convert --params` reads them.
    ConvertOptions options;
    options.params_path = r.params_path;
    const Dataset labelled =
        load_as_dataset(path, options);  // validates the row count against the stack
    o.param_names = labelled.param_names;
    o.params.assign(
        labelled.params.begin() + std::ptrdiff_t(o.index * labelled.param_count()),
        labelled.params.begin() + std::ptrdiff_t((o.index + 1) * labelled.param_count()));
  }
  return o;
}

}  // namespace

std::optional<std::vector<double>> ObservedSample::truth() const {
  if (param_names.size() < 2 || param_names[0] != "Omega_m" || param_names[1] != "sigma_8")
    return std::nullopt;
  return std::vector<double>{params[0], params[1]};
}

Field2D ObservedSample::field(int channel) const {
  if (kind != SampleKind::Fields) throw FileError(path, "holds point clouds, not 2D fields");
  if (channel < 0) {
    if (channels() != 1)
      throw FileError(path, "holds fields of " + std::to_string(channels()) +
                                " channels; one channel is needed here");
    channel = 0;
  }
  if (channel >= channels())
    throw InvalidArgument(path + ": no channel " + std::to_string(channel));
  Field2D f;
  f.n = resolution();
  f.box_size = box_size;
  f.kind = field_kind_of_units(units);
  const std::size_t size = std::size_t(f.n) * std::size_t(f.n);
  f.values.assign(values.begin() + std::ptrdiff_t(std::size_t(channel) * size),
                  values.begin() + std::ptrdiff_t(std::size_t(channel + 1) * size));
  return f;
}

ObservedSample read_observation(const std::string& path, const ObservationRequest& r,
                                const JobContext& job) {
  if (!fs::exists(path)) throw FileError(path, "does not exist; cannot open it");
  // A rank-4 .npy stack of multi-channel fields is no kind classify_input names.
  if (ends_with(path, ".npy") && fs::is_regular_file(path) &&
      read_npy_header(path).shape.size() == 4) {
    require_kind(path, SampleKind::Fields, r);
    return from_npy(path, SampleKind::Fields, r);
  }
  InputKind source;
  try {
    source = classify_input(path);
  } catch (const FileError&) {
    // An array of neither shape: the kind asked for says what is wrong with it.
    if (!r.kind || !ends_with(path, ".npy") || !fs::is_regular_file(path)) throw;
    return from_npy(path, *r.kind, r);
  }
  ConvertOptions options;
  options.params_path = r.params_path;
  options.n_halos = r.n_halos;
  options.features = r.features;
  options.snapshot = r.snapshot;
  switch (source) {
    case InputKind::NpyFields:
    case InputKind::NpyPoints:
      // The shape decides only when the caller does not say ([N, N] fields of N >= 3 also read as
      // N clouds of N columns).
      return from_npy(
          path,
          r.kind.value_or(source == InputKind::NpyFields ? SampleKind::Fields : SampleKind::Points),
          r);
    case InputKind::ProcessedClouds:
      // Without a params file, a stack of 7-column clouds is a plain array.
      if (r.params_path.empty()) {
        require_kind(path, SampleKind::Points, r);
        return from_npy(path, SampleKind::Points, r);
      }
      break;
    case InputKind::CamelsMaps: {
      require_kind(path, SampleKind::Fields, r);
      // A stack holds up to 15 000 maps: read only the one asked for.
      const CamelsMaps maps(path, r.params_path);
      const std::size_t index = pick(path, r.index, maps.count(), SampleKind::Fields);
      return from_dataset(path, maps.to_dataset({index, 1, 1}, job), long(index), source, r,
                          maps.count(), index);
    }
    case InputKind::Dataset:
    case InputKind::QuijoteFolder:
      break;
  }
  Dataset d = load_as_dataset(path, options, job);
  const std::size_t count = d.count();
  return from_dataset(path, std::move(d), r.index, source, r, count, 0);
}

}  // namespace ds
