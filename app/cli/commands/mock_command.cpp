// diffuscope-cli mock fields ... | mock halos ...: the built-in simulators (core/mock) written as
// HDF5 datasets.
#include <cstdio>
#include <memory>
#include <string>

#include "commands/commands.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/mock/sets.h"

namespace dscli {

namespace {

struct MockOptions {
  std::string kind = "grf", set = "lh", out, features = "all";
  int n_cosmo = 10, per_cosmo = 1, res = 64, n_halos = 5000, mesh = 128;
  double box = 0.0, omega_m = ds::kFiducialOmegaM, sigma_8 = ds::kFiducialSigma8;
  std::uint64_t seed = 0;
};

// Options shared by both subcommands (the set layout and the output).
void add_set_options(CLI::App* cmd, MockOptions& o, const std::vector<std::string>& sets) {
  std::string names;
  for (const auto& s : sets) names += (names.empty() ? "" : "|") + s;
  cmd->add_option("--set", o.set,
                  "set layout (CAMELS naming): " + names +
                      "; lh: Latin hypercube over the prior, 1p: one parameter at a time "
                      "(same seeds), cv: fiducial 0.3/0.8, single: --omega-m/--sigma-8")
      ->check(CLI::IsMember(sets))
      ->capture_default_str();
  cmd->add_option("--n-cosmo", o.n_cosmo,
                  "C: cosmologies (lh), values per parameter (1p); cv/single make C*M samples")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--per-cosmo", o.per_cosmo, "M: samples per cosmology, distinct seeds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "seed of the set (default: the global --seed)");
  cmd->add_option("--omega-m", o.omega_m, "Omega_m of --set single (prior [0.1, 0.5])");
  cmd->add_option("--sigma-8", o.sigma_8, "sigma_8 of --set single (prior [0.6, 1.0])");
  cmd->add_option("--out", o.out, "output HDF5 dataset (written atomically)")->required();
}

ds::SetDesign set_design(const CLI::App* cmd, const MockOptions& o, const GlobalOptions& global) {
  ds::SetDesign design;
  design.kind = ds::kSetKinds.from_string(o.set);
  if (design.kind != ds::SetKind::Single && (cmd->count("--omega-m") || cmd->count("--sigma-8")))
    throw ds::InvalidArgument("mock: --omega-m/--sigma-8 apply to --set single only (got --set " +
                              o.set + ")");
  design.n_cosmo = o.n_cosmo;
  design.per_cosmo = o.per_cosmo;
  design.seed = cmd->count("--seed") ? o.seed : global.seed;
  design.omega_m = o.omega_m;
  design.sigma_8 = o.sigma_8;
  return design;
}

}  // namespace

Action add_mock_command(CLI::App& app, const GlobalOptions& options) {
  auto f = std::make_shared<MockOptions>();
  auto h = std::make_shared<MockOptions>();
  CLI::App* mock = app.add_subcommand(
      "mock",
      "generate mock data sets: 2D fields (grf, lognormal, zeldovich) or 3D halo catalogues");
  mock->require_subcommand(1);

  CLI::App* fields = mock->add_subcommand(
      "fields", "2D mock fields over CAMELS-like sets, as an HDF5 dataset [M, N, N]");
  fields->add_option("--kind", f->kind, "field kind: " + ds::kFieldKinds.joined_names(" | "))
      ->check(CLI::IsMember(ds::kFieldKinds.names()))
      ->capture_default_str();
  add_set_options(fields, *f, {"lh", "1p", "cv", "single"});
  fields->add_option("--res", f->res, "N: pixels per side, 16..512")
      ->check(CLI::Range(16, 512))
      ->capture_default_str();
  fields->add_option("--box", f->box, "box size in Mpc/h (default 25)");

  CLI::App* halos = mock->add_subcommand(
      "halos", "3D lognormal halo catalogues (N heaviest), as an HDF5 dataset [M, N, 3|7]");
  add_set_options(halos, *h, {"lh", "1p", "cv", "single"});
  halos->add_option("--n-halos", h->n_halos, "N: halos kept per catalogue (the heaviest)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  halos->add_option("--box", h->box, "box size in Mpc/h (default 1000)");
  halos->add_option("--features", h->features, "pos (x y z) or all (x y z vx vy vz log10_mass)")
      ->check(CLI::IsMember({"pos", "all"}))
      ->capture_default_str();
  halos->add_option("--mesh", h->mesh, "lognormal mesh per axis (even, 16..256)")
      ->capture_default_str();

  return [mock, fields, halos, f, h, &options]() -> int {
    if (!mock->parsed()) return -1;
    apply_global_options(options);
    if (fields->parsed()) {
      ds::MockFieldSettings settings;
      settings.kind = ds::kFieldKinds.from_string(f->kind);
      settings.n = f->res;
      if (fields->count("--box")) settings.box_size = f->box;
      const ds::SetDesign design = set_design(fields, *f, options);
      const ds::Dataset dataset = ds::generate_field_set(
          settings, design, progress_context(options, "mock fields " + f->kind));
      ds::write_dataset_hdf5(f->out, dataset);
      std::printf("wrote %zu %s fields of %dx%d (%s set) to %s\n", dataset.count(), f->kind.c_str(),
                  settings.n, settings.n, f->set.c_str(), f->out.c_str());
      return 0;
    }
    ds::HaloCatalogueSettings settings;
    settings.n_halos = h->n_halos;
    settings.mesh = h->mesh;
    if (halos->count("--box")) settings.box_size = h->box;
    const ds::SetDesign design = set_design(halos, *h, options);
    const ds::HaloFeatures features =
        h->features == "pos" ? ds::HaloFeatures::Positions : ds::HaloFeatures::All;
    const ds::Dataset dataset =
        ds::generate_halo_set(settings, features, design, progress_context(options, "mock halos"));
    ds::write_dataset_hdf5(h->out, dataset);
    std::printf("wrote %zu halo catalogues of %d halos (%s, %s set) to %s\n", dataset.count(),
                settings.n_halos, h->features.c_str(), h->set.c_str(), h->out.c_str());
    return 0;
  };
}

}  // namespace dscli
