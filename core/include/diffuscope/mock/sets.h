// Cosmology/seed layouts of mock data sets, mirroring the CAMELS sets (DESIGN.md: parameters are
// (Omega_m, sigma_8) in this order everywhere). A layout is a list of samples, each with its
// cosmology and the seed of its own generator; the generators (field_set.h, halo_catalogue.h)
// make sample i from samples[i] alone, so a set is the same on any number of threads.
//
// Layouts for C = n_cosmo, M = per_cosmo (sample index in brackets):
//   lh     C cosmologies on a Latin hypercube over the prior: for each parameter the range is cut
//          into C equal strata, and each stratum holds exactly one cosmology (uniform within it;
//          random pairing of the strata of the two parameters). M maps per cosmology with
//          distinct seeds. [c * M + m]. C * M samples.
//   1p     one parameter varied at a time around the fiducial (0.3, 0.8): first Omega_m, then
//          sigma_8, each at C values evenly spaced over its prior range, ends included (C = 1: the
//          fiducial value), the other parameter at its fiducial value. The SAME M seeds are
//          reused for every value of both parameters, so differences between maps come from the
//          parameters alone. [(p * C + v) * M + m]. 2 * C * M samples.
//   cv     the fiducial cosmology, C * M distinct seeds. [i].
//   single the given (omega_m, sigma_8), C * M distinct seeds. [i].
// Seeds are derived from the set's seed: sample_seed(seed, r) with r = the sample index (lh, cv,
// single) or the map index m (1p).
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/dataset.h"

namespace ds {

inline constexpr double kFiducialOmegaM = 0.3;
inline constexpr double kFiducialSigma8 = 0.8;

struct SetDesign {
  SetKind kind = SetKind::LatinHypercube;  // lh, 1p, cv or single
  int n_cosmo = 1;                         // C
  int per_cosmo = 1;                       // M
  std::uint64_t seed = 0;
  double omega_m = kFiducialOmegaM;  // the cosmology of `single`
  double sigma_8 = kFiducialSigma8;
  Prior prior = kDefaultPrior;
};

struct SetSample {
  int cosmology = 0;  // index of the sample's cosmology within the set (samples sharing it share
                      // one prepared generator)
  double omega_m = kFiducialOmegaM;
  double sigma_8 = kFiducialSigma8;
  std::uint64_t seed = 0;  // seed of this sample's generator
};

// The seed of sample (or map) r of a set made with `seed`.
std::uint64_t sample_seed(std::uint64_t seed, std::uint64_t r);

// Throws InvalidArgument for C or M < 1, more than 10^7 samples, set kind `other`, or (single)
// parameters outside the prior.
std::vector<SetSample> make_set(const SetDesign& design);

// The Cosmology of a sample: the design's fixed background with the sample's two parameters.
Cosmology sample_cosmology(const SetSample& sample);

// Fills params [M, 2], param_names (Omega_m, sigma_8), set_kind and seed of a dataset.
void describe_set(const SetDesign& design, const std::vector<SetSample>& samples, Dataset& dataset);

}  // namespace ds
