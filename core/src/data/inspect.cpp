#include "diffuscope/data/inspect.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "data/hdf5_file.h"
#include "diffuscope/data/camels.h"
#include "diffuscope/data/field.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/data/text_table.h"
#include "diffuscope/error.h"
#include "diffuscope/text.h"

namespace ds {

namespace fs = std::filesystem;

namespace {

std::string dtype_name(const std::string& npy) {
  if (npy == "<f4") return "float32";
  if (npy == "<f8") return "float64";
  if (npy == "<i4") return "int32";
  return "int64";
}

std::string describe_dataset(const Dataset& d) {
  std::ostringstream out;
  out << "kind: " << (d.kind == SampleKind::Fields ? "fields" : "point clouds") << "\n"
      << "shape: " << ds::shape_text(d.shape) << "\n"
      << "dtype: float32\n";
  if (d.kind == SampleKind::Points) {
    out << "features:";
    for (const auto& f : d.feature_names) out << " " << f;
    out << "\n";
  }
  for (std::size_t k = 0; k < d.param_count(); ++k) {
    double lo = 1e300, hi = -1e300;
    for (std::size_t i = 0; i < d.count(); ++i)
      lo = std::min(lo, d.param(i, k)), hi = std::max(hi, d.param(i, k));
    char line[160];
    std::snprintf(line, sizeof line, "param %s: [%.6g, %.6g]\n", d.param_names[k].c_str(), lo, hi);
    out << line;
  }
  out << "set: " << kSetKinds.name(d.set_kind) << "\n"
      << "source: " << d.source << (d.generator.empty() ? "" : " (" + d.generator + ")") << "\n"
      << "box: " << d.box_size << " Mpc/h\n"
      << "seed: " << d.seed << "\n";
  if (!d.units.empty()) out << "units: " << d.units << "\n";
  return out.str();
}

// Labels for a plain npy stack: a params table with one row per sample, Omega_m/sigma_8 by
// header name or the first two columns.
void attach_params(Dataset& d, const std::string& params_path) {
  if (params_path.empty()) return;
  const TextTable t = read_text_table(params_path);
  if (t.rows.size() != d.count())
    throw FileError(params_path, "has " + std::to_string(t.rows.size()) + " rows for " +
                                     std::to_string(d.count()) + " samples");
  int om = t.find_column({"Omega_m", "Om", "omega_m"}),
      s8 = t.find_column({"sigma_8", "s8", "sigma8"});
  if (om < 0 || s8 < 0) om = 0, s8 = 1;
  if (t.columns() < 2) throw FileError(params_path, "needs Omega_m and sigma_8 columns");
  d.param_names = {"Omega_m", "sigma_8"};
  for (const auto& row : t.rows) {
    d.params.push_back(row[std::size_t(om)]);
    d.params.push_back(row[std::size_t(s8)]);
  }
}

Dataset npy_to_dataset(const std::string& path, const ConvertOptions& o, bool points) {
  const NpyArray a = read_npy(path);
  Dataset d;
  if (points) {
    d.kind = SampleKind::Points;
    d.shape = a.shape.size() == 2 ? std::vector<std::size_t>{1, a.shape[0], a.shape[1]} : a.shape;
    if (d.shape[2] == 3)
      d.feature_names = halo_feature_names(HaloFeatures::Positions);
    else if (d.shape[2] == 7)
      d.feature_names = halo_feature_names(HaloFeatures::All);
    else
      for (std::size_t f = 0; f < d.shape[2]; ++f)
        d.feature_names.push_back("f" + std::to_string(f));
  } else {
    d.kind = SampleKind::Fields;
    d.shape = a.shape.size() == 2 ? std::vector<std::size_t>{1, a.shape[0], a.shape[1]} : a.shape;
  }
  std::vector<float> values(a.data.begin(), a.data.end());
  if (!points && o.downsample > 1) {
    const int n = int(d.shape[1]);
    std::vector<float> down;
    for (std::size_t i = 0; i < d.shape[0]; ++i) {
      std::vector<float> one(values.begin() + std::ptrdiff_t(i * n * n),
                             values.begin() + std::ptrdiff_t((i + 1) * n * n));
      const auto b = block_average(one, n, o.downsample);
      down.insert(down.end(), b.begin(), b.end());
    }
    values = std::move(down);
    d.shape[1] = d.shape[2] = std::size_t(n / o.downsample);
  }
  d.samples = std::move(values);
  d.box_size = o.box_size > 0 ? o.box_size : (points ? kQuijoteBoxSize : kDefaultFieldBoxSize);
  d.source = "npy";
  d.generator = fs::path(path).filename().string();
  attach_params(d, o.params_path);
  return d;
}

}  // namespace

InputKind classify_input(const std::string& path) {
  if (fs::is_directory(path)) return InputKind::QuijoteFolder;
  if (!fs::exists(path)) throw FileError(path, "does not exist");
  if (ds::ends_with(path, ".h5") || ds::ends_with(path, ".hdf5")) return InputKind::Dataset;
  if (!ds::ends_with(path, ".npy"))
    throw FileError(path, "unrecognised input (expected .h5, .npy or a Quijote folder)");
  const NpyHeader h = read_npy_header(path);
  try {
    parse_camels_map_name(fs::path(path).filename().string());
    return InputKind::CamelsMaps;
  } catch (const InvalidArgument&) {
  }
  if (h.shape.size() == 3 && h.shape[2] == 7 && h.shape[1] != 7) return InputKind::ProcessedClouds;
  if ((h.shape.size() == 2 || h.shape.size() == 3) &&
      h.shape[h.shape.size() - 1] == h.shape[h.shape.size() - 2])
    return InputKind::NpyFields;
  if ((h.shape.size() == 2 || h.shape.size() == 3) && h.shape.back() >= 3)
    return InputKind::NpyPoints;
  throw FileError(path, "array of shape " + ds::shape_text(h.shape) +
                            " is neither fields [M, N, N] / [N, N] nor points [P, F] / [M, P, F]");
}

std::string describe_input(const std::string& path) {
  std::ostringstream out;
  out << "file: " << path << "\n";
  switch (classify_input(path)) {
    case InputKind::Dataset:
      out << "format: Diffuscope HDF5 dataset\n" << describe_dataset(read_dataset_hdf5(path));
      break;
    case InputKind::CamelsMaps: {
      const CamelsMaps maps(path);
      out << "format: CAMELS maps (field " << maps.name().field << ", suite " << maps.name().suite
          << ", set " << maps.name().set << ")\n"
          << "kind: fields\nshape: [" << maps.count() << ", " << maps.resolution() << ", "
          << maps.resolution() << "]\ndtype: " << dtype_name(read_npy_header(path).dtype) << "\n"
          << "params file: " << maps.params_path() << " (" << maps.simulations().size()
          << " simulations x " << kCamelsMapsPerSimulation << " maps)\n";
      const char* names[] = {"Omega_m", "sigma_8", "A_SN1", "A_AGN1", "A_SN2", "A_AGN2"};
      for (std::size_t k = 0; k < std::min<std::size_t>(6, maps.simulations().front().size());
           ++k) {
        double lo = 1e300, hi = -1e300;
        for (const auto& row : maps.simulations())
          lo = std::min(lo, row[k]), hi = std::max(hi, row[k]);
        char line[160];
        std::snprintf(line, sizeof line, "param %s: [%.6g, %.6g]\n", names[k], lo, hi);
        out << line;
      }
      out << "box: " << kCamelsBoxSize << " Mpc/h\n";
      break;
    }
    case InputKind::ProcessedClouds:
    case InputKind::NpyFields:
    case InputKind::NpyPoints: {
      const NpyHeader h = read_npy_header(path);
      const InputKind kind = classify_input(path);
      out << "format: .npy" << (h.fortran_order ? " (Fortran order)" : "") << "\n"
          << "kind: "
          << (kind == InputKind::NpyFields ? "fields"
              : kind == InputKind::ProcessedClouds
                  ? "point clouds (processed halo catalogues: x y z vx vy vz M)"
                  : "point clouds")
          << "\nshape: " << ds::shape_text(h.shape) << "\ndtype: " << dtype_name(h.dtype) << "\n";
      break;
    }
    case InputKind::QuijoteFolder: {
      const fs::path base(path);
      std::size_t sims = 0;
      if (fs::is_directory(base / "groups_004"))
        sims = 1;
      else
        for (const auto& e : fs::directory_iterator(base))
          if (e.is_directory() && fs::is_directory(e.path() / "groups_004")) ++sims;
      if (sims == 0) throw FileError(path, "holds no Quijote simulation (no groups_004 folder)");
      out << "format: Quijote FoF catalogues (snapshot 004, z = 0)\nkind: point clouds\n"
          << "simulations: " << sims << "\nbox: " << kQuijoteBoxSize << " Mpc/h\n";
      if (sims == 1) {
        const fs::path sim = fs::is_directory(base / "groups_004") ? base : [&] {
          for (const auto& e : fs::directory_iterator(base))
            if (e.is_directory() && fs::is_directory(e.path() / "groups_004")) return e.path();
          return base;
        }();
        const auto halos = read_quijote_fof(sim.string(), 4);
        double lo = 1e300, hi = 0;
        for (double m : halos.masses) lo = std::min(lo, m), hi = std::max(hi, m);
        char line[160];
        std::snprintf(line, sizeof line, "halos: %zu, mass [%.4g, %.4g] Msun/h\n", halos.size(), lo,
                      hi);
        out << line;
      }
      break;
    }
  }
  return out.str();
}

Dataset load_as_dataset(const std::string& path, const ConvertOptions& o, const JobContext& job) {
  switch (classify_input(path)) {
    case InputKind::Dataset:
      return read_dataset_hdf5(path);
    case InputKind::CamelsMaps: {
      const CamelsMaps maps(path, o.params_path);
      return maps.to_dataset({o.first, o.count, o.downsample}, job);
    }
    case InputKind::ProcessedClouds:
      if (o.params_path.empty())
        throw FileError(path, "processed clouds need their cosmologies: pass --params FILE");
      return processed_clouds_to_dataset(path, o.params_path, o.features);
    case InputKind::NpyFields:
      return npy_to_dataset(path, o, false);
    case InputKind::NpyPoints:
      return npy_to_dataset(path, o, true);
    case InputKind::QuijoteFolder: {
      QuijoteConvertOptions q;
      q.n_halos = o.n_halos;
      q.features = o.features;
      q.snapshot = o.snapshot;
      q.params_path = o.params_path;
      return quijote_to_dataset(path, q, job);
    }
  }
  throw FileError(path, "unrecognised input");
}

}  // namespace ds
