// Reading an observation: the one field or cloud a likelihood scores, a statistic measures or the
// app shows, out of any file Diffuscope reads. The single input path for observations (issue 14,
// item 4): the CLI (`stats`, `vlb`, `hmc`/`nuts`/`svi`/`posterior`, `elbo`, `calibrate`), the
// model interface (model/model.h) and the app's Inference workspace all read through it; what a
// model then requires of the sample (channels, a size its network takes, its features) is checked
// by the model (Model::likelihood, load_observed_field).
//
// File kinds (classify_input in data/inspect.h): our HDF5 dataset (fields or clouds, physical
// units, with parameters), a CAMELS map stack (only the map asked for is read; its parameters come
// from the params file found beside it), processed halo clouds (.npy [M, N, 7] with a params
// file), a Quijote FoF folder, and plain .npy arrays: fields [N, N], [M, N, N] or [M, C, N, N],
// clouds [P, F] or [M, P, F] (F >= 3, positions first).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/data/inspect.h"
#include "diffuscope/jobs/job.h"

namespace ds {

struct ObservationRequest {
  // Which sample of a stack; -1: the only one (a file of several is refused with "holds M fields;
  // choose one with --index").
  long index = -1;
  // The kind the caller needs (a field model, `stats pk`, ...): the other kind is refused ("holds
  // point clouds, not 2D fields"), and an ambiguous plain .npy is read as this kind. nullopt: the
  // kind the file holds (a plain .npy by its shape, as classify_input).
  std::optional<SampleKind> kind;
  // Labels for a plain .npy or processed clouds, the Quijote options (ConvertOptions' meaning).
  std::string params_path;
  std::size_t n_halos = 5000;
  HaloFeatures features = HaloFeatures::All;
  int snapshot = 4;
};

struct ObservedSample {
  std::string path;
  InputKind source = InputKind::NpyFields;
  SampleKind kind = SampleKind::Fields;
  // The one sample: fields [C, N, N] (C = 1 except for a plain .npy [M, C, N, N]), clouds [P, F].
  std::vector<std::size_t> shape;
  std::vector<double> values;  // as stored (a float64 .npy keeps its precision)
  std::size_t index = 0;       // of the sample in the file
  std::size_t count = 1;       // samples in the file
  // True when the file says its values are physical (HDF5 dataset, CAMELS, Quijote, processed
  // clouds); false for a plain .npy, which says nothing (a field model reads it in model space
  // unless told --physical).
  bool physical = false;
  double box_size = 0.0;  // Mpc/h; 0 when the file does not say (plain .npy)
  std::string units;      // the dataset's units ("" when not recorded)
  std::string generator;  // the dataset's generator ("grf", ...) or the file name
  // Clouds: F names (from the file, else x y z [vx vy vz log10_mass] or f0 f1 ... by F).
  std::vector<std::string> feature_names;
  // The parameters recorded with the sample (names and values), empty when none.
  std::vector<std::string> param_names;
  std::vector<double> params;

  int resolution() const { return kind == SampleKind::Fields ? int(shape.back()) : 0; }
  int channels() const { return kind == SampleKind::Fields ? int(shape.front()) : 0; }
  std::size_t n_points() const { return kind == SampleKind::Points ? shape[0] : 0; }
  int n_features() const { return kind == SampleKind::Points ? int(shape[1]) : 0; }
  // (Omega_m, sigma_8) when the file records them under those names.
  std::optional<std::vector<double>> truth() const;
  // Channel c of a field as a Field2D (box_size as recorded, kind from the units); -1: the only
  // channel (FileError for fields of several channels, which a statistic cannot take).
  Field2D field(int channel = -1) const;
  // The sample as float32 (what the networks take).
  std::vector<float> float_values() const { return {values.begin(), values.end()}; }
};

// Throws FileError naming the path and the problem: missing or unrecognised file, the other kind,
// a shape that is neither kind ("the field is 4 x 8, not square"), a stack without an index, an
// index out of range ("has 4 fields; index 4 is out of range"), an empty cloud, fewer than 3
// columns; Cancelled (from job) while a Quijote folder or CAMELS stack is read.
ObservedSample read_observation(const std::string& path, const ObservationRequest& request = {},
                                const JobContext& job = {});

}  // namespace ds
