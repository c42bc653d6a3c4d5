// Reading the FILE argument of `diffuscope-cli stats` (a .npy array or our HDF5 dataset) as one
// field or one point set, and writing the result tables as CSV.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/data/field.h"

namespace dscli {

// One sample of FILE (any file core's read_observation reads: HDF5 dataset, .npy, CAMELS stack,
// Quijote folder). `box` > 0 overrides the file's box size; a .npy array has none, so it then
// needs one. Throws ds::FileError naming the file and the problem (shape, kind, index).
struct FieldInput {
  ds::Field2D field;
  std::string units;  // the dataset's units attribute ("" for .npy)
};
FieldInput read_field_input(const std::string& path, std::size_t index, double box);

// Points: (P, 3) or (P, F >= 3) per sample, positions first; velocities in columns 3-5 and
// log10 mass in column 6 when present (or the columns the HDF5 feature names say).
struct PointInput {
  ds::PointCloud points;
  std::vector<std::array<double, 3>> velocities;  // empty when the file has none
  std::vector<double> log10_mass;                 // empty when the file has none
};
PointInput read_point_input(const std::string& path, std::size_t index, double box);

// A CSV table written atomically: a header row, then one row per entry, doubles as %.17g and
// integers as integers.
class CsvTable {
 public:
  void add_column(const std::string& name, const std::vector<double>& values);
  void add_column(const std::string& name, const std::vector<std::int64_t>& values);
  void write(const std::string& path) const;

 private:
  struct Column {
    std::string name;
    std::vector<double> real;
    std::vector<std::int64_t> integer;
    bool is_integer = false;
  };
  std::vector<Column> columns_;
};

}  // namespace dscli
