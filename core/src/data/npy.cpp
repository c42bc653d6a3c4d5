#include "diffuscope/data/npy.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"

namespace ds {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The header is a Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (64, 64), }
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::regex pattern("'" + key + "'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))");
  std::smatch match;
  if (!std::regex_search(header, match, pattern))
    throw FileError(path, "npy header has no '" + key + "' entry");
  return match[1].str();
}

std::vector<std::size_t> parse_shape(const std::string& tuple, const std::string& path) {
  std::vector<std::size_t> shape;
  std::string inner = tuple.substr(1, tuple.size() - 2);
  std::stringstream items(inner);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    try {
      shape.push_back(std::stoull(item.substr(first)));
    } catch (const std::exception&) {
      throw FileError(path, "npy header has a malformed shape " + tuple);
    }
  }
  return shape;
}

template <class T>
void convert(const std::vector<char>& raw, std::vector<double>& out) {
  const std::size_t n = raw.size() / sizeof(T);
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = double(v);
  }
}

}  // namespace

NpyArray read_npy(const std::string& path, bool require_finite) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path, "cannot open file (missing or unreadable)");
  char magic[6];
  if (!in.read(magic, 6) || std::memcmp(magic, kMagic, 6) != 0)
    throw FileError(path, "not a NumPy .npy file (bad magic bytes)");
  unsigned char version[2];
  if (!in.read(reinterpret_cast<char*>(version), 2)) throw FileError(path, "truncated npy header");
  std::uint32_t header_length = 0;
  if (version[0] == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) throw FileError(path, "truncated npy header");
    header_length = len[0] | (len[1] << 8);
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) throw FileError(path, "truncated npy header");
    header_length = len[0] | (len[1] << 8) | (len[2] << 16) | (std::uint32_t(len[3]) << 24);
  } else {
    throw FileError(path, "unsupported npy format version " + std::to_string(version[0]));
  }
  std::string header(header_length, '\0');
  if (!in.read(header.data(), header_length)) throw FileError(path, "truncated npy header");

  NpyArray array;
  const std::string descr = dict_value(header, "descr", path);
  array.dtype = descr.substr(1, descr.size() - 2);
  if (dict_value(header, "fortran_order", path) != "False")
    throw FileError(path, "Fortran-ordered arrays are not supported (save with C order)");
  array.shape = parse_shape(dict_value(header, "shape", path), path);

  std::size_t count = 1;
  for (std::size_t d : array.shape) count *= d;
  std::size_t item = 0;
  if (array.dtype == "<f4" || array.dtype == "<i4")
    item = 4;
  else if (array.dtype == "<f8" || array.dtype == "<i8")
    item = 8;
  else
    throw FileError(path, "unsupported dtype '" + array.dtype +
                              "' (expected little-endian float32/float64/int32/int64)");

  std::vector<char> raw(count * item);
  in.read(raw.data(), std::streamsize(raw.size()));
  if (std::size_t(in.gcount()) != raw.size())
    throw FileError(path, "truncated: expected " + std::to_string(raw.size()) +
                              " bytes of data, found " + std::to_string(in.gcount()));
  if (array.dtype == "<f4")
    convert<float>(raw, array.data);
  else if (array.dtype == "<f8")
    convert<double>(raw, array.data);
  else if (array.dtype == "<i4")
    convert<std::int32_t>(raw, array.data);
  else
    convert<std::int64_t>(raw, array.data);

  if (require_finite)
    for (std::size_t i = 0; i < array.data.size(); ++i)
      if (!std::isfinite(array.data[i]))
        throw FileError(
            path, "contains a non-finite value (NaN or Inf) at flat index " + std::to_string(i));
  return array;
}

void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data, bool as_float32) {
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  if (count != data.size())
    throw InvalidArgument("write_npy: shape holds " + std::to_string(count) + " values but " +
                          std::to_string(data.size()) + " were given");
  std::string dict = std::string("{'descr': '") + (as_float32 ? "<f4" : "<f8") +
                     "', 'fortran_order': False, 'shape': (";
  for (std::size_t d : shape) dict += std::to_string(d) + (shape.size() == 1 ? "," : ", ");
  dict += "), }";
  // Pad so that the data starts on a 64-byte boundary, header ending with a newline.
  const std::size_t preamble = 10;
  const std::size_t total = ((preamble + dict.size() + 1 + 63) / 64) * 64;
  dict.append(total - preamble - dict.size() - 1, ' ');
  dict += '\n';
  write_file_atomically(
      path,
      [&](std::ostream& out) {
        out.write(kMagic, 6);
        const char version[2] = {1, 0};
        out.write(version, 2);
        const unsigned char len[2] = {static_cast<unsigned char>(dict.size() & 0xff),
                                      static_cast<unsigned char>(dict.size() >> 8)};
        out.write(reinterpret_cast<const char*>(len), 2);
        out.write(dict.data(), std::streamsize(dict.size()));
        if (as_float32) {
          std::vector<float> f(data.begin(), data.end());
          out.write(reinterpret_cast<const char*>(f.data()), std::streamsize(f.size() * 4));
        } else {
          out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * 8));
        }
      },
      true);
}

}  // namespace ds
