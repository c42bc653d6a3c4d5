// NumPy .npy files (format versions 1.0-3.0, little-endian float32/float64/int32/int64, C order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ds {

struct NpyArray {
  std::vector<std::size_t> shape;
  std::string dtype;         // as stored: "<f4", "<f8", "<i4", "<i8"
  std::vector<double> data;  // converted to double, C order
  std::size_t size() const { return data.size(); }
};

// Throws FileError naming the path and the problem (missing, not .npy, truncated, unsupported
// dtype or Fortran order, non-finite values when require_finite).
NpyArray read_npy(const std::string& path, bool require_finite = true);

// Writes float64 ("<f8") or float32 ("<f4") data atomically (temporary file, then rename).
void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data, bool as_float32 = false);

}  // namespace ds
