#include "pk_baseline_input.h"

#include <cmath>
#include <cstdio>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/registries.h"
#include "stats_input.h"

namespace dscli {

namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

ds::Dataset read_mocks(const std::string& path) {
  ds::Dataset d = ds::read_dataset_hdf5(path);
  if (d.kind != ds::SampleKind::Fields)
    throw ds::FileError(path, "holds point clouds, the power-spectrum baseline needs 2D fields");
  return d;
}

std::string describe(const ds::PkBaseline& b) {
  std::string out = "power-spectrum baseline: " + std::to_string(b.bins()) + " bins of ln P(k), " +
                    fixed(b.k.front(), 4) + ".." + fixed(b.k.back(), 4) + " h/Mpc; degree-" +
                    std::to_string(b.degree) + " mean from " + std::to_string(b.mean_mocks) +
                    " mocks (" + std::to_string(b.mean_cosmologies) + " cosmologies, " +
                    b.mean_origin + "); " + b.covariance_source + " covariance from " +
                    std::to_string(b.covariance_mocks) + " mocks (Hartlap " + fixed(b.hartlap, 3) +
                    ")\n  fit residual / sigma per bin:";
  for (double r : b.residual_over_sigma) out += " " + fixed(r, 2);
  if (!b.lack_of_fit.empty() && std::isfinite(b.lack_of_fit.front())) {
    out += "\n  lack of fit F per bin (~1: interpolation error below the mocks' noise):";
    for (double r : b.lack_of_fit) out += " " + fixed(r, 2);
  }
  return out;
}

}  // namespace

void add_pk_baseline_options(CLI::App* cmd, PkBaselineOptions& o) {
  cmd->add_option("--pk-load", o.load, "B.json: use a baseline saved with --pk-save");
  cmd->add_option("--pk-save", o.save, "B.json: save the fitted baseline for later runs");
  cmd->add_option("--pk-mocks", o.mocks,
                  "D.h5: mock dataset (fields + Omega_m, sigma_8; LH or grid over the prior) "
                  "for the mean ln P(k); default: generate mocks like the observed field");
  cmd->add_option("--pk-cov-mocks", o.cov_mocks,
                  "CV.h5: mocks at one cosmology for the covariance (default with --pk-mocks: "
                  "pooled residuals of D.h5 about the fitted mean)");
  cmd->add_option("--pk-kind", o.kind,
                  "kind of generated mocks: grf, lognormal, zeldovich (default: from the "
                  "field's units; grf for .npy)");
  cmd->add_option("--pk-bins", o.bins, "log-spaced k bins from k_F to k_max (default 10)")
      ->check(CLI::Range(1, 200));
  cmd->add_option("--pk-kmax", o.k_max, "largest k in h/Mpc (default: the Nyquist wavenumber)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--pk-degree", o.degree,
                  "total degree of the polynomial mean in (Omega_m, sigma_8) (default 3)")
      ->check(CLI::Range(1, 5));
  cmd->add_option("--pk-cosmologies", o.cosmologies,
                  "generated mocks: Latin-hypercube cosmologies (default 100)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--pk-per-cosmo", o.per_cosmo, "generated mocks: maps per cosmology (default 4)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--pk-cov-count", o.cov_count,
                  "generated mocks: maps at the fiducial 0.3,0.8 for the covariance (default "
                  "200; 0: pooled residuals)")
      ->check(CLI::Range(0, 1000000));
  o.seed_option =
      cmd->add_option("--pk-seed", o.seed, "seed of generated mocks (default: the command's)");
}

std::string mock_kind_of_units(const std::string& units) {
  if (units.empty()) return "";
  for (const auto& e : ds::kFieldKinds.entries())
    if (ds::mock_field_units(e.value) == units) return e.name;
  return "";
}

std::shared_ptr<const ds::PkBaseline> obtain_pk_baseline(const PkBaselineOptions& o,
                                                         const PkTarget& target,
                                                         std::uint64_t command_seed,
                                                         const ds::JobContext& job,
                                                         std::string& description) {
  const bool from_file = !o.load.empty(), from_mocks = !o.mocks.empty();
  if (from_file && from_mocks)
    throw ds::InvalidArgument("give either --pk-load or --pk-mocks, not both");
  if (!o.cov_mocks.empty() && !from_mocks)
    throw ds::InvalidArgument("--pk-cov-mocks needs --pk-mocks (generated mocks make their own)");
  ds::PkBaselineSettings settings;
  settings.bins = o.bins;
  settings.degree = o.degree;
  settings.k_max = o.k_max;
  ds::PkBaseline b;
  if (from_file) {
    b = ds::read_pk_baseline_json(o.load);
  } else if (from_mocks) {
    const ds::Dataset mean_set = read_mocks(o.mocks);
    ds::Dataset cov_set;
    if (!o.cov_mocks.empty()) cov_set = read_mocks(o.cov_mocks);
    // Errors name the file they concern (the origins passed here).
    b = ds::fit_pk_baseline(mean_set, o.cov_mocks.empty() ? nullptr : &cov_set, settings, job,
                            o.mocks, o.cov_mocks);
  } else {
    const std::string kind = !o.kind.empty() ? o.kind : target.mock_kind;
    if (kind.empty())
      throw ds::InvalidArgument(
          "the observed field's units name no built-in mock kind: give --pk-kind "
          "grf|lognormal|zeldovich, or --pk-mocks D.h5");
    ds::PkMockPlan plan;
    plan.field.kind = ds::kFieldKinds.from_string(kind);
    plan.field.n = target.n;
    plan.field.box_size = target.box_size;
    plan.field.slab_thickness = target.slab;
    plan.cosmologies = o.cosmologies;
    plan.per_cosmology = o.per_cosmo;
    plan.covariance_mocks = o.cov_count;
    plan.seed = o.seed_option && o.seed_option->count() ? o.seed : command_seed;
    b = ds::build_pk_baseline(plan, settings, job);
  }
  if (b.n != target.n || std::abs(b.box_size - target.box_size) > 1e-9 * target.box_size)
    throw ds::InvalidArgument("the power-spectrum baseline" +
                              (from_file ? " of " + o.load : std::string()) + " was fitted to " +
                              std::to_string(b.n) + "^2 fields of side " + fixed(b.box_size, 3) +
                              " Mpc/h, the observed fields are " + std::to_string(target.n) +
                              "^2 of side " + fixed(target.box_size, 3) + " Mpc/h");
  if (!o.save.empty()) ds::write_pk_baseline_json(o.save, b);
  description = describe(b);
  return std::make_shared<const ds::PkBaseline>(std::move(b));
}

void add_pk_posterior_options(CLI::App* cmd, PkPosteriorOptions& o) {
  cmd->add_flag("--pk-baseline", o.enabled,
                "samples the power-spectrum baseline posterior of --field (Gaussian likelihood "
                "of the binned ln P(k), mean and covariance from mocks; see --pk-*)");
  o.field_option = cmd->get_option_no_throw("--field");
  if (!o.field_option)
    o.field_option = cmd->add_option("--field", o.field,
                                     "FILE: the observed field (.npy [N,N] / [M,N,N] or HDF5 "
                                     "dataset; --index picks one of a stack)");
  add_pk_baseline_options(cmd, o.pk);
}

PkPosterior load_pk_posterior(const PkPosteriorOptions& o, std::size_t index, double box,
                              double slab, std::uint64_t seed) {
  const std::string path =
      o.field_option && o.field_option->count() ? o.field_option->as<std::string>() : o.field;
  if (path.empty())
    throw ds::InvalidArgument("--pk-baseline needs the observed field: --field FILE");
  const bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  FieldInput input =
      read_field_input(path, index, box > 0.0 ? box : (npy ? ds::kDefaultFieldBoxSize : 0.0));
  PkTarget target;
  target.n = input.field.n;
  target.box_size = input.field.box_size;
  target.slab = slab;
  // .npy fields carry no units: read as a density contrast (GRF mocks), as --exact-grf does.
  target.mock_kind = input.units.empty() ? "grf" : mock_kind_of_units(input.units);
  std::string details;
  const std::shared_ptr<const ds::PkBaseline> baseline =
      obtain_pk_baseline(o.pk, target, seed, ds::JobContext{}, details);
  if (!input.units.empty() && ds::field_kind_of_units(input.units) != baseline->field_kind)
    throw ds::FileError(path, "its fields ('" + input.units +
                                  "') are not of the kind the "
                                  "power-spectrum baseline was fitted to");
  input.field.kind = baseline->field_kind;
  std::fprintf(stderr, "%s\n", details.c_str());
  try {
    return {ds::pk_baseline_posterior(baseline, input.field),
            "power-spectrum baseline posterior of field " + std::to_string(index) + " of " + path};
  } catch (const ds::InvalidArgument& e) {
    throw ds::FileError(path, e.what());
  }
}

}  // namespace dscli
