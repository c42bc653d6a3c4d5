// ArviZ InferenceData on disk: HDF5 laid out as netCDF-4 (formats.md). netCDF sees an HDF5
// dataset as a dimension when it is a dimension scale, and a variable's dimensions through the
// scales attached to its axes; without them xarray invents phony_dim_N names and ArviZ cannot
// find `chain` and `draw`. Creation order of links and attributes is tracked, as netCDF-4 itself
// does, so netCDF tools may also append to the file.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>

#include "data/hdf5_file.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "infer/chains/chain_stats.h"

#ifndef DS_VERSION
#define DS_VERSION "unknown"
#endif

namespace ds {

namespace {

using detail::Hdf5Handle;
constexpr unsigned kCreationOrder = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;

// "2024-05-01T12:34:56.123456+00:00", as Python's datetime.now(timezone.utc).isoformat().
std::string iso8601_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%06lld+00:00", static_cast<long long>(micros));
  return text;
}

class NetcdfWriter {
 public:
  explicit NetcdfWriter(std::string path) : path_(std::move(path)) {}

  void check(bool ok, const std::string& what) const {
    if (!ok) throw FileError(path_, "cannot write " + what);
  }

  Hdf5Handle create_file(const std::string& temporary) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported as FileError, not on stderr
    Hdf5Handle fcpl(H5Pcreate(H5P_FILE_CREATE));
    check(H5Pset_link_creation_order(fcpl.get(), kCreationOrder) >= 0 &&
              H5Pset_attr_creation_order(fcpl.get(), kCreationOrder) >= 0,
          "file properties");
    Hdf5Handle file(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT));
    check(file.valid(), "the HDF5 file");
    return file;
  }

  Hdf5Handle create_group(hid_t parent, const std::string& name) {
    Hdf5Handle gcpl(H5Pcreate(H5P_GROUP_CREATE));
    H5Pset_link_creation_order(gcpl.get(), kCreationOrder);
    H5Pset_attr_creation_order(gcpl.get(), kCreationOrder);
    Hdf5Handle group(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
    check(group.valid(), "group " + name);
    return group;
  }

  Hdf5Handle dataset(hid_t group, const std::string& name, const std::vector<hsize_t>& dims,
                     hid_t file_type, hid_t memory_type, const void* data) {
    Hdf5Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr));
    Hdf5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_attr_creation_order(dcpl.get(), kCreationOrder);
    Hdf5Handle set(H5Dcreate2(group, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                              H5P_DEFAULT));
    check(set.valid(), "dataset " + name);
    check(H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
          "dataset " + name + " (disk full?)");
    return set;
  }

  void attribute(hid_t object, const std::string& key, const std::string& value) {
    Hdf5Handle type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    Hdf5Handle space(H5Screate(H5S_SCALAR));
    const char* p = value.c_str();
    write_attribute(object, key, type.get(), type.get(), space.get(), &p);
  }
  void attribute(hid_t object, const std::string& key, const std::vector<double>& values) {
    const hsize_t n = values.size();
    Hdf5Handle space(H5Screate_simple(1, &n, nullptr));
    write_attribute(object, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), values.data());
  }
  void attribute(hid_t object, const std::string& key, std::uint64_t value) {
    Hdf5Handle space(H5Screate(H5S_SCALAR));
    write_attribute(object, key, H5T_STD_U64LE, H5T_NATIVE_UINT64, space.get(), &value);
  }

  void provenance(hid_t object, const std::string& created_at) {
    attribute(object, "created_at", created_at);
    attribute(object, "inference_library", std::string("diffuscope"));
    attribute(object, "inference_library_version", std::string(DS_VERSION));
  }

  // The coordinate variables chain = 0..C-1 and draw = 0..D-1 of one group, made dimension
  // scales named after themselves.
  std::pair<Hdf5Handle, Hdf5Handle> coordinates(hid_t group, std::size_t chains,
                                                std::size_t draws) {
    auto scale = [&](const char* name, std::size_t n) {
      std::vector<std::int64_t> index(n);
      for (std::size_t i = 0; i < n; ++i) index[i] = std::int64_t(i);
      Hdf5Handle set =
          dataset(group, name, {hsize_t(n)}, H5T_STD_I64LE, H5T_NATIVE_INT64, index.data());
      check(H5DSset_scale(set.get(), name) >= 0, std::string("dimension scale ") + name);
      return set;
    };
    Hdf5Handle chain = scale("chain", chains);
    Hdf5Handle draw = scale("draw", draws);
    return {std::move(chain), std::move(draw)};
  }

  void attach(hid_t variable, const std::pair<Hdf5Handle, Hdf5Handle>& scales,
              const std::string& name) {
    check(H5DSattach_scale(variable, scales.first.get(), 0) >= 0 &&
              H5DSattach_scale(variable, scales.second.get(), 1) >= 0,
          "dimension scales of " + name);
  }

 private:
  void write_attribute(hid_t object, const std::string& key, hid_t file_type, hid_t memory_type,
                       hid_t space, const void* data) {
    Hdf5Handle a(H5Acreate2(object, key.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT));
    check(a.valid() && H5Awrite(a.get(), memory_type, data) >= 0, "attribute " + key);
  }

  std::string path_;
};

}  // namespace

void write_arviz_netcdf(const std::string& path, const Chains& chains) {
  validate_chains(chains);
  for (const auto& name : chains.names)
    if (name == "chain" || name == "draw" || name.find('/') != std::string::npos || name == ".")
      throw InvalidArgument("chains: parameter name '" + name +
                            "' cannot be a netCDF variable (a dimension name, or contains '/')");
  const std::size_t k = chains.parameters(), n = chains.chains * chains.draws;
  const std::vector<hsize_t> dims{hsize_t(chains.chains), hsize_t(chains.draws)};
  const std::string created_at = iso8601_now();
  write_path_atomically(path, [&](const std::string& temporary) {
    NetcdfWriter w(path);
    Hdf5Handle file = w.create_file(temporary);
    w.provenance(file.get(), created_at);
    if (!chains.sampler.empty()) w.attribute(file.get(), "sampler", chains.sampler);
    w.attribute(file.get(), "seed", chains.seed);
    if (!chains.settings_json.empty())
      w.attribute(file.get(), "settings_json", chains.settings_json);
    {
      Hdf5Handle group = w.create_group(file.get(), "posterior");
      w.provenance(group.get(), created_at);
      const auto scales = w.coordinates(group.get(), chains.chains, chains.draws);
      std::vector<double> column(n);
      for (std::size_t p = 0; p < k; ++p) {
        for (std::size_t i = 0; i < n; ++i) column[i] = chains.values[i * k + p];
        const std::string& name = chains.names[p];
        Hdf5Handle set =
            w.dataset(group.get(), name, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, column.data());
        w.attach(set.get(), scales, name);
        const bool has_label = !chains.labels.empty() && !chains.labels[p].empty();
        w.attribute(set.get(), "label", has_label ? chains.labels[p] : default_label(name));
        if (!chains.ranges.empty())
          w.attribute(set.get(), "prior_range",
                      std::vector<double>{chains.ranges[p].first, chains.ranges[p].second});
      }
    }
    {
      Hdf5Handle group = w.create_group(file.get(), "sample_stats");
      w.provenance(group.get(), created_at);
      const auto scales = w.coordinates(group.get(), chains.chains, chains.draws);
      for (std::size_t s = 0; s < detail::kChainStats.size(); ++s) {
        const auto values = detail::chain_stat_values(chains, s);
        if (values.empty()) continue;
        const auto& stat = detail::kChainStats[s];
        Hdf5Handle set;
        if (stat.kind == detail::ChainStatKind::Real) {
          set = w.dataset(group.get(), stat.name, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          values.data());
        } else if (stat.kind == detail::ChainStatKind::Int32) {
          const std::vector<std::int32_t> ints(values.begin(), values.end());
          set =
              w.dataset(group.get(), stat.name, dims, H5T_STD_I32LE, H5T_NATIVE_INT32, ints.data());
        } else {
          // xarray's convention for booleans in netCDF: int8 plus dtype = "bool".
          const std::vector<std::int8_t> flags(values.begin(), values.end());
          set =
              w.dataset(group.get(), stat.name, dims, H5T_STD_I8LE, H5T_NATIVE_INT8, flags.data());
          w.attribute(set.get(), "dtype", std::string("bool"));
        }
        w.attach(set.get(), scales, stat.name);
      }
    }
    w.check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0, "the file (flush failed)");
  });
}

namespace {

// Names of the datasets directly in a group, in creation order when the file tracks it.
std::vector<std::string> datasets_in(hid_t group) {
  std::vector<std::string> links;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &links) < 0) {
    links.clear();
    H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &links);
  }
  std::vector<std::string> out;
  for (const auto& name : links) {
    Hdf5Handle object(H5Oopen(group, name.c_str(), H5P_DEFAULT));
    if (object.valid() && H5Iget_type(object.get()) == H5I_DATASET &&
        H5DSis_scale(object.get()) <= 0)
      out.push_back(name);
  }
  return out;
}

// A [low, high] attribute such as prior_range; empty when absent or of another size.
std::vector<double> pair_attribute(hid_t file, const std::string& object, const std::string& key) {
  if (H5Aexists_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT) <= 0) return {};
  Hdf5Handle a(H5Aopen_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  Hdf5Handle type(H5Aget_type(a.get()));
  if (H5Tget_class(type.get()) != H5T_FLOAT && H5Tget_class(type.get()) != H5T_INTEGER) return {};
  Hdf5Handle space(H5Aget_space(a.get()));
  // Only [low, high] pairs are read: a hostile dataspace size is never allocated.
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n != 2) return {};
  std::vector<double> out(2);
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, out.data()) < 0) return {};
  return out;
}

}  // namespace

Chains read_arviz_netcdf(const std::string& path) {
  auto f = detail::Hdf5File::open_read(path);
  if (!f.exists("/posterior"))
    throw FileError(path, "has no group posterior (not an ArviZ InferenceData file)");
  Chains out;
  std::vector<std::size_t> shape;
  {
    Hdf5Handle group(H5Gopen2(f.id(), "/posterior", H5P_DEFAULT));
    if (!group.valid()) throw FileError(path, "posterior is not a group");
    for (const auto& name : datasets_in(group.get())) {
      const std::string object = "/posterior/" + name;
      const auto s = f.shape(object);
      if (s.size() != 2) continue;  // variables with extra dimensions are not scalar parameters
      if (shape.empty()) shape = s;
      if (s != shape)
        throw FileError(path, "posterior variable " + name + " has shape [" + std::to_string(s[0]) +
                                  ", " + std::to_string(s[1]) + "], the others [" +
                                  std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + "]");
      const auto values = f.read_doubles(object);
      for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
          throw FileError(path, "posterior variable " + name + " is not finite at chain " +
                                    std::to_string(i / s[1]) + ", draw " +
                                    std::to_string(i % s[1]));
      out.names.push_back(name);
      out.labels.push_back(f.has_attribute(object, "label") ? f.string_attribute(object, "label")
                                                            : default_label(name));
      const auto range = pair_attribute(f.id(), object, "prior_range");
      const double inf = std::numeric_limits<double>::infinity();
      out.ranges.emplace_back(range.size() == 2 ? range[0] : -inf,
                              range.size() == 2 ? range[1] : inf);
      out.values.insert(out.values.end(), values.begin(), values.end());  // [param][chain,draw]
    }
  }
  if (out.names.empty()) throw FileError(path, "posterior group holds no [chain, draw] variables");
  out.chains = shape[0];
  out.draws = shape[1];
  // Reorder [param][chain, draw] to Chains' [chain, draw, param].
  const std::size_t k = out.names.size(), n = out.chains * out.draws;
  std::vector<double> interleaved(n * k);
  for (std::size_t p = 0; p < k; ++p)
    for (std::size_t i = 0; i < n; ++i) interleaved[i * k + p] = out.values[p * n + i];
  out.values = std::move(interleaved);
  if (std::all_of(out.ranges.begin(), out.ranges.end(),
                  [](const auto& r) { return std::isinf(r.first) && std::isinf(r.second); }))
    out.ranges.clear();

  for (std::size_t s = 0; s < detail::kChainStats.size(); ++s) {
    const std::string object = std::string("/sample_stats/") + detail::kChainStats[s].name;
    if (!f.exists(object) || f.shape(object) != shape) continue;
    detail::chain_set_stat(out, s, f.read_doubles(object));
  }
  if (f.has_attribute("/", "sampler")) out.sampler = f.string_attribute("/", "sampler");
  if (f.has_attribute("/", "seed")) out.seed = f.uint_attribute("/", "seed");
  if (f.has_attribute("/", "settings_json"))
    out.settings_json = f.string_attribute("/", "settings_json");
  return out;
}

}  // namespace ds
