// Diffuscope's model checkpoint (HDF5, DESIGN.md "Files"), torch-free:
//   /config               JSON string: format, modality, architecture, schedule, transform,
//                         parameter normalisation, training settings, dataset fingerprint,
//                         Diffuscope version
//   /schedule/betas       [T] float64, the exact betas the model was trained with
//   /weights/<name>       float32 tensors named as in the module tree (downs.0.0.block1...)
//   /ema/<name>           EMA weights (training checkpoints)
//   /optimizer/exp_avg/<name>, /optimizer/exp_avg_sq/<name>   Adam moments; attribute step
//   /train/step           int64 [1]: optimiser steps done
//   /train/data_position  int64 [1]: training examples consumed (all ranks together), where the
//                         epoch order continues (train/distributed.h); absent in older files
//   /train/loss           float64 [steps]: mean training loss of every step
//   /train/validation     float64 [k, 3]: step, reduced P(k) chi^2 (diagonal), its spread
// Root attributes: format = "diffuscope-model", version (Diffuscope). Written atomically.
// Inference-only files (`model export`) keep /config, /schedule and /weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ds {

struct NamedArray {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

struct ModelCheckpoint {
  std::string config_json;
  std::vector<double> betas;
  std::vector<NamedArray> weights;
  std::vector<NamedArray> ema;         // empty when absent
  std::vector<NamedArray> exp_avg;     // empty when absent
  std::vector<NamedArray> exp_avg_sq;  // empty when absent
  std::int64_t optimizer_step = 0;
  std::int64_t step = 0;
  std::int64_t data_position = -1;  // -1: not stored (an older checkpoint)
  std::vector<double> loss;
  std::vector<double> validation;  // [k, 3] flattened
};

enum class CheckpointParts { Inference, Everything };

// True when the file starts with the HDF5 signature (without opening it as HDF5).
bool is_hdf5_file(const std::string& path);

// The "modality" of a Diffuscope model file ("field2d", "points"), or "" for any other file (not
// HDF5, another HDF5 file such as a dataset or a likelihood grid, unreadable). Never throws.
std::string model_file_modality(const std::string& path);

// Atomic: a temporary file beside `path`, renamed on success. Throws FileError naming the path.
void write_model_checkpoint(const std::string& path, const ModelCheckpoint& checkpoint);

// Inference: config, betas, weights and EMA weights. Throws FileError naming the path and the
// problem (not HDF5, not a Diffuscope model, missing /config or /weights, bad shapes).
ModelCheckpoint read_model_checkpoint(const std::string& path,
                                      CheckpointParts parts = CheckpointParts::Inference);

// An inference-only copy of a checkpoint: /config, /schedule, /train/step and the chosen weights
// (the EMA weights when `ema`) as /weights. Atomic; in and out may not be the same file.
void export_model_file(const std::string& in, const std::string& out, bool ema);

// FNV-1a (64 bit) over the samples and parameters of a dataset, as 16 hex digits: identifies the
// training data in a checkpoint.
std::string data_fingerprint(const std::vector<float>& samples, const std::vector<double>& params);

}  // namespace ds
