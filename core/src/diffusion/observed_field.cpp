#include "diffuscope/diffusion/observed_field.h"

#include <cmath>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/text.h"

namespace ds {

namespace {}  // namespace

ObservedField load_observed_field(const std::string& path, const DiffusionModel2d& model,
                                  long index, bool physical) {
  const auto channels = static_cast<std::size_t>(model.channels());
  std::vector<std::size_t> shape;
  std::vector<float> data;
  if (ds::ends_with(path, ".h5") || ds::ends_with(path, ".hdf5")) {
    Dataset d = read_dataset_hdf5(path);
    if (d.kind != SampleKind::Fields) throw FileError(path, "holds point clouds, not 2D fields");
    shape = {d.shape[0], 1, d.shape[1], d.shape[2]};
    data = std::move(d.samples);
    physical = true;
  } else {
    const auto a = read_npy(path);
    shape = a.shape;
    if (shape.size() == 2) shape = {1, 1, shape[0], shape[1]};
    if (shape.size() == 3) shape = {shape[0], 1, shape[1], shape[2]};
    data.assign(a.data.begin(), a.data.end());
  }
  if (shape.size() != 4 || shape[2] != shape[3] || shape[1] != channels)
    throw FileError(path, "shape " + ds::shape_text(shape) + " is not [N, N], [M, N, N] or [M, " +
                              std::to_string(channels) + ", N, N]");
  ObservedField out;
  out.count = shape[0];
  if (index < 0 && out.count > 1)
    throw FileError(path,
                    "holds " + std::to_string(out.count) + " fields; choose one with --index");
  out.index = index < 0 ? 0 : std::size_t(index);
  if (out.index >= out.count)
    throw FileError(path, "has " + std::to_string(out.count) + " fields; index " +
                              std::to_string(out.index) + " is out of range");
  out.n = static_cast<int>(shape[2]);
  try {
    require_field_size(model, out.n);
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  const std::size_t size = channels * shape[2] * shape[3];
  out.values.assign(data.begin() + out.index * size, data.begin() + (out.index + 1) * size);
  if (physical) {
    try {
      model.transform.to_model(out.values);
    } catch (const InvalidArgument& e) {
      throw FileError(path, e.what());
    }
  }
  return out;
}

void add_observation_noise(std::vector<float>& values, const FieldTransform& transform,
                           double sigma, std::uint64_t seed) {
  if (!std::isfinite(sigma) || sigma < 0.0)
    throw InvalidArgument("observation noise: sigma " + std::to_string(sigma) +
                          " must be >= 0 and finite");
  if (sigma == 0.0) return;
  double model_sigma = sigma;  // identity: model space is the physical space
  if (transform.kind == FieldTransformKind::Log10MinMax)
    model_sigma = sigma * 2.0 / (transform.hi - transform.lo);
  else if (transform.kind == FieldTransformKind::Affine)
    model_sigma = sigma / transform.scale;
  Rng rng(seed, 0x6f62736e6f697365);  // "obsnoise": independent of every other stream
  for (auto& v : values) v = static_cast<float>(double(v) + model_sigma * rng.normal());
}

}  // namespace ds
