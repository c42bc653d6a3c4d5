#include "diffuscope/mock/field_set.h"

#include <mutex>
#include <string>
#include <vector>

#include "diffuscope/cosmology/projected_power.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/gaussian_field.h"
#include "diffuscope/mock/lognormal_field.h"
#include "diffuscope/mock/zeldovich_field.h"
#include "diffuscope/runtime.h"
#include "mock/prepared_cache.h"
#include "numerics/parallel.h"

namespace ds {

namespace {

class GrfGenerator : public FieldGenerator {
 public:
  GrfGenerator(const MockFieldSettings& s, const Cosmology& cosmology)
      : settings_{s.n, s.box_size, s.slab_thickness},
        spectrum_(grf_spectrum_2d(cosmology, settings_)) {}
  Field2D draw(std::uint64_t seed, const JobContext& job) const override {
    return gaussian_random_field_2d(spectrum_, settings_.n, settings_.box_size, seed, job);
  }

 private:
  GrfSettings settings_;
  ProjectedPowerSpectrum spectrum_;
};

class LognormalGenerator : public FieldGenerator {
 public:
  LognormalGenerator(const MockFieldSettings& s, const Cosmology& cosmology)
      : field_(cosmology, GrfSettings{s.n, s.box_size, s.slab_thickness}) {}
  Field2D draw(std::uint64_t seed, const JobContext& job) const override {
    return field_.draw(seed, job);
  }

 private:
  LognormalField2d field_;
};

class ZeldovichGenerator : public FieldGenerator {
 public:
  ZeldovichGenerator(const MockFieldSettings& s, const Cosmology& cosmology)
      : field_(cosmology, ZeldovichSettings{s.n, s.box_size, s.slab_thickness, 0.0, 0}) {}
  Field2D draw(std::uint64_t seed, const JobContext& job) const override {
    return field_.draw(seed, job);
  }

 private:
  ZeldovichField2d field_;
};

}  // namespace

std::unique_ptr<FieldGenerator> make_field_generator(const MockFieldSettings& settings,
                                                     const Cosmology& cosmology) {
  switch (settings.kind) {
    case MockFieldKind::Grf:
      return std::make_unique<GrfGenerator>(settings, cosmology);
    case MockFieldKind::Lognormal:
      return std::make_unique<LognormalGenerator>(settings, cosmology);
    case MockFieldKind::Zeldovich:
      return std::make_unique<ZeldovichGenerator>(settings, cosmology);
  }
  throw InvalidArgument("unregistered field kind");
}

std::string mock_field_units(MockFieldKind kind) {
  switch (kind) {
    case MockFieldKind::Grf:
      return "density contrast";
    case MockFieldKind::Lognormal:
      return "density / mean density";
    case MockFieldKind::Zeldovich:
      return "(Msun/h)/(Mpc/h)^2";
  }
  throw InvalidArgument("unregistered field kind");
}

Dataset generate_field_set(const MockFieldSettings& settings, const SetDesign& design,
                           const JobContext& job, int threads) {
  require_field_size(settings.n);
  const std::vector<SetSample> samples = make_set(design);
  Dataset dataset;
  dataset.kind = SampleKind::Fields;
  const std::size_t n = std::size_t(settings.n), pixels = n * n;
  dataset.shape = {samples.size(), n, n};
  dataset.samples.resize(samples.size() * pixels);
  dataset.box_size = settings.box_size;
  dataset.generator = kFieldKinds.name(settings.kind);
  dataset.units = mock_field_units(settings.kind);
  describe_set(design, samples, dataset);

  detail::PreparedCache<FieldGenerator> generators(samples, [&](const SetSample& s) {
    return make_field_generator(settings, sample_cosmology(s));
  });
  detail::parallel_for(
      samples.size(), threads > 0 ? threads : thread_count(),
      [&](std::size_t i) {
        const auto generator = generators.acquire(i);
        const Field2D field = generator->draw(samples[i].seed);
        float* out = dataset.samples.data() + i * pixels;
        for (std::size_t p = 0; p < pixels; ++p) out[p] = float(field.values[p]);
        generators.release(i);
      },
      job, std::string(kFieldKinds.name(settings.kind)) + " map");
  return dataset;
}

}  // namespace ds
