// A dataset: samples (2D fields [M, N, N] or point clouds [M, P, F]) with their parameters and
// provenance, and the HDF5 schema of DESIGN.md (Files):
//   /fields [M,N,N] float32  or  /points [M,P,F] float32 (attribute feature_names)
//   /params [M,K] float64 with attribute names (K strings, Omega_m and sigma_8 first)
//   root attributes: box_size (Mpc/h), set_kind, source, generator, seed, version, units
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "diffuscope/data/field.h"

#include "diffuscope/registry.h"

namespace ds {

enum class SampleKind { Fields, Points };

// How the cosmologies of a set were chosen (CAMELS naming).
enum class SetKind { LatinHypercube, OneParameter, CosmicVariance, Single, Other };
inline constexpr Registry<SetKind, 5> kSetKinds{
    "set kind",
    {{{SetKind::LatinHypercube, "lh", "Latin hypercube",
       "parameters on a Latin hypercube over the prior"},
      {SetKind::OneParameter, "1p", "One parameter",
       "one parameter varied at a time around the fiducial"},
      {SetKind::CosmicVariance, "cv", "Cosmic variance", "fiducial parameters, many seeds"},
      {SetKind::Single, "single", "Single", "one given cosmology"},
      {SetKind::Other, "other", "Other", "anything else"}}}};

struct Dataset {
  SampleKind kind = SampleKind::Fields;
  // [M, N, N] for fields, [M, P, F] for point clouds.
  std::vector<std::size_t> shape;
  std::vector<float> samples;            // C order, shape above
  std::vector<double> params;            // [M, K], C order
  std::vector<std::string> param_names;  // K names, "Omega_m", "sigma_8" first
  std::vector<std::string>
      feature_names;      // F names for point clouds (x, y, z, vx, vy, vz, log10_mass)
  double box_size = 0.0;  // Mpc/h
  SetKind set_kind = SetKind::Other;
  std::string source;     // "mock", "CAMELS", "Quijote", "npy", ...
  std::string generator;  // e.g. "grf", "zeldovich", file name of the origin
  std::uint64_t seed = 0;
  std::string units;  // e.g. "density contrast", "(Msun/h)/(Mpc/h)^2"

  std::size_t count() const { return shape.empty() ? 0 : shape[0]; }
  std::size_t sample_size() const;  // values per sample
  std::size_t param_count() const { return param_names.size(); }
  const float* sample(std::size_t i) const { return samples.data() + i * sample_size(); }
  double param(std::size_t i, std::size_t k) const { return params[i * param_count() + k]; }

  // Checks shapes, names and values (finite samples and parameters); throws InvalidArgument
  // naming `origin` (a path or a generator) and the problem.
  void validate(const std::string& origin) const;
};

// The kind in which a dataset's values are read: Contrast when its units say "contrast" (the GRF
// mocks), else Density.
FieldKind field_kind_of_units(const std::string& units);

// Sample i of a field dataset as a Field2D of the kind its units give. Throws InvalidArgument for
// a dataset of clouds or an index out of range.
Field2D dataset_field(const Dataset& dataset, std::size_t i);

// Atomic (temporary file + rename). Throws FileError naming the path.
void write_dataset_hdf5(const std::string& path, const Dataset& dataset);

// Throws FileError naming the path and the problem (not HDF5, missing /fields or /points or
// /params, wrong rank, count mismatch, NaN/Inf).
Dataset read_dataset_hdf5(const std::string& path);

// Sample indices per cosmology: the first p parameters of each sample, rounded to 1e-9 so that
// 0.8 and 0.8000000001 are one cosmology, in increasing order of the parameters.
std::map<std::vector<double>, std::vector<std::size_t>> group_by_parameters(const Dataset& dataset,
                                                                            std::size_t p);

}  // namespace ds
