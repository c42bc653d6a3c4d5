// Physical <-> model space for 2D fields (DESIGN.md, Transform). Stored with every model.
//   log10-minmax: x_n = (log10(x + floor) - lo) / (hi - lo) * 2 - 1, for positive maps.
//   Diffusion-HMC's
//     constants: lo = 9.421, hi = 15.445 (log10 of Mcdm in (Msun/h)/(Mpc/h)^2), which put the
//     CAMELS maps in about [-1, 1], floor 0. A positive floor admits empty pixels (particle-based
//     maps such as our Zel'dovich mocks have some); the inverse subtracts it again
//     and clamps at 0: a sample below the model value of an empty pixel is an empty pixel, so a
//     density drawn from a model is never negative (whatever the sampler or clipping).
//   affine: x_n = (x - offset) / scale, for signed fields (GRF density contrasts), typically the
//     training set's mean and standard deviation.
//   identity: fields already in model space.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ds {

enum class FieldTransformKind { Log10MinMax, Affine, Identity };

struct FieldTransform {
  FieldTransformKind kind = FieldTransformKind::Log10MinMax;
  double lo = 9.421;    // log10-minmax: log10 value mapped to -1
  double hi = 15.445;   // log10-minmax: log10 value mapped to +1
  double offset = 0.0;  // affine
  double scale = 1.0;   // affine, > 0
  double floor = 0.0;   // log10-minmax: added before the log10, >= 0

  static FieldTransform diffusion_hmc() { return log10_min_max(9.421, 15.445); }
  // Throws unless lo < hi, finite, floor >= 0.
  static FieldTransform log10_min_max(double lo, double hi, double floor = 0.0);
  static FieldTransform affine(double offset, double scale);  // throws unless scale > 0, finite
  static FieldTransform identity();

  // Constants fitted to training data: log10 min/max or mean/std. fit_log10_min_max needs values
  // > 0, or >= 0 when floor_fraction > 0: then floor = floor_fraction * mean when some value is 0
  // (0 otherwise).
  static FieldTransform fit_log10_min_max(const std::vector<float>& physical,
                                          double floor_fraction = 0.0);
  static FieldTransform fit_affine(const std::vector<float>& physical);

  // One value. to_model throws InvalidArgument for a non-positive or non-finite value of a
  // log10-minmax transform (naming the value).
  double to_model(double physical) const;
  double to_physical(double model) const;
  // Whole arrays in place; the error names the flat index of the first bad value.
  void to_model(std::vector<float>& values) const;
  void to_physical(std::vector<float>& values) const;

  // {"kind": "log10-minmax", "lo": .., "hi": .. [, "floor": ..]} / {"kind": "affine", "offset": ..,
  // "scale": ..} / {"kind": "identity"}.
  std::string to_json() const;
  static FieldTransform from_json(const std::string& json);  // throws InvalidArgument
  std::string describe() const;                              // one line for `model info`
};

}  // namespace ds
