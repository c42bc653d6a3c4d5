#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "../test_helpers.h"
#include "data_fixtures.h"
#include "diffuscope/data/inspect.h"
#include "diffuscope/data/quijote.h"
#include "diffuscope/error.h"

namespace fs = std::filesystem;

namespace {
// Simulation folders 0 and 1 with 6 halos each, split over two sub-files; masses 1e10 * (i+1).
fs::path make_quijote(const std::string& name) {
  const auto root = dstest::scratch_dir(name);
  std::ofstream(root / "latin_hypercube_params.txt")
      << "# Omega_m Omega_b h n_s sigma_8\n0.15 0.05 0.7 0.95 0.65\n0.45 0.04 0.6 1.0 0.95\n";
  for (int sim = 0; sim < 2; ++sim) {
    const auto dir = root / std::to_string(sim) / "groups_004";
    fs::create_directories(dir);
    std::vector<dstest::FofHalo> halos;
    for (int i = 0; i < 6; ++i)
      halos.push_back(
          {float(i + 1 + 10 * sim), {1000.0f * i, 2000.0f, 999999.0f}, {10.0f * i, 0, -5}});
    dstest::write_group_tab((dir / "group_tab_004.0").string(), {halos.begin(), halos.begin() + 4},
                            6, 2);
    dstest::write_group_tab((dir / "group_tab_004.1").string(), {halos.begin() + 4, halos.end()}, 6,
                            2);
  }
  return root;
}
}  // namespace

TEST(Quijote, ReadsAllSubFilesInPhysicalUnits) {
  const auto root = make_quijote("quijote-read");
  const auto h = ds::read_quijote_fof((root / "0").string(), 4);
  ASSERT_EQ(h.size(), 6u);
  EXPECT_DOUBLE_EQ(h.masses[5], 6e10);
  EXPECT_DOUBLE_EQ(h.positions[3][0], 3.0);  // 3000 kpc/h
  EXPECT_NEAR(h.positions[0][2], 999.999, 1e-9);
  EXPECT_DOUBLE_EQ(h.velocities[2][0], 20.0);  // z = 0: no (1+z) factor
  const auto top = ds::heaviest(h, 3);
  EXPECT_EQ(top.masses, (std::vector<double>{6e10, 5e10, 4e10}));
  EXPECT_DOUBLE_EQ(ds::quijote_snapshot_redshift(3), 0.5);
}

TEST(Quijote, MissingSubFileIsNamed) {
  const auto root = make_quijote("quijote-missing");
  fs::remove(root / "1" / "groups_004" / "group_tab_004.1");
  try {
    ds::read_quijote_fof((root / "1").string());
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(e.path().find("group_tab_004.1"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("missing sub-file 1 of 2"), std::string::npos) << e.what();
  }
}

TEST(Quijote, FileNotConsumedExactlyIsRefused) {
  const auto root = make_quijote("quijote-extra");
  std::ofstream(root / "0" / "groups_004" / "group_tab_004.1", std::ios::app) << "junk";
  EXPECT_THROW(ds::read_quijote_fof((root / "0").string()), ds::FileError);
  fs::resize_file(root / "1" / "groups_004" / "group_tab_004.0", 100);
  try {
    ds::read_quijote_fof((root / "1").string());
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(Quijote, ConvertsAFolderOfSimulations) {
  const auto root = make_quijote("quijote-convert");
  ds::ConvertOptions o;
  o.n_halos = 4;
  EXPECT_EQ(ds::classify_input(root.string()), ds::InputKind::QuijoteFolder);
  const auto d = ds::load_as_dataset(root.string(), o);
  ASSERT_EQ(d.shape, (std::vector<std::size_t>{2, 4, 7}));
  EXPECT_DOUBLE_EQ(d.param(1, 0), 0.45);
  EXPECT_DOUBLE_EQ(d.param(1, 1), 0.95);
  EXPECT_NEAR(d.sample(1)[6], std::log10(16e10), 1e-6);  // heaviest of simulation 1 first
  EXPECT_EQ(d.feature_names.back(), "log10_mass");
  o.features = ds::HaloFeatures::Positions;
  EXPECT_EQ(ds::load_as_dataset((root / "0").string(), o).shape,
            (std::vector<std::size_t>{1, 4, 3}));
  o.n_halos = 50;
  EXPECT_THROW(ds::load_as_dataset(root.string(), o), ds::FileError);  // fewer halos than asked
}

TEST(Quijote, ProcessedCloudsWithACosmologyTable) {
  const auto dir = dstest::scratch_dir("quijote-processed");
  std::vector<double> clouds(2 * 3 * 7, 0.0);
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < 3; ++i) {
      double* row = clouds.data() + (s * 3 + i) * 7;
      row[0] = 10 * i, row[1] = 20, row[2] = 30, row[3] = 1, row[4] = 2, row[5] = 3;
      row[6] = 1e14 / (i + 1);
    }
  dstest::write_raw_npy((dir / "clouds.npy").string(),
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 7), }",
                        dstest::bytes_of(clouds));
  std::ofstream(dir / "cosmo.csv") << "Omega_m,sigma_8\n0.3,0.8\n0.2,0.9\n";
  ds::ConvertOptions o;
  o.params_path = (dir / "cosmo.csv").string();
  EXPECT_EQ(ds::classify_input((dir / "clouds.npy").string()), ds::InputKind::ProcessedClouds);
  const auto d = ds::load_as_dataset((dir / "clouds.npy").string(), o);
  EXPECT_EQ(d.shape, (std::vector<std::size_t>{2, 3, 7}));
  EXPECT_NEAR(d.sample(0)[6], 14.0, 1e-6);
  EXPECT_DOUBLE_EQ(d.param(1, 1), 0.9);
  std::ofstream(dir / "short.csv") << "Omega_m,sigma_8\n0.3,0.8\n";
  o.params_path = (dir / "short.csv").string();
  EXPECT_THROW(ds::load_as_dataset((dir / "clouds.npy").string(), o), ds::FileError);
}

// Issue 18: a header claiming 2^31 - 1 groups in a 24-byte file made the reader allocate
// 2^31 x 6 floats (48 GB) for GroupTLen before noticing the file was short.
TEST(Quijote, AbsurdGroupCountIsRefusedBeforeAllocating) {
  const auto root = dstest::scratch_dir("quijote-absurd");
  fs::create_directories(root / "groups_004");
  const std::string path = (root / "groups_004" / "group_tab_004.0").string();
  {
    std::ofstream out(path, std::ios::binary);
    const std::int32_t header[3] = {0x7fffffff, 0x7fffffff, 0};
    const std::uint64_t tot_nids = 0;
    const std::uint32_t files = 1;
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out.write(reinterpret_cast<const char*>(&tot_nids), sizeof tot_nids);
    out.write(reinterpret_cast<const char*>(&files), sizeof files);
  }
  try {
    ds::read_quijote_fof(root.string());
    FAIL() << "no error";
  } catch (const ds::FileError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find("truncated: the header claims 2147483647 groups "
                                         "(180388626372 bytes), the file has 24 bytes"),
              std::string::npos)
        << e.what();
  }
}
