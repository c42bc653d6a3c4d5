// Writers of small input files in the formats Diffuscope reads (CAMELS, Quijote, raw .npy
// variants), for the reader tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dstest {

// A .npy file with any header dict, version and raw payload: lets tests make v2/v3, Fortran
// order, other dtypes and broken files.
inline void write_raw_npy(const std::string& path, const std::string& dict,
                          const std::string& payload, int version = 1) {
  std::string header = dict;
  const std::size_t preamble = version == 1 ? 10 : 12;
  const std::size_t total = ((preamble + header.size() + 1 + 63) / 64) * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY", 6);
  const char v[2] = {char(version), 0};
  out.write(v, 2);
  const std::uint32_t len = std::uint32_t(header.size());
  out.write(reinterpret_cast<const char*>(&len), version == 1 ? 2 : 4);
  out << header << payload;
}

template <class T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// One Quijote group_tab sub-file with the given halos (masses in 1e10 Msun/h, positions kpc/h).
struct FofHalo {
  float mass;
  float pos[3];
  float vel[3];
};

inline void write_group_tab(const std::string& path, const std::vector<FofHalo>& halos,
                            std::int32_t total, std::uint32_t n_files) {
  std::ofstream out(path, std::ios::binary);
  auto put = [&](const auto& v) { out.write(reinterpret_cast<const char*>(&v), sizeof v); };
  const std::int32_t n = std::int32_t(halos.size());
  put(n);
  put(total);
  put(std::int32_t(0));
  put(std::uint64_t(0));
  put(n_files);
  for (int i = 0; i < n; ++i) put(std::int32_t(100 + i));  // GroupLen
  for (int i = 0; i < n; ++i) put(std::int32_t(0));        // GroupOffset
  for (const auto& h : halos) put(h.mass);
  for (const auto& h : halos)
    for (float x : h.pos) put(x);
  for (const auto& h : halos)
    for (float v : h.vel) put(v);
  for (int i = 0; i < 6 * n; ++i) put(0.0f);  // GroupTLen
  for (int i = 0; i < 6 * n; ++i) put(0.0f);  // GroupTMass
}

}  // namespace dstest
