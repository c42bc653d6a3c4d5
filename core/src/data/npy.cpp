#include "diffuscope/data/npy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"

namespace ds {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The header is a Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (64, 64), }
// Returns the value text of 'key' ('<f4', True, False or a tuple "(64, 64)"). A plain scan, not
// std::regex: libstdc++'s regex matcher recurses once per character, so a hostile 64 KiB header
// would overflow the stack.
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::string quoted = "'" + key + "'";
  for (std::size_t at = header.find(quoted); at != std::string::npos;
       at = header.find(quoted, at + 1)) {
    std::size_t p = header.find_first_not_of(" \t", at + quoted.size());
    if (p == std::string::npos || header[p] != ':') continue;
    p = header.find_first_not_of(" \t", p + 1);
    if (p == std::string::npos) break;
    const char open = header[p];
    if (open == '\'' || open == '(') {
      const std::size_t end = header.find(open == '(' ? ')' : '\'', p + 1);
      if (end != std::string::npos) return header.substr(p, end - p + 1);
    } else {
      for (const char* word : {"True", "False"})
        if (header.compare(p, std::strlen(word), word) == 0) return word;
    }
  }
  throw FileError(path, "npy header has no '" + key + "' entry");
}

std::vector<std::size_t> parse_shape(const std::string& tuple, const std::string& path) {
  std::vector<std::size_t> shape;
  std::stringstream items(tuple.substr(1, tuple.size() - 2));
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    std::string digits = item.substr(first, item.find_last_not_of(" \t") - first + 1);
    if (digits.size() > 1 && digits.back() == 'L') digits.pop_back();  // Python 2's longs
    // Digits only: std::stoull alone would take "-1" as 2^64 - 1 and ignore trailing junk.
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
      throw FileError(path, "npy header has a malformed shape " + tuple);
    try {
      shape.push_back(std::stoull(digits));
    } catch (const std::exception&) {
      throw FileError(path, "npy header has a malformed shape " + tuple);
    }
  }
  return shape;
}

template <class T>
double load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return double(v);
}

// Converts count elements of the stored dtype to double.
void convert(const std::string& dtype, const unsigned char* raw, std::size_t count, double* out) {
  if (dtype == "<f4")
    for (std::size_t i = 0; i < count; ++i) out[i] = load<float>(raw + 4 * i);
  else if (dtype == "<f8")
    for (std::size_t i = 0; i < count; ++i) out[i] = load<double>(raw + 8 * i);
  else if (dtype == "<i4")
    for (std::size_t i = 0; i < count; ++i) out[i] = load<std::int32_t>(raw + 4 * i);
  else
    for (std::size_t i = 0; i < count; ++i) out[i] = load<std::int64_t>(raw + 8 * i);
}

// Fortran (column-major) data -> C order.
std::vector<double> fortran_to_c(const std::vector<double>& f,
                                 const std::vector<std::size_t>& shape) {
  const std::size_t rank = shape.size();
  std::vector<double> c(f.size());
  std::vector<std::size_t> index(rank, 0);
  for (std::size_t flat_c = 0; flat_c < c.size(); ++flat_c) {
    std::size_t flat_f = 0, stride = 1;
    for (std::size_t a = 0; a < rank; ++a) {
      flat_f += index[a] * stride;
      stride *= shape[a];
    }
    c[flat_c] = f[flat_f];
    for (std::size_t a = rank; a-- > 0;) {  // increment the C-order multi-index
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
  return c;
}

void require_finite_values(const std::string& path, const double* v, std::size_t n,
                           std::size_t offset) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]))
      throw FileError(path, "contains a non-finite value (NaN or Inf) at flat index " +
                                std::to_string(offset + i));
}

}  // namespace

std::size_t NpyHeader::count() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path, "cannot open file (missing or unreadable)");
  char magic[6];
  if (!in.read(magic, 6) || std::memcmp(magic, kMagic, 6) != 0)
    throw FileError(path, "not a NumPy .npy file (bad magic bytes)");
  unsigned char version[2];
  if (!in.read(reinterpret_cast<char*>(version), 2)) throw FileError(path, "truncated npy header");
  std::uint32_t header_length = 0;
  std::size_t preamble = 0;
  if (version[0] == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) throw FileError(path, "truncated npy header");
    header_length = len[0] | (len[1] << 8);
    preamble = 10;
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) throw FileError(path, "truncated npy header");
    header_length = len[0] | (len[1] << 8) | (len[2] << 16) | (std::uint32_t(len[3]) << 24);
    preamble = 12;
  } else {
    throw FileError(path, "unsupported npy format version " + std::to_string(version[0]));
  }
  // Every size the file claims is checked against its actual size before anything is allocated.
  std::error_code ec;
  const std::uintmax_t actual = std::filesystem::file_size(path, ec);
  if (ec) throw FileError(path, "cannot tell the file's size (" + ec.message() + ")");
  if (preamble + std::uintmax_t(header_length) > actual)
    throw FileError(path, "truncated npy header: it claims " + std::to_string(header_length) +
                              " bytes, the file has " + std::to_string(actual) + " in all");
  std::string text(header_length, '\0');
  if (!in.read(text.data(), header_length)) throw FileError(path, "truncated npy header");

  NpyHeader h;
  const std::string descr = dict_value(text, "descr", path);
  h.dtype = descr.substr(1, descr.size() - 2);
  h.fortran_order = dict_value(text, "fortran_order", path) == "True";
  h.shape = parse_shape(dict_value(text, "shape", path), path);
  h.data_offset = preamble + header_length;
  if (h.dtype == "<f4" || h.dtype == "<i4")
    h.item_size = 4;
  else if (h.dtype == "<f8" || h.dtype == "<i8")
    h.item_size = 8;
  else
    throw FileError(path, "unsupported dtype '" + h.dtype +
                              "' (expected little-endian float32/float64/int32/int64)");
  // The shape's product and the data size in bytes must not overflow: a hostile header such as
  // (4294967296, 4294967296) would otherwise wrap to a small count that passes the size check.
  std::size_t count = 1;
  for (std::size_t d : h.shape)
    if (__builtin_mul_overflow(count, d, &count))
      throw FileError(path, "npy header has an absurd shape " + dict_value(text, "shape", path) +
                                " (its element count overflows)");
  std::size_t needed = 0;
  if (__builtin_mul_overflow(count, h.item_size, &needed) ||
      __builtin_add_overflow(needed, h.data_offset, &needed))
    throw FileError(path, "npy header has an absurd shape " + dict_value(text, "shape", path) +
                              " (its size in bytes overflows)");
  if (actual < needed)
    throw FileError(path, "truncated: the header promises " + std::to_string(needed) +
                              " bytes, the file has " + std::to_string(actual));
  return h;
}

NpyArray read_npy(const std::string& path, bool require_finite) {
  const NpyHeader h = read_npy_header(path);
  std::ifstream in(path, std::ios::binary);
  in.seekg(std::streamoff(h.data_offset));
  std::vector<unsigned char> raw(h.count() * h.item_size);
  in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size()));
  if (std::size_t(in.gcount()) != raw.size()) throw FileError(path, "truncated data");
  NpyArray array;
  array.shape = h.shape;
  array.dtype = h.dtype;
  array.data.resize(h.count());
  convert(h.dtype, raw.data(), h.count(), array.data.data());
  if (h.fortran_order && h.shape.size() > 1) array.data = fortran_to_c(array.data, h.shape);
  if (require_finite) require_finite_values(path, array.data.data(), array.data.size(), 0);
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

NpyMap::NpyMap(const std::string& path) : path_(path), header_(read_npy_header(path)) {
  if (header_.fortran_order && header_.shape.size() > 1)
    throw FileError(path,
                    "Fortran-ordered arrays cannot be read sample by sample; save in C order");
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw FileError(path, std::string("cannot open: ") + std::strerror(errno));
  mapped_size_ = header_.data_offset + header_.count() * header_.item_size;
  void* p = mapped_size_ ? ::mmap(nullptr, mapped_size_, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
  ::close(fd);
  if (p == MAP_FAILED) throw FileError(path, std::string("cannot map: ") + std::strerror(errno));
  mapping_ = p;
  data_ = static_cast<const unsigned char*>(p) + header_.data_offset;
}

NpyMap::~NpyMap() {
  if (mapping_) ::munmap(mapping_, mapped_size_);
}

void NpyMap::read(std::size_t first, std::size_t count, float* out, bool require_finite) const {
  const std::size_t total = header_.count();
  if (count > total || first > total - count)
    throw InvalidArgument(path_ + ": elements [" + std::to_string(first) + ", " +
                          std::to_string(first + count) + ") are beyond the array's " +
                          std::to_string(header_.count()));
  std::vector<double> buffer(count);
  convert(header_.dtype, data_ + first * header_.item_size, count, buffer.data());
  if (require_finite) require_finite_values(path_, buffer.data(), count, first);
  for (std::size_t i = 0; i < count; ++i) out[i] = float(buffer[i]);
}

}  // namespace ds
