// diffuscope-cli data info FILE | data convert INPUT --out OUT.h5|OUT.vtp
#include <cstdio>
#include <memory>
#include <string>

#include "commands/commands.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/inspect.h"
#include "diffuscope/error.h"
#include "diffuscope/text.h"
#ifdef DS_HAVE_VTK_EXPORT
#include "vtp_writer.h"
#endif

namespace dscli {

namespace {
struct DataOptions {
  std::string input, out, params, features = "all";
  int downsample = 1;
  double box = 0.0;
  std::size_t first = 0, count = 0, n_halos = 5000, index = 0;
  int snapshot = 4;
};

}  // namespace

Action add_data_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<DataOptions>();
  CLI::App* data =
      app.add_subcommand("data", "inspect and convert datasets (CAMELS, Quijote, .npy, HDF5)");
  data->require_subcommand(1);
  CLI::App* info = data->add_subcommand("info", "describe what a file or folder holds");
  info->add_option("file", o->input, "dataset .h5, .npy array, CAMELS maps or Quijote folder")
      ->required();
  info->add_option("--params", o->params, "labels file (CAMELS params, cosmology table)");

  CLI::App* convert =
      data->add_subcommand("convert",
                           "convert CAMELS maps + params, Quijote folders or .npy arrays to a "
                           "Diffuscope HDF5 dataset (or one cloud to .vtp)");
  convert
      ->add_option("input", o->input,
                   "CAMELS Maps_*.npy, Quijote folder, .npy array or .h5 dataset")
      ->required();
  convert->add_option("--out", o->out, "output .h5 dataset (or .vtp for one point cloud)")
      ->required();
  convert->add_option(
      "--params", o->params,
      "labels: CAMELS params file (default: found next to the maps), cosmology table for "
      "processed clouds / plain .npy, latin_hypercube_params.txt for Quijote");
  convert->add_option("--downsample", o->downsample, "fields: block-average by this factor")
      ->check(CLI::PositiveNumber);
  convert->add_option("--box", o->box,
                      "box size in Mpc/h for plain .npy (default 25 fields, 1000 points)");
  convert->add_option("--first", o->first, "CAMELS: first map to convert");
  convert->add_option("--count", o->count, "CAMELS: number of maps (default all)");
  convert->add_option("--n-halos", o->n_halos, "Quijote: keep the N heaviest halos (default 5000)")
      ->check(CLI::PositiveNumber);
  convert
      ->add_option("--features", o->features,
                   "point clouds: pos (x y z) or all (+ velocities, log10 mass)")
      ->check(CLI::IsMember({"pos", "all"}));
  convert->add_option("--snapshot", o->snapshot, "Quijote snapshot number (4: z = 0)")
      ->check(CLI::Range(0, 4));
  convert->add_option("--index", o->index, ".vtp output: which cloud");

  return [data, info, convert, o, &options]() -> int {
    if (!data->parsed()) return -1;
    if (info->parsed()) {
      std::fputs(ds::describe_input(o->input).c_str(), stdout);
      return 0;
    }
    ds::ConvertOptions c;
    c.params_path = o->params;
    c.downsample = o->downsample;
    c.box_size = o->box;
    c.first = o->first;
    c.count = o->count;
    c.n_halos = o->n_halos;
    c.features = o->features == "pos" ? ds::HaloFeatures::Positions : ds::HaloFeatures::All;
    c.snapshot = o->snapshot;
    const ds::Dataset d = ds::load_as_dataset(o->input, c, progress_context(options, "convert"));
    if (ds::ends_with(o->out, ".vtp")) {
#ifdef DS_HAVE_VTK_EXPORT
      write_point_cloud_vtp(o->out, d, o->index);
#else
      throw ds::Unavailable(o->out +
                            ": this diffuscope-cli was built without VTK, so it cannot write .vtp");
#endif
    } else {
      ds::write_dataset_hdf5(o->out, d);
    }
    std::fprintf(stderr, "wrote %s: %zu %s\n", o->out.c_str(), d.count(),
                 d.kind == ds::SampleKind::Fields ? "fields" : "point clouds");
    return 0;
  };
}

}  // namespace dscli
