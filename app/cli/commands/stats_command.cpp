// diffuscope-cli stats pk2d|hist|pk3d|tpcf|knn|hmf|v12 FILE ... --out OUT.csv
// (issue 4: the column sets and flags are a stable contract).
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/registries.h"
#include "diffuscope/stats/binning.h"
#include "diffuscope/stats/histogram.h"
#include "diffuscope/stats/hmf.h"
#include "diffuscope/stats/knn_cdf.h"
#include "diffuscope/stats/pairwise_velocity.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "diffuscope/stats/power_spectrum_3d.h"
#include "diffuscope/stats/two_point.h"
#include "stats_input.h"

namespace dscli {

namespace {

struct StatsOptions {
  std::string file, out, mas, kind = "density", scaling = "linear", queries;
  std::size_t index = 0, n_queries = 0;
  double box = 0.0;
  int mesh = 0, log_bins = 0, bins = 100;
  bool cut_nyquist = false;
  std::vector<double> edges, radii, range{9.5, 13.5};
  std::vector<int> ks{1, 5, 9};
  std::uint64_t seed = 0;
  bool seed_given = false;
};

// One line per warning on stderr (wrapped points), whatever --quiet says: it concerns the result.
ds::PointStatisticsOptions point_options() {
  ds::PointStatisticsOptions o;
  o.warn = [](const std::string& w) {
    std::fprintf(stderr, "diffuscope-cli: warning: %s\n", w.c_str());
  };
  return o;
}

CLI::App* add_statistic(CLI::App* stats, ds::Statistic statistic, StatsOptions& o,
                        const std::string& file_help) {
  const auto& entry = ds::kStatistics.entry(statistic);
  CLI::App* cmd = stats->add_subcommand(entry.name, entry.description);
  cmd->add_option("file", o.file, file_help)->required();
  cmd->add_option("--out", o.out, "CSV file to write")->required();
  cmd->add_option("--index", o.index, "sample of a stack (M, ...) to use (default 0)");
  return cmd;
}

void add_box(CLI::App* cmd, StatsOptions& o) {
  cmd->add_option("--box", o.box, "box size in Mpc/h (default: the HDF5 dataset's box_size)")
      ->check(CLI::PositiveNumber);
}

void add_edges(CLI::App* cmd, StatsOptions& o, const std::string& what) {
  cmd->add_option("--edges", o.edges, what + ", comma-separated, strictly increasing")
      ->required()
      ->delimiter(',');
}

ds::Field2D field_of(const StatsOptions& o) {
  FieldInput in = read_field_input(o.file, o.index, o.box);
  // A contrast field is explicit (--kind), or declared by the dataset's units attribute.
  const bool contrast =
      o.kind == "contrast" || (o.kind == "auto" && in.units.find("contrast") != std::string::npos);
  in.field.kind = contrast ? ds::FieldKind::Contrast : ds::FieldKind::Density;
  return in.field;
}

}  // namespace

Action add_stats_command(CLI::App& app, const GlobalOptions& options) {
  auto o = std::make_shared<StatsOptions>();
  CLI::App* stats = app.add_subcommand(
      "stats", "summary statistics of a field or point set (FILE: .npy array or HDF5 dataset)");
  stats->require_subcommand(1);
  const std::string field_file = "(N, N) or (M, N, N) field: .npy or HDF5 dataset";
  const std::string point_file =
      "(P, F>=3) or (M, P, F) points (x y z [vx vy vz] [log10_mass]): .npy or HDF5 dataset";

  CLI::App* pk2d = add_statistic(stats, ds::Statistic::PowerSpectrum2d, *o, field_file);
  add_box(pk2d, *o);
  pk2d->add_option("--mas", o->mas,
                   "deconvolve a mass-assignment window: " +
                       ds::kMassAssignments.joined_names(" | ") + " (default none)")
      ->check(CLI::IsMember(ds::kMassAssignments.names()));
  pk2d->add_option("--log-bins", o->log_bins, "rebin into B log-spaced bins weighted by Nmodes")
      ->check(CLI::PositiveNumber);
  pk2d->add_flag("--cut-nyquist", o->cut_nyquist, "keep only bins with k <= k_Nyquist");

  CLI::App* hist = add_statistic(stats, ds::Statistic::DensityHistogram, *o, field_file);
  hist->add_option("--range", o->range, "log10 density range lo,hi (default 9.5,13.5)")
      ->delimiter(',')
      ->expected(2);
  hist->add_option("--bins", o->bins, "number of bins (default 100)")->check(CLI::PositiveNumber);
  for (CLI::App* cmd : {pk2d, hist}) {
    cmd->add_option("--kind", o->kind,
                    "density (delta = field/mean - 1), contrast (delta as is), or auto (from the "
                    "dataset's units; default density)")
        ->check(CLI::IsMember({"density", "contrast", "auto"}));
    cmd->add_option("--scaling", o->scaling,
                    "linear, or log: the values are log10 of the density (default linear)")
        ->check(CLI::IsMember(ds::kFieldScalings.names()));
  }

  CLI::App* pk3d = add_statistic(stats, ds::Statistic::PowerSpectrum3d, *o, point_file);
  add_box(pk3d, *o);
  pk3d->add_option("--mesh", o->mesh, "mesh cells per side N (even)")
      ->required()
      ->check(CLI::PositiveNumber);
  pk3d->add_option("--mas", o->mas,
                   "painting scheme, also deconvolved: ngp | cic | tsc | pcs (default cic)")
      ->check(CLI::IsMember({"ngp", "cic", "tsc", "pcs"}));

  CLI::App* tpcf = add_statistic(stats, ds::Statistic::TwoPointCorrelation, *o, point_file);
  add_box(tpcf, *o);
  add_edges(tpcf, *o, "separation bin edges in Mpc/h (last <= L/2)");

  CLI::App* knn = add_statistic(stats, ds::Statistic::KnnCdf, *o, point_file);
  add_box(knn, *o);
  knn->add_option("--k", o->ks, "neighbour orders (default 1,5,9)")->delimiter(',');
  auto* queries =
      knn->add_option("--queries", o->queries, "query points: .npy (Q, >=3) or HDF5 dataset");
  auto* n_queries =
      knn->add_option("--n-queries", o->n_queries, "number of uniform random query points")
          ->check(CLI::PositiveNumber);
  queries->excludes(n_queries);
  knn->add_option("--seed", o->seed, "seed of the random queries (default: the global --seed)")
      ->each([o](const std::string&) { o->seed_given = true; });
  knn->add_option("--r", o->radii, "radii in Mpc/h where the CDFs are evaluated, comma-separated")
      ->required()
      ->delimiter(',');

  CLI::App* hmf = add_statistic(stats, ds::Statistic::MassFunction, *o, point_file);
  add_box(hmf, *o);
  add_edges(hmf, *o, "log10(M / (Msun/h)) bin edges");

  CLI::App* v12 = add_statistic(stats, ds::Statistic::PairwiseVelocity, *o, point_file);
  add_box(v12, *o);
  add_edges(v12, *o, "separation bin edges in Mpc/h (last <= L/2)");

  return [=, &options]() -> int {
    if (!stats->parsed()) return -1;
    apply_global_options(options);
    CsvTable table;
    if (pk2d->parsed()) {
      const ds::Field2D field = field_of(*o);
      ds::PowerSpectrum2dOptions p;
      p.deconvolve =
          o->mas.empty() ? ds::MassAssignment::None : ds::kMassAssignments.from_string(o->mas);
      p.scaling = ds::kFieldScalings.from_string(o->scaling);
      ds::PowerSpectrum pk = ds::power_spectrum_2d(field, p);
      if (o->cut_nyquist) pk = ds::cut_at_nyquist(pk, field.n, field.box_size);
      if (o->log_bins > 0) pk = ds::rebin_log(pk, o->log_bins);
      table.add_column("k", pk.k);
      table.add_column("pk", pk.pk);
      table.add_column("nmodes", pk.nmodes);
    } else if (hist->parsed()) {
      // The box size does not enter a histogram: a .npy field needs no --box here.
      StatsOptions h_options = *o;
      if (h_options.box <= 0.0) h_options.box = 1.0;
      const ds::Field2D field = field_of(h_options);
      const auto h = ds::log10_density_histogram(field, ds::kFieldScalings.from_string(o->scaling),
                                                 o->range[0], o->range[1], o->bins);
      table.add_column("lo", std::vector<double>(h.edges.begin(), h.edges.end() - 1));
      table.add_column("hi", std::vector<double>(h.edges.begin() + 1, h.edges.end()));
      table.add_column("density", h.density);
    } else if (pk3d->parsed()) {
      const auto in = read_point_input(o->file, o->index, o->box);
      const auto scheme = ds::kMassAssignments.from_string(o->mas.empty() ? "cic" : o->mas);
      const auto pk = ds::power_spectrum_3d(in.points, o->mesh, scheme, point_options().warn);
      table.add_column("k", pk.k);
      table.add_column("pk", pk.pk);
      table.add_column("nmodes", pk.nmodes);
    } else if (tpcf->parsed()) {
      const auto in = read_point_input(o->file, o->index, o->box);
      const auto xi = ds::two_point_correlation(in.points, o->edges, point_options());
      table.add_column("r_lo", xi.r_lo);
      table.add_column("r_hi", xi.r_hi);
      table.add_column("npairs", xi.npairs);
      table.add_column("xi", xi.xi);
    } else if (knn->parsed()) {
      const auto in = read_point_input(o->file, o->index, o->box);
      std::vector<std::array<double, 3>> query_points;
      if (!o->queries.empty()) {
        query_points = read_point_input(o->queries, 0, in.points.box_size).points.positions;
      } else if (o->n_queries > 0) {
        query_points = ds::uniform_queries(o->n_queries, in.points.box_size,
                                           o->seed_given ? o->seed : options.seed);
      } else {
        throw ds::InvalidArgument("stats knn: give --queries QFILE or --n-queries N [--seed S]");
      }
      const auto d = ds::knn_distances(in.points, query_points, o->ks, point_options());
      const auto cdf = ds::knn_cdf(d, o->radii);
      table.add_column("r", o->radii);
      for (std::size_t i = 0; i < o->ks.size(); ++i)
        table.add_column("cdf_k" + std::to_string(o->ks[i]), cdf[i]);
    } else if (hmf->parsed()) {
      const auto in = read_point_input(o->file, o->index, o->box);
      if (in.log10_mass.empty())
        throw ds::FileError(o->file, "has no log10 mass column (column 6 or feature log10_mass)");
      const auto h =
          ds::cumulative_mass_function(in.log10_mass, o->edges, std::pow(in.points.box_size, 3));
      table.add_column("logm_lo", h.logm_lo);
      table.add_column("logm_hi", h.logm_hi);
      table.add_column("n_greater", h.n_greater);
    } else if (v12->parsed()) {
      const auto in = read_point_input(o->file, o->index, o->box);
      if (in.velocities.empty())
        throw ds::FileError(o->file, "has no velocities (columns 3-5 or features vx, vy, vz)");
      const auto v = ds::pairwise_velocity(in.points, in.velocities, o->edges, point_options());
      table.add_column("r_lo", v.r_lo);
      table.add_column("r_hi", v.r_hi);
      table.add_column("v12", v.v12);
    }
    table.write(o->out);
    return 0;
  };
}

}  // namespace dscli
