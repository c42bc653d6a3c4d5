// Data sets of 2D mock fields (grf, lognormal, zeldovich) over the CAMELS-like set layouts of
// sets.h, as ds::Dataset (shape [M, N, N] float32, params [M, 2] = Omega_m, sigma_8).
// Units by kind: grf "density contrast" (zero mean); lognormal "density / mean density" (1 +
// delta, mean 1); zeldovich "(Msun/h)/(Mpc/h)^2" (surface density, mean rho_m * 5 Mpc/h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/registries.h"

namespace ds {

struct MockFieldSettings {
  MockFieldKind kind = MockFieldKind::Grf;
  int n = 64;                   // pixels per side, 16..512
  double box_size = 25.0;       // Mpc/h
  double slab_thickness = 5.0;  // Mpc/h (projection slab of all three kinds)
};

// A generator prepared for one cosmology: draw() is bit-identical for a seed on any thread and
// may be called concurrently.
class FieldGenerator {
 public:
  virtual ~FieldGenerator() = default;
  virtual Field2D draw(std::uint64_t seed, const JobContext& job = {}) const = 0;
};

std::unique_ptr<FieldGenerator> make_field_generator(const MockFieldSettings& settings,
                                                     const Cosmology& cosmology);

// The units string of a kind's fields (stored in Dataset::units).
std::string mock_field_units(MockFieldKind kind);

// Generates every sample of the set; maps are shared out over `threads` threads (0: the
// configured thread count, ds::thread_count()), each made from its own seed, so the dataset is
// byte-identical for any thread count. Reports progress per map; honours cancellation.
Dataset generate_field_set(const MockFieldSettings& settings, const SetDesign& design,
                           const JobContext& job = {}, int threads = 0);

}  // namespace ds
