#include "diffuscope/diffusion/observed_field.h"

#include <cmath>

#include "diffuscope/data/observation.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"
#include "diffuscope/text.h"

namespace ds {

ObservedField load_observed_field(const std::string& path, const DiffusionModel2d& model,
                                  long index, bool physical) {
  ObservationRequest request;
  request.index = index;
  request.kind = SampleKind::Fields;
  const ObservedSample sample = read_observation(path, request);
  const int channels = model.channels();
  if (sample.channels() != channels)
    throw FileError(path, "fields have " + std::to_string(sample.channels()) +
                              " channel(s) but the model takes " + std::to_string(channels));
  ObservedField out;
  out.count = sample.count;
  out.index = sample.index;
  out.n = sample.resolution();
  try {
    require_field_size(model, out.n);
  } catch (const InvalidArgument& e) {
    throw FileError(path, e.what());
  }
  out.values = sample.float_values();
  // A file that says its values are physical (HDF5 dataset, CAMELS) is always transformed; a
  // plain .npy only when told.
  if (physical || sample.physical) {
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
