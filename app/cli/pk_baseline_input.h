// The power-spectrum baseline inputs shared by `posterior --pk-baseline` and
// `calibrate --pk-baseline`: where the baseline comes from (a saved file, mock datasets, or mocks
// generated here like the observed field) and its settings (core/infer/baselines/pk_baseline.h).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "diffuscope/infer/baselines/pk_baseline.h"
#include "diffuscope/jobs/job.h"

namespace dscli {

struct PkBaselineOptions {
  std::string load, save;        // --pk-load B.json, --pk-save B.json
  std::string mocks, cov_mocks;  // --pk-mocks D.h5, --pk-cov-mocks CV.h5
  std::string kind;              // --pk-kind grf|lognormal|zeldovich ("" = from the data)
  int bins = 10, degree = 3;
  double k_max = 0.0;
  int cosmologies = 100, per_cosmo = 4, cov_count = 200;
  std::uint64_t seed = 0;
  CLI::Option* seed_option = nullptr;  // set by add_pk_baseline_options: was --pk-seed given?
};

// Registers the --pk-* options (not --pk-baseline itself, not --slab).
void add_pk_baseline_options(CLI::App* cmd, PkBaselineOptions& o);

// What the baseline must fit: the observed fields' grid, how their values are read, and the
// kind of built-in mocks to generate when no mocks are given ("" when unknown).
struct PkTarget {
  int n = 0;
  double box_size = 0.0;
  double slab = 5.0;  // Mpc/h, of generated mocks
  std::string mock_kind;
};

// Loads (--pk-load), fits to datasets (--pk-mocks [--pk-cov-mocks]) or generates and fits mocks
// of target's kind and grid; saves it when --pk-save is given; checks that it fits target's
// grid. description: lines about bins, mocks and fit residual, for stderr. Throws ds::FileError /
// ds::InvalidArgument naming the file or option.
std::shared_ptr<const ds::PkBaseline> obtain_pk_baseline(const PkBaselineOptions& o,
                                                         const PkTarget& target,
                                                         std::uint64_t command_seed,
                                                         const ds::JobContext& job,
                                                         std::string& description);

// The mock kind whose units a dataset declares ("" for none).
std::string mock_kind_of_units(const std::string& units);

// `posterior --pk-baseline`: the flag, --field FILE (unless the command already has a --field,
// which is then read) and the --pk-* options.
struct PkPosteriorOptions {
  bool enabled = false;
  std::string field;
  CLI::Option* field_option = nullptr;
  PkBaselineOptions pk;
};
void add_pk_posterior_options(CLI::App* cmd, PkPosteriorOptions& o);

struct PkPosterior {
  std::shared_ptr<const ds::LogDensity> density;  // ln L of the field + flat prior on the box
  std::string description;                        // one line
};
// The baseline posterior of field `index` of --field (box > 0 overrides the file's box size;
// .npy files default to 25 Mpc/h). Prints the baseline's bins, mocks and fit residual to stderr.
PkPosterior load_pk_posterior(const PkPosteriorOptions& o, std::size_t index, double box,
                              double slab, std::uint64_t seed);

}  // namespace dscli
