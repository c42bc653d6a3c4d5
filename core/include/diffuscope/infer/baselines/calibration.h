// Calibration of a posterior (issue 6, item 6d): run the inference on many mock fields whose
// parameters are known and check that the credible intervals cover the truth as often as they
// claim. For a correct posterior and truths drawn from the prior (a Latin hypercube set is
// uniform over the prior box), the central q credible interval contains the truth with
// probability q exactly, and the z-score (posterior mean - truth) / posterior sd has mean ~0
// and sd ~1 (exactly 1 for a Gaussian posterior).
//
// Per field and parameter: posterior mean, sd, the central 68% and 95% intervals (the 16/84 and
// 2.5/97.5 percentiles of the pooled draws, numpy's linear interpolation), whether they contain
// the truth, the z-score and, when a reference posterior is given (the exact GRF posterior of a
// GRF mock), the ratio of the posterior sd to the reference sd. Summary per parameter: coverage
// c of each interval with its binomial standard error sqrt(c (1 - c) / K) and the nominal one
// sqrt(q (1 - q) / K), mean and sd (ddof 1) of the z-scores, mean and sd of the width ratios.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/mcmc/nuts.h"
#include "diffuscope/jobs/job.h"

namespace ds {

// Nominal probabilities of the two intervals.
inline constexpr double kCalibrationInner = 0.68;
inline constexpr double kCalibrationOuter = 0.95;

// One mock field: its index in the dataset and its true parameters (Omega_m, sigma_8, ...).
struct CalibrationField {
  std::size_t index = 0;
  std::vector<double> truth;
};

// The posterior of one field, made on demand (a model-based source loads one field at a time).
using PosteriorFactory =
    std::function<std::shared_ptr<const LogDensity>(const CalibrationField& field)>;

struct CalibrationSettings {
  // Sampler of every posterior (and of the reference). The chains of field i are seeded with
  // mix_seed(nuts.run.seed, i) (the reference with stream i + 2^32), so a field's result does not
  // depend on which other fields were chosen. Empty run.starts: uniform starts in the central half
  // of the box (mcmc.h).
  NutsSettings nuts;
};

struct ParameterCheck {
  double truth = 0.0, mean = 0.0, sd = 0.0, z = 0.0;
  double inner_lo = 0.0, inner_hi = 0.0, outer_lo = 0.0, outer_hi = 0.0;
  bool inside_inner = false, inside_outer = false;
  double r_hat = 0.0, ess_bulk = 0.0;
  // The reference posterior's sd and sd / reference sd; NaN without a reference.
  double reference_sd = std::numeric_limits<double>::quiet_NaN();
  double width_ratio = std::numeric_limits<double>::quiet_NaN();
};

struct FieldCalibration {
  std::size_t index = 0;                   // in the dataset
  std::vector<ParameterCheck> parameters;  // one per parameter
  std::size_t divergences = 0;             // among the kept draws
  double seconds = 0.0;                    // wall time of the field (reference included)
};

struct ParameterCalibration {
  std::string name;
  std::size_t fields = 0;
  double inner_coverage = 0.0, inner_se = 0.0, inner_nominal_se = 0.0;
  double outer_coverage = 0.0, outer_se = 0.0, outer_nominal_se = 0.0;
  double z_mean = 0.0, z_sd = 0.0;
  double width_ratio_mean = 0.0, width_ratio_sd = 0.0;  // NaN without a reference
};

struct CalibrationResult {
  std::vector<std::string> names;  // parameter names
  std::vector<FieldCalibration> fields;
  std::vector<ParameterCalibration> summary;
  std::size_t divergences = 0;
  double seconds = 0.0;
};

// K distinct indices out of `available`, chosen by the seed (a partial Fisher-Yates shuffle with
// Rng(seed, 0x63616c)), ascending. Throws InvalidArgument when count is 0 or exceeds available.
std::vector<std::size_t> choose_calibration_fields(std::size_t available, std::size_t count,
                                                   std::uint64_t seed);

// The checks of one field from its draws (and the reference draws, when not null).
FieldCalibration check_field(const CalibrationField& field, const Chains& draws,
                             const Chains* reference);

// Summary per parameter of the fields so far (names: one per parameter).
std::vector<ParameterCalibration> summarize_calibration(
    const std::vector<std::string>& names, const std::vector<FieldCalibration>& fields);

// Samples the posterior of every field with NUTS (and the reference when `reference` is set),
// streams each field's checks through on_field, and summarises. Progress: one unit per field,
// with the fraction of the field's sampling in between; cancellation between and inside fields.
CalibrationResult run_calibration(const std::vector<CalibrationField>& fields,
                                  const PosteriorFactory& posterior,
                                  const PosteriorFactory& reference,
                                  const CalibrationSettings& settings, const JobContext& job = {},
                                  const PartialResultCallback<FieldCalibration>& on_field = {});

// The result as JSON: "summary" (per parameter), "fields" (per field and parameter), and the
// given settings object (a JSON text, e.g. source, dataset, sampler) under "settings". Atomic.
void write_calibration_json(const std::string& path, const CalibrationResult& result,
                            const std::string& settings_json = "{}");

}  // namespace ds
