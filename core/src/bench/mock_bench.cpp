#include "bench/mock_bench.h"

#include <cstdio>
#include <string>

#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/halo_catalogue.h"
#include "diffuscope/runtime.h"

namespace ds {

BenchSuiteResult run_mock_bench(const JobContext& job) {
  BenchSuiteResult result{"mock", "Mock simulators: Zel'dovich maps and halo catalogues", {}, {}};
  const Cosmology cosmology;
  job.report(0, 3, "reference: grf 64x64");
  MockFieldSettings grf;
  grf.n = 64;
  const auto grf_generator = make_field_generator(grf, cosmology);
  std::uint64_t seed = 0;
  auto reference = time_call("grf_map/n=64", [&] { grf_generator->draw(++seed); });
  reference.note = "reference: one 64x64 GRF map, prepared generator";
  reference.flops = 2.0 * fft_flops(64.0 * 64);  // forward and inverse FFT
  reference.peak = "dgemm_fp64";
  result.measurements.push_back(reference);
  const double ref = reference.seconds;

  job.check_cancelled();
  job.report(1, 3, "zeldovich batch");
  const int batch = 20;
  MockFieldSettings zeldovich;
  zeldovich.kind = MockFieldKind::Zeldovich;
  zeldovich.n = 64;
  SetDesign design;
  design.kind = SetKind::CosmicVariance;
  design.n_cosmo = 1;
  design.per_cosmo = batch;
  auto maps = time_call(
      "zeldovich_maps/n=64/batch=20",
      [&] {
        ++design.seed;
        generate_field_set(zeldovich, design);
      },
      0.5, 3);
  const double projected = maps.seconds * 1000.0 / batch;
  maps.target_ratio = (60.0 * batch / 1000.0) / ref;  // 60 s for 1000 maps
  char note[200];
  std::snprintf(note, sizeof note,
                "64^3 lattice, %d threads: %.1f ms per map, projected %.1f s for 1000 maps "
                "(target < 60 s on 2 cores)",
                thread_count(), maps.seconds / batch * 1e3, projected);
  maps.note = note;
  result.measurements.push_back(maps);

  job.check_cancelled();
  job.report(2, 3, "halo catalogue");
  const HaloCatalogueSettings halos;
  auto catalogue = time_call("halo_catalogue/n=5000",
                             [&] { lognormal_halo_catalogue(cosmology, halos, ++seed); });
  catalogue.target_ratio = 1.0 / ref;
  std::snprintf(note, sizeof note,
                "5000 heaviest of (1 Gpc/h)^3, 128^3 mesh, preparation included: %.2f s "
                "(target < 1 s)",
                catalogue.seconds);
  catalogue.note = note;
  result.measurements.push_back(catalogue);

  for (auto& m : result.measurements) {
    m.reference = reference.name;
    m.ratio = m.seconds / ref;
  }
  job.report(3, 3, "done");
  return result;
}

}  // namespace ds
