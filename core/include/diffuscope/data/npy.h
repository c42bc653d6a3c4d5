// NumPy .npy files: format versions 1.0-3.0, little-endian float32/float64/int32/int64, C or
// Fortran order (reformats/formats.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ds {

struct NpyHeader {
  std::vector<std::size_t> shape;
  std::string dtype;  // as stored: "<f4", "<f8", "<i4", "<i8"
  bool fortran_order = false;
  std::size_t data_offset = 0;  // bytes from the start of the file to the data
  std::size_t item_size = 0;    // bytes per element
  std::size_t count() const;    // number of elements
};

struct NpyArray {
  std::vector<std::size_t> shape;
  std::string dtype;
  std::vector<double> data;  // converted to double, always C order (Fortran arrays are transposed)
  std::size_t size() const { return data.size(); }
};

// Reads and checks the header, including that the file is long enough for the data. Throws
// FileError naming the path and the problem (missing, not .npy, truncated, unsupported dtype).
NpyHeader read_npy_header(const std::string& path);

// Throws FileError as read_npy_header, and for non-finite values when require_finite.
NpyArray read_npy(const std::string& path, bool require_finite = true);

// Writes float64 ("<f8") or float32 ("<f4") data in C order atomically (temporary file, rename).
void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data, bool as_float32 = false);

// A read-only memory map of a C-ordered .npy file: large stacks (CAMELS: 15000 x 256 x 256
// float32) are read one sample at a time without loading the whole file.
class NpyMap {
 public:
  explicit NpyMap(const std::string& path);
  ~NpyMap();
  NpyMap(const NpyMap&) = delete;
  NpyMap& operator=(const NpyMap&) = delete;

  const NpyHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  // Elements [first, first + count) in C order, converted to float. Throws FileError for
  // non-finite values (naming the flat index) when require_finite.
  void read(std::size_t first, std::size_t count, float* out, bool require_finite = true) const;

 private:
  std::string path_;
  NpyHeader header_;
  const unsigned char* data_ = nullptr;
  std::size_t mapped_size_ = 0;
  void* mapping_ = nullptr;
};

}  // namespace ds
