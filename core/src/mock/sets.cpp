#include "diffuscope/mock/sets.h"

#include <numeric>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

namespace {
// Streams of the set's seed: sample seeds and the Latin-hypercube draw never share one.
constexpr std::uint64_t kSampleStream = 1000;
constexpr std::uint64_t kHypercubeStream = 7;

// One Latin-hypercube coordinate per cosmology: a random permutation of the C strata, uniform
// within each.
std::vector<double> hypercube_axis(Rng& rng, int count, const Interval& range) {
  std::vector<int> strata(count);
  std::iota(strata.begin(), strata.end(), 0);
  for (int i = count - 1; i > 0; --i) std::swap(strata[i], strata[rng.below(std::uint64_t(i) + 1)]);
  std::vector<double> values(count);
  for (int c = 0; c < count; ++c)
    values[c] = range.lo + range.width() * (strata[c] + rng.uniform()) / count;
  return values;
}
}  // namespace

std::uint64_t sample_seed(std::uint64_t seed, std::uint64_t r) {
  return mix_seed(seed, kSampleStream + r);
}

std::vector<SetSample> make_set(const SetDesign& design) {
  const int C = design.n_cosmo, M = design.per_cosmo;
  if (C < 1 || M < 1)
    throw InvalidArgument("mock set: --n-cosmo and --per-cosmo must be at least 1 (got " +
                          std::to_string(C) + " and " + std::to_string(M) + ")");
  const double total = double(C) * M * (design.kind == SetKind::OneParameter ? 2.0 : 1.0);
  if (total > 1e7)
    throw InvalidArgument("mock set: " + std::to_string(total) + " samples is more than 10^7");
  std::vector<SetSample> samples;
  samples.reserve(std::size_t(total));
  switch (design.kind) {
    case SetKind::LatinHypercube: {
      Rng rng(design.seed, kHypercubeStream);
      const auto om = hypercube_axis(rng, C, design.prior.omega_m);
      const auto s8 = hypercube_axis(rng, C, design.prior.sigma_8);
      for (int c = 0; c < C; ++c)
        for (int m = 0; m < M; ++m)
          samples.push_back({c, om[c], s8[c], sample_seed(design.seed, samples.size())});
      break;
    }
    case SetKind::OneParameter: {
      const Interval ranges[2] = {design.prior.omega_m, design.prior.sigma_8};
      for (int p = 0; p < 2; ++p)
        for (int v = 0; v < C; ++v) {
          const double fiducial = p == 0 ? kFiducialOmegaM : kFiducialSigma8;
          const double value =
              C == 1 ? fiducial : ranges[p].lo + ranges[p].width() * double(v) / (C - 1);
          for (int m = 0; m < M; ++m)
            samples.push_back({p * C + v, p == 0 ? value : kFiducialOmegaM,
                               p == 1 ? value : kFiducialSigma8,
                               sample_seed(design.seed, std::uint64_t(m))});
        }
      break;
    }
    case SetKind::CosmicVariance:
    case SetKind::Single: {
      const bool cv = design.kind == SetKind::CosmicVariance;
      const double om = cv ? kFiducialOmegaM : design.omega_m;
      const double s8 = cv ? kFiducialSigma8 : design.sigma_8;
      design.prior.require_inside(om, s8);
      for (int i = 0; i < C * M; ++i)
        samples.push_back({0, om, s8, sample_seed(design.seed, std::uint64_t(i))});
      break;
    }
    default:
      throw InvalidArgument("mock set: set kind must be lh, 1p, cv or single");
  }
  return samples;
}

Cosmology sample_cosmology(const SetSample& sample) {
  Cosmology cosmology;
  cosmology.omega_m = sample.omega_m;
  cosmology.sigma_8 = sample.sigma_8;
  return cosmology;
}

void describe_set(const SetDesign& design, const std::vector<SetSample>& samples,
                  Dataset& dataset) {
  dataset.param_names = {"Omega_m", "sigma_8"};
  dataset.params.clear();
  dataset.params.reserve(2 * samples.size());
  for (const auto& s : samples) {
    dataset.params.push_back(s.omega_m);
    dataset.params.push_back(s.sigma_8);
  }
  dataset.set_kind = design.kind;
  dataset.seed = design.seed;
  dataset.source = "mock";
}

}  // namespace ds
