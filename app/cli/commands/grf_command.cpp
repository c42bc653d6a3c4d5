// diffuscope-cli grf pk2d | loglike: the 2D spectrum the GRF generator colours with, and the
// exact GRF log-likelihood of a field (core/include/diffuscope/infer/baselines/grf_likelihood.h).
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/atomic_file.h"
#include "diffuscope/data/field.h"
#include "diffuscope/data/observation.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/grf_likelihood.h"

namespace dscli {

namespace {

struct GrfOptions {
  double omega_m = 0.3, sigma_8 = 0.8;
  double box = 0.0;  // 0: from the file (HDF5) or 25 Mpc/h
  double slab = ds::ProjectedPowerSpectrum::kDefaultSlabThickness;
  int res = 256;
  std::string file, out;
  std::size_t index = 0;
  bool gradient = false;
};

// One field of any file core reads observations from (.npy [N, N] or [M, N, N], our HDF5 dataset,
// a CAMELS stack).
ds::Field2D load_field(const std::string& path, std::size_t index) {
  ds::ObservationRequest request;
  request.index = long(index);
  request.kind = ds::SampleKind::Fields;
  return ds::read_observation(path, request).field();
}

ds::Cosmology cosmology_of(const GrfOptions& o) {
  ds::kDefaultPrior.require_inside(o.omega_m, o.sigma_8);
  ds::Cosmology c;
  c.omega_m = o.omega_m;
  c.sigma_8 = o.sigma_8;
  return c;
}

void add_parameters(CLI::App* cmd, GrfOptions& o, bool required) {
  auto* om = cmd->add_option("--omega-m", o.omega_m, "Omega_m, in the prior [0.1, 0.5]");
  auto* s8 = cmd->add_option("--sigma-8", o.sigma_8, "sigma_8, in the prior [0.6, 1.0]");
  if (required) {
    om->required();
    s8->required();
  }
  cmd->add_option("--slab", o.slab, "slab thickness of the projection in Mpc/h (default 5)");
}

}  // namespace

Action add_grf_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<GrfOptions>();
  CLI::App* cmd = app.add_subcommand(
      "grf",
      "Gaussian random field model: its 2D spectrum and the exact log-likelihood of a field");
  cmd->require_subcommand(1);
  CLI::App* pk2d = cmd->add_subcommand(
      "pk2d",
      "write the P_2D the GRF generator uses at the grid's distinct |k| (CSV k,pk; h/Mpc, "
      "(Mpc/h)^2; ascending, DC excluded)");
  add_parameters(pk2d, *o, false);
  pk2d->add_option("--box", o->box, "box size in Mpc/h (default 25)");
  pk2d->add_option("--res", o->res, "grid size N (even, 16..512; default 256)");
  pk2d->add_option("--out", o->out, "CSV file to write")->required();

  CLI::App* loglike = cmd->add_subcommand(
      "loglike",
      "print the exact GRF log-likelihood of one field (independent Fourier modes, DC "
      "excluded, up to a parameter-independent constant)");
  loglike->add_option("file", o->file, ".npy [N,N] or [M,N,N] density contrast, or an HDF5 dataset")
      ->required();
  loglike->add_option("--index", o->index, "which field of a stack (default 0)");
  add_parameters(loglike, *o, true);
  loglike->add_option("--box", o->box, "box size in Mpc/h (default: the file's, else 25)");
  loglike->add_flag("--gradient", o->gradient,
                    "also print d/dOmega_m and d/dsigma_8 (value and gradient on one line)");

  return [cmd, pk2d, loglike, o, &options]() -> int {
    if (!cmd->parsed()) return -1;
    apply_global_options(options);
    const ds::Cosmology cosmology = cosmology_of(*o);
    if (!(o->slab > 0.0) || !std::isfinite(o->slab))
      throw ds::InvalidArgument("--slab: the slab thickness must be positive (Mpc/h)");
    ds::GrfSettings settings;
    settings.slab_thickness = o->slab;
    if (pk2d->parsed()) {
      settings.n = o->res;
      settings.box_size = o->box > 0.0 ? o->box : ds::kDefaultFieldBoxSize;
      const std::vector<double> k = ds::grid_distinct_wavenumbers(settings.n, settings.box_size);
      const ds::ProjectedPowerSpectrum spectrum = ds::grf_spectrum_2d(cosmology, settings);
      ds::write_file_atomically(o->out, [&](std::ostream& out) {
        out << "k,pk\n" << std::setprecision(17);
        for (double kk : k) out << kk << ',' << spectrum(kk) << '\n';
      });
      return 0;
    }
    if (loglike->parsed()) {
      const ds::Field2D field = load_field(o->file, o->index);
      settings.n = field.n;
      settings.box_size = o->box > 0.0
                              ? o->box
                              : (field.box_size > 0.0 ? field.box_size : ds::kDefaultFieldBoxSize);
      try {
        const ds::GrfLikelihood likelihood(field.values.data(), settings);
        // The value from the P_2D table at Omega_m, the gradient from the likelihood's Omega_m
        // series (grf_likelihood.h), so --gradient does not change the value printed.
        const double value = likelihood.log_likelihood(o->omega_m, o->sigma_8);
        if (o->gradient) {
          const ds::GrfLogLikelihood l = likelihood.evaluate(o->omega_m, o->sigma_8, true);
          std::printf("%.17g %.17g %.17g\n", value, l.gradient[0], l.gradient[1]);
        } else {
          std::printf("%.17g\n", value);
        }
      } catch (const ds::InvalidArgument& e) {
        throw ds::FileError(o->file, e.what());  // size / value problems of this file's field
      }
      return 0;
    }
    return 0;
  };
}

}  // namespace dscli
