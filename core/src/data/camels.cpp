#include "diffuscope/data/camels.h"

#include <filesystem>

#include "diffuscope/data/text_table.h"
#include "diffuscope/error.h"

namespace ds {

namespace fs = std::filesystem;

CamelsMapName parse_camels_map_name(const std::string& file_name) {
  const std::string prefix = "Maps_";
  const auto z = file_name.rfind("_z=");
  if (file_name.rfind(prefix, 0) != 0 || z == std::string::npos || file_name.size() < 4 ||
      file_name.substr(file_name.size() - 4) != ".npy")
    throw InvalidArgument(file_name +
                          " is not a CAMELS map file name (Maps_{field}_{suite}_{set}_z=..npy)");
  const std::string core = file_name.substr(prefix.size(), z - prefix.size());
  const auto first = core.find('_'), last = core.rfind('_');
  if (first == std::string::npos || last == first)
    throw InvalidArgument(file_name +
                          " is not a CAMELS map file name (Maps_{field}_{suite}_{set}_z=..npy)");
  return {core.substr(0, first), core.substr(first + 1, last - first - 1), core.substr(last + 1)};
}

std::string find_camels_params(const std::string& maps_path) {
  const fs::path dir = fs::path(maps_path).parent_path();
  CamelsMapName name;
  try {
    name = parse_camels_map_name(fs::path(maps_path).filename().string());
  } catch (const InvalidArgument&) {
    return {};
  }
  for (const std::string& candidate :
       {"params_" + name.set + "_" + name.suite + ".txt", "params_" + name.suite + ".txt"}) {
    const fs::path p = dir / candidate;
    if (fs::exists(p)) return p.string();
  }
  return {};
}

CamelsMaps::CamelsMaps(const std::string& maps_path, std::string params_path)
    : maps_path_(maps_path), params_path_(std::move(params_path)) {
  name_ = [&] {
    try {
      return parse_camels_map_name(fs::path(maps_path).filename().string());
    } catch (const InvalidArgument& e) {
      throw FileError(maps_path, e.what());
    }
  }();
  maps_ = std::make_unique<NpyMap>(maps_path);
  const auto& shape = maps_->header().shape;
  if (shape.size() != 3 || shape[1] != shape[2] || shape[1] < 2)
    throw FileError(maps_path,
                    "expected maps of shape [M, N, N], got rank " + std::to_string(shape.size()));
  if (params_path_.empty()) params_path_ = find_camels_params(maps_path);
  if (params_path_.empty())
    throw FileError(maps_path, "no params file found next to it (params_" + name_.set + "_" +
                                   name_.suite + ".txt or params_" + name_.suite +
                                   ".txt); pass one with --params");
  const TextTable table = read_text_table(params_path_);
  if (table.columns() < 2)
    throw FileError(params_path_, "needs at least the columns Omega_m and sigma_8");
  const std::size_t sims = (shape[0] + kCamelsMapsPerSimulation - 1) / kCamelsMapsPerSimulation;
  if (shape[0] % kCamelsMapsPerSimulation != 0 || table.rows.size() != sims)
    throw FileError(params_path_, "has " + std::to_string(table.rows.size()) + " rows but " +
                                      maps_path + " holds " + std::to_string(shape[0]) +
                                      " maps, i.e. " + std::to_string(shape[0]) + " / " +
                                      std::to_string(kCamelsMapsPerSimulation) + " simulations");
  params_ = table.rows;
}

std::vector<float> CamelsMaps::map(std::size_t i) const {
  const std::size_t n = std::size_t(resolution());
  std::vector<float> out(n * n);
  maps_->read(i * n * n, n * n, out.data());
  return out;
}

std::vector<float> block_average(const std::vector<float>& field, int n, int f) {
  if (f < 1 || n % f != 0)
    throw InvalidArgument("downsample factor " + std::to_string(f) +
                          " must divide the resolution " + std::to_string(n));
  if (f == 1) return field;
  const int m = n / f;
  std::vector<float> out(std::size_t(m) * m);
  for (int I = 0; I < m; ++I)
    for (int J = 0; J < m; ++J) {
      double sum = 0.0;
      for (int i = 0; i < f; ++i)
        for (int j = 0; j < f; ++j) sum += field[std::size_t(I * f + i) * n + (J * f + j)];
      out[std::size_t(I) * m + J] = float(sum / (f * f));
    }
  return out;
}

Dataset CamelsMaps::to_dataset(const CamelsConvertOptions& o, const JobContext& job) const {
  if (o.first >= count())
    throw InvalidArgument("first map " + std::to_string(o.first) + " is beyond the " +
                          std::to_string(count()) + " maps of " + maps_path_);
  const std::size_t n_maps =
      o.count == 0 ? count() - o.first : std::min(o.count, count() - o.first);
  const int n = resolution();
  if (o.downsample < 1 || n % o.downsample != 0)
    throw InvalidArgument("--downsample " + std::to_string(o.downsample) +
                          " must divide the map resolution " + std::to_string(n));
  const int m = n / o.downsample;
  Dataset d;
  d.kind = SampleKind::Fields;
  d.shape = {n_maps, std::size_t(m), std::size_t(m)};
  d.samples.reserve(n_maps * m * m);
  d.param_names = {"Omega_m", "sigma_8", "A_SN1", "A_AGN1", "A_SN2", "A_AGN2"};
  const std::size_t k = std::min(params_.front().size(), d.param_names.size());
  d.param_names.resize(k);
  for (std::size_t i = o.first; i < o.first + n_maps; ++i) {
    job.check_cancelled();
    if ((i - o.first) % 64 == 0)
      job.report(std::int64_t(i - o.first), std::int64_t(n_maps), "reading maps");
    const auto values = block_average(map(i), n, o.downsample);
    d.samples.insert(d.samples.end(), values.begin(), values.end());
    const auto& row = params_[i / kCamelsMapsPerSimulation];
    d.params.insert(d.params.end(), row.begin(), row.begin() + std::ptrdiff_t(k));
  }
  job.report(std::int64_t(n_maps), std::int64_t(n_maps), "done");
  d.box_size = kCamelsBoxSize;
  d.set_kind = name_.set == "LH"   ? SetKind::LatinHypercube
               : name_.set == "1P" ? SetKind::OneParameter
               : name_.set == "CV" ? SetKind::CosmicVariance
                                   : SetKind::Other;
  d.source = "CAMELS";
  d.generator = fs::path(maps_path_).filename().string();
  const bool mass = name_.field == "Mgas" || name_.field == "Mcdm" || name_.field == "Mtot" ||
                    name_.field == "Mstar" || name_.field == "HI";
  d.units = mass ? "(Msun/h)/(Mpc/h)^2" : name_.field + " (CAMELS units)";
  return d;
}

}  // namespace ds
