#include "diffuscope/infer/field_likelihood.h"

#include <cmath>
#include <utility>

#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/exact_grf.h"

namespace ds {

void require_finite_field(const Field2D& field, const std::string& origin) {
  if (field.n <= 0 || field.values.size() != std::size_t(field.n) * std::size_t(field.n))
    throw InvalidArgument(origin + ": not a square field (" + std::to_string(field.values.size()) +
                          " values for side " + std::to_string(field.n) + ")");
  for (std::size_t i = 0; i < field.values.size(); ++i)
    if (!std::isfinite(field.values[i]))
      throw InvalidArgument(origin + ": pixel (" + std::to_string(i / std::size_t(field.n)) + ", " +
                            std::to_string(i % std::size_t(field.n)) + ") is " +
                            std::to_string(field.values[i]) + " (not finite)");
}

std::shared_ptr<const LogDensity> exact_grf_likelihood(const Field2D& field,
                                                       const std::string& origin,
                                                       double slab_thickness) {
  require_finite_field(field, origin);
  if (field.kind != FieldKind::Contrast)
    throw InvalidArgument(origin +
                          ": the exact GRF likelihood applies to Gaussian-random-field mocks "
                          "(a density contrast); this field is a positive density");
  try {
    auto grf = std::make_shared<const GrfLikelihood>(field, slab_thickness);
    return std::make_shared<GrfLogLikelihood2d>(std::move(grf));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(origin + ": " + e.what());
  }
}

std::shared_ptr<VlbLogLikelihood> vlb_likelihood(const DiffusionModel2d& model,
                                                 const Field2D& field, const VlbSettings& settings,
                                                 const std::string& origin, double noise_sigma,
                                                 std::uint64_t noise_seed) {
  require_finite_field(field, origin);
  if (model.channels() != 1)
    throw InvalidArgument(origin + ": the model draws " + std::to_string(model.channels()) +
                          " channels; one field gives one");
  try {
    require_field_size(model, field.n);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(origin + ": " + e.what());
  }
  std::vector<float> x0(field.values.size());
  // A contrast field is 1 + delta in density units for a transform that takes densities.
  const bool shift = field.kind == FieldKind::Contrast &&
                     model.transform.kind != FieldTransformKind::Affine &&
                     model.transform.kind != FieldTransformKind::Identity;
  for (std::size_t i = 0; i < x0.size(); ++i)
    x0[i] = float(shift ? 1.0 + field.values[i] : field.values[i]);
  try {
    model.transform.to_model(x0);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(origin + ": the model's transform cannot take this field (" + e.what() +
                          ")");
  }
  add_observation_noise(x0, model.transform, noise_sigma, noise_seed);
  auto vlb = std::make_shared<TruncatedVlb>(model, std::move(x0), field.n, settings);
  return std::make_shared<VlbLogLikelihood>(std::move(vlb), model.parameter_count());
}

std::shared_ptr<const LogDensity> pk_baseline_likelihood(std::shared_ptr<const PkBaseline> baseline,
                                                         const Field2D& field,
                                                         const std::string& origin) {
  require_finite_field(field, origin);
  try {
    std::vector<double> data = baseline->statistic(field);
    return std::make_shared<PkBaselineLikelihood>(std::move(baseline), std::move(data));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(origin + ": " + e.what());
  }
}

}  // namespace ds
