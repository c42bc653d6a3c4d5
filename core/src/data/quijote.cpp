#include "diffuscope/data/quijote.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "diffuscope/data/npy.h"
#include "diffuscope/data/text_table.h"
#include "diffuscope/error.h"

namespace ds {

namespace fs = std::filesystem;

namespace {

std::string three_digits(int snapshot) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%03d", snapshot);
  return buffer;
}

// Reads little-endian values from one group_tab file, tracking what is left.
class BinaryReader {
 public:
  explicit BinaryReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw FileError(path, "cannot open file (missing or unreadable)");
    size_ = fs::file_size(path);
  }
  template <class T>
  std::vector<T> read(std::size_t n, const char* what) {
    // A count from a header is checked against what the file holds before it is allocated.
    if (n > (size_ - consumed_) / sizeof(T))
      throw FileError(path_, "truncated while reading " + std::string(what) + ": " +
                                 std::to_string(n) + " values do not fit in the " +
                                 std::to_string(size_ - consumed_) + " bytes left");
    std::vector<T> out(n);
    in_.read(reinterpret_cast<char*>(out.data()), std::streamsize(n * sizeof(T)));
    if (std::size_t(in_.gcount()) != n * sizeof(T))
      throw FileError(path_, std::string("truncated while reading ") + what);
    consumed_ += n * sizeof(T);
    return out;
  }
  template <class T>
  T read_one(const char* what) {
    return read<T>(1, what)[0];
  }
  std::size_t size() const { return size_; }
  void require_consumed() const {
    if (consumed_ != size_)
      throw FileError(
          path_, "has " + std::to_string(size_ - consumed_) +
                     " bytes after the last halo block (not a group_tab file of this layout?)");
  }

 private:
  std::string path_;
  std::ifstream in_;
  std::size_t size_ = 0, consumed_ = 0;
};

std::string find_params_file(const fs::path& root, const std::string& given) {
  if (!given.empty()) return given;
  for (const fs::path& p :
       {root / "latin_hypercube_params.txt", root.parent_path() / "latin_hypercube_params.txt"})
    if (fs::exists(p)) return p.string();
  throw FileError(root.string(),
                  "no latin_hypercube_params.txt here or in the parent folder; pass --params");
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void append_halos(Dataset& d, const HaloCatalogue& h, HaloFeatures features) {
  for (std::size_t i = 0; i < h.size(); ++i) {
    for (int a = 0; a < 3; ++a) d.samples.push_back(float(h.positions[i][a]));
    if (features == HaloFeatures::All) {
      for (int a = 0; a < 3; ++a) d.samples.push_back(float(h.velocities[i][a]));
      d.samples.push_back(float(std::log10(h.masses[i])));
    }
  }
}

// Omega_m and sigma_8 columns of a cosmology table: by header name, else Quijote's LH order.
std::pair<int, int> cosmology_columns(const TextTable& t, const std::string& path) {
  int om = t.find_column({"Omega_m", "Om", "omegam", "omega_m", "Omm"});
  int s8 = t.find_column({"sigma_8", "s8", "sigma8"});
  if (om < 0 && s8 < 0 && t.columns() == 5) return {0, 4};  // Omega_m Omega_b h n_s sigma_8
  if (om < 0 || s8 < 0)
    throw FileError(path,
                    "cannot tell which columns hold Omega_m and sigma_8 (name them in a header)");
  return {om, s8};
}

}  // namespace

double quijote_snapshot_redshift(int snapshot) {
  static const double z[] = {3.0, 2.0, 1.0, 0.5, 0.0};
  if (snapshot < 0 || snapshot > 4)
    throw InvalidArgument("Quijote snapshot " + std::to_string(snapshot) + " is not in 0..4");
  return z[snapshot];
}

std::vector<std::string> halo_feature_names(HaloFeatures features) {
  if (features == HaloFeatures::Positions) return {"x", "y", "z"};
  return {"x", "y", "z", "vx", "vy", "vz", "log10_mass"};
}

HaloCatalogue read_quijote_fof(const std::string& simulation_dir, int snapshot) {
  const double z = quijote_snapshot_redshift(snapshot);
  const std::string nnn = three_digits(snapshot);
  const fs::path dir = fs::path(simulation_dir) / ("groups_" + nnn);
  if (!fs::is_directory(dir)) throw FileError(dir.string(), "no such FoF folder");
  HaloCatalogue halos;
  std::uint32_t n_files = 1;
  std::int64_t total_groups = -1;
  for (std::uint32_t file = 0; file < n_files; ++file) {
    const std::string path = (dir / ("group_tab_" + nnn + "." + std::to_string(file))).string();
    if (!fs::exists(path))
      throw FileError(path, "missing sub-file " + std::to_string(file) + " of " +
                                std::to_string(n_files) + " of the catalogue");
    BinaryReader in(path);
    const auto n = in.read_one<std::int32_t>("the header");
    const auto total = in.read_one<std::int32_t>("the header");
    in.read_one<std::int32_t>("the header");   // Nids
    in.read_one<std::uint64_t>("the header");  // TotNids
    const auto files = in.read_one<std::uint32_t>("the header");
    if (n < 0 || total < 0 || files == 0 || files > 100000)
      throw FileError(path, "implausible header (Ngroups " + std::to_string(n) + ", Nfiles " +
                                std::to_string(files) + ")");
    if (file == 0) {
      n_files = files;
      total_groups = total;
    } else if (files != n_files || total != total_groups) {
      throw FileError(path, "header disagrees with group_tab_" + nnn + ".0");
    }
    const std::size_t g = std::size_t(n);
    // Header, then per group: GroupLen, GroupOffset, GroupMass (4 bytes each), GroupPos and
    // GroupVel (3 x 4), GroupTLen and GroupTMass (6 x 4).
    constexpr std::size_t kHeaderBytes = 24, kGroupBytes = 84;
    const std::size_t expected = kHeaderBytes + kGroupBytes * g;  // g < 2^31: no overflow
    if (in.size() < expected)
      throw FileError(path, "truncated: the header claims " + std::to_string(g) + " groups (" +
                                std::to_string(expected) + " bytes), the file has " +
                                std::to_string(in.size()) + " bytes");
    const auto len = in.read<std::int32_t>(g, "GroupLen");
    in.read<std::int32_t>(g, "GroupOffset");
    const auto mass = in.read<float>(g, "GroupMass");
    const auto pos = in.read<float>(3 * g, "GroupPos");
    const auto vel = in.read<float>(3 * g, "GroupVel");
    in.read<float>(6 * g, "GroupTLen");
    in.read<float>(6 * g, "GroupTMass");
    in.require_consumed();
    for (std::size_t i = 0; i < g; ++i) {
      halos.lengths.push_back(len[i]);
      halos.masses.push_back(double(mass[i]) * 1e10);
      std::array<double, 3> p{}, v{};
      for (int a = 0; a < 3; ++a) {
        p[a] = std::fmod(double(pos[3 * i + a]) / 1000.0, kQuijoteBoxSize);  // kpc/h -> Mpc/h
        if (p[a] < 0) p[a] += kQuijoteBoxSize;
        v[a] = double(vel[3 * i + a]) * (1.0 + z);  // to peculiar km/s
      }
      halos.positions.push_back(p);
      halos.velocities.push_back(v);
    }
  }
  if (std::int64_t(halos.size()) != total_groups)
    throw FileError(dir.string(), "sub-files hold " + std::to_string(halos.size()) +
                                      " halos but the header promises " +
                                      std::to_string(total_groups));
  for (std::size_t i = 0; i < halos.size(); ++i)
    if (!std::isfinite(halos.masses[i]) || !(halos.masses[i] > 0.0))
      throw FileError(dir.string(),
                      "halo " + std::to_string(i) + " has a non-positive or non-finite mass");
  return halos;
}

HaloCatalogue heaviest(const HaloCatalogue& h, std::size_t n) {
  std::vector<std::size_t> order(h.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return h.masses[a] > h.masses[b]; });
  order.resize(std::min(n, order.size()));
  HaloCatalogue out;
  for (std::size_t i : order) {
    out.positions.push_back(h.positions[i]);
    out.velocities.push_back(h.velocities[i]);
    out.masses.push_back(h.masses[i]);
    out.lengths.push_back(h.lengths[i]);
  }
  return out;
}

Dataset quijote_to_dataset(const std::string& root, const QuijoteConvertOptions& o,
                           const JobContext& job) {
  const fs::path base(root);
  if (!fs::is_directory(base)) throw FileError(root, "is not a folder");
  const std::string nnn = three_digits(o.snapshot);
  std::vector<std::pair<std::size_t, fs::path>> sims;  // (params row, folder)
  if (fs::is_directory(base / ("groups_" + nnn))) {
    const std::string name = base.filename().string();
    sims.push_back({is_number(name) ? std::stoul(name) : 0, base});
  } else {
    for (const auto& entry : fs::directory_iterator(base))
      if (entry.is_directory() && is_number(entry.path().filename().string()) &&
          fs::is_directory(entry.path() / ("groups_" + nnn)))
        sims.push_back({std::stoul(entry.path().filename().string()), entry.path()});
    std::sort(sims.begin(), sims.end());
  }
  if (sims.empty())
    throw FileError(root, "holds no Quijote simulation (no groups_" + nnn +
                              " folder in it or in numbered sub-folders)");
  const std::string params_path = find_params_file(base, o.params_path);
  const TextTable table = read_text_table(params_path);
  const auto [om, s8] = cosmology_columns(table, params_path);

  Dataset d;
  d.kind = SampleKind::Points;
  d.feature_names = halo_feature_names(o.features);
  d.shape = {sims.size(), o.n_halos, d.feature_names.size()};
  d.param_names = {"Omega_m", "sigma_8"};
  for (std::size_t s = 0; s < sims.size(); ++s) {
    job.check_cancelled();
    job.report(std::int64_t(s), std::int64_t(sims.size()), "reading " + sims[s].second.string());
    const auto [row, folder] = sims[s];
    if (row >= table.rows.size())
      throw FileError(params_path, "has " + std::to_string(table.rows.size()) +
                                       " rows; simulation " + std::to_string(row) + " has none");
    const HaloCatalogue all = read_quijote_fof(folder.string(), o.snapshot);
    if (all.size() < o.n_halos)
      throw FileError(folder.string(), "has " + std::to_string(all.size()) +
                                           " halos, fewer than the " + std::to_string(o.n_halos) +
                                           " requested");
    append_halos(d, heaviest(all, o.n_halos), o.features);
    d.params.push_back(table.rows[row][std::size_t(om)]);
    d.params.push_back(table.rows[row][std::size_t(s8)]);
  }
  job.report(std::int64_t(sims.size()), std::int64_t(sims.size()), "done");
  d.box_size = kQuijoteBoxSize;
  d.set_kind = sims.size() > 1 ? SetKind::LatinHypercube : SetKind::Single;
  d.source = "Quijote";
  d.generator = "FoF snapshot " + nnn;
  d.units = "Mpc/h, km/s, log10(Msun/h)";
  return d;
}

Dataset processed_clouds_to_dataset(const std::string& npy_path, const std::string& params_path,
                                    HaloFeatures features) {
  const NpyArray a = read_npy(npy_path);
  if (a.shape.size() != 3 || a.shape[2] != 7)
    throw FileError(npy_path, "expected processed clouds of shape [sims, halos, 7]");
  const TextTable table = read_text_table(params_path);
  if (table.rows.size() != a.shape[0])
    throw FileError(params_path, "has " + std::to_string(table.rows.size()) + " rows but " +
                                     npy_path + " holds " + std::to_string(a.shape[0]) + " clouds");
  const auto [om, s8] = cosmology_columns(table, params_path);
  Dataset d;
  d.kind = SampleKind::Points;
  d.feature_names = halo_feature_names(features);
  d.shape = {a.shape[0], a.shape[1], d.feature_names.size()};
  d.param_names = {"Omega_m", "sigma_8"};
  for (std::size_t s = 0; s < a.shape[0]; ++s) {
    HaloCatalogue h;
    for (std::size_t i = 0; i < a.shape[1]; ++i) {
      const double* row = a.data.data() + (s * a.shape[1] + i) * 7;
      h.positions.push_back({row[0], row[1], row[2]});
      h.velocities.push_back({row[3], row[4], row[5]});
      if (!(row[6] > 0.0))
        throw FileError(npy_path, "cloud " + std::to_string(s) + " halo " + std::to_string(i) +
                                      " has a non-positive mass");
      h.masses.push_back(row[6] > 100.0 ? row[6] : std::pow(10.0, row[6]));
    }
    append_halos(d, h, features);
    d.params.push_back(table.rows[s][std::size_t(om)]);
    d.params.push_back(table.rows[s][std::size_t(s8)]);
  }
  d.box_size = kQuijoteBoxSize;
  d.set_kind = SetKind::LatinHypercube;
  d.source = "Quijote (processed clouds)";
  d.generator = fs::path(npy_path).filename().string();
  d.units = "Mpc/h, km/s, log10(Msun/h)";
  return d;
}

}  // namespace ds
