#include "diffuscope/batch/field_file.h"

#include <filesystem>

#include "data/hdf5_file.h"
#include "diffuscope/data/camels.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"

namespace ds {

namespace fs = std::filesystem;

namespace {

bool is_hdf5(const std::string& path) {
  return H5Fis_hdf5(path.c_str()) > 0;
}

}  // namespace

std::size_t count_fields(const std::string& path) {
  if (!fs::exists(path)) throw FileError(path, "does not exist");
  if (is_hdf5(path)) {
    const detail::Hdf5File file = detail::Hdf5File::open_read(path);
    if (!file.exists("/fields"))
      throw FileError(path, file.exists("/points")
                                ? "holds point clouds; batch tasks take 2D fields"
                                : "has no /fields dataset");
    const std::vector<std::size_t> shape = file.shape("/fields");
    if (shape.size() != 3 || shape[1] != shape[2])
      throw FileError(path, "/fields is not a stack of square fields [M, N, N]");
    return shape[0];
  }
  const NpyHeader header = read_npy_header(path);
  const auto& s = header.shape;
  if (s.size() == 2 && s[0] == s[1]) return 1;
  if (s.size() == 3 && s[1] == s[2]) return s[0];
  if (s.size() == 4 && s[1] == 1 && s[2] == s[3]) return s[0];
  throw FileError(path, "is not a field [N, N] or a stack [M, N, N] / [M, 1, N, N]");
}

std::vector<std::array<double, 2>> field_truths(const std::string& path,
                                                const std::vector<std::size_t>& indices) {
  std::vector<std::array<double, 2>> out;
  if (is_hdf5(path)) {
    const detail::Hdf5File file = detail::Hdf5File::open_read(path);
    if (!file.exists("/params")) return out;
    const std::vector<std::size_t> shape = file.shape("/params");
    const std::vector<std::string> names = file.has_attribute("/params", "names")
                                               ? file.strings_attribute("/params", "names")
                                               : std::vector<std::string>{};
    if (shape.size() != 2 || shape[1] < 2 || names.size() < 2 || names[0] != "Omega_m" ||
        names[1] != "sigma_8")
      return out;
    const std::vector<double> params = file.read_doubles("/params");
    for (std::size_t i : indices) {
      if (i >= shape[0]) throw FileError(path, "/params has no row " + std::to_string(i));
      out.push_back({params[i * shape[1]], params[i * shape[1] + 1]});
    }
    return out;
  }
  if (find_camels_params(path).empty()) return out;
  const CamelsMaps maps(path);
  for (std::size_t i : indices) {
    const std::size_t simulation = i / kCamelsMapsPerSimulation;
    if (simulation >= maps.simulations().size())
      throw FileError(maps.params_path(), "has no row for map " + std::to_string(i));
    out.push_back({maps.simulations()[simulation][0], maps.simulations()[simulation][1]});
  }
  return out;
}

}  // namespace ds
