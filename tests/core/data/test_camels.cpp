#include <gtest/gtest.h>

#include <fstream>

#include "../test_helpers.h"
#include "data_fixtures.h"
#include "diffuscope/data/camels.h"
#include "diffuscope/data/inspect.h"
#include "diffuscope/error.h"

namespace {
// 2 simulations x 15 maps of 8 x 8; map i has the constant value i plus a gradient.
std::filesystem::path make_camels(const std::string& name, int rows = 2) {
  const auto dir = dstest::scratch_dir(name);
  std::vector<float> maps(30 * 64);
  for (int m = 0; m < 30; ++m)
    for (int p = 0; p < 64; ++p) maps[m * 64 + p] = float(m) + 0.01f * float(p);
  dstest::write_raw_npy((dir / "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy").string(),
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (30, 8, 8), }",
                        dstest::bytes_of(maps));
  std::ofstream params(dir / "params_LH_IllustrisTNG.txt");
  params << "# Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2\n";
  for (int r = 0; r < rows; ++r) params << 0.2 + 0.1 * r << " " << 0.7 + 0.1 * r << " 1 1 1 1\n";
  return dir;
}
}  // namespace

TEST(Camels, ParsesMapNamesWithUnderscoresInTheSuite) {
  const auto n = ds::parse_camels_map_name("Maps_Mtot_Nbody_IllustrisTNG_CV_z=0.00.npy");
  EXPECT_EQ(n.field, "Mtot");
  EXPECT_EQ(n.suite, "Nbody_IllustrisTNG");
  EXPECT_EQ(n.set, "CV");
  EXPECT_THROW(ds::parse_camels_map_name("fields.npy"), ds::InvalidArgument);
}

TEST(Camels, MapsTakeTheParametersOfTheirSimulation) {
  const auto dir = make_camels("camels-ok");
  const ds::CamelsMaps maps((dir / "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy").string());
  EXPECT_EQ(maps.count(), 30u);
  EXPECT_EQ(maps.resolution(), 8);
  const auto d = maps.to_dataset({});
  ASSERT_EQ(d.shape, (std::vector<std::size_t>{30, 8, 8}));
  EXPECT_EQ(d.param_names.front(), "Omega_m");
  EXPECT_DOUBLE_EQ(d.param(14, 0), 0.2);  // map 14 is the last of simulation 0
  EXPECT_DOUBLE_EQ(d.param(15, 0), 0.3);  // map 15 the first of simulation 1
  EXPECT_DOUBLE_EQ(d.param(15, 1), 0.8);
  EXPECT_FLOAT_EQ(d.sample(17)[0], 17.0f);
  EXPECT_EQ(d.set_kind, ds::SetKind::LatinHypercube);
  EXPECT_EQ(d.units, "(Msun/h)/(Mpc/h)^2");
  EXPECT_EQ(d.box_size, 25.0);
}

TEST(Camels, DownsamplingAveragesBlocksAndConservesTheMean) {
  const auto dir = make_camels("camels-down");
  const ds::CamelsMaps maps((dir / "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy").string());
  const auto d = maps.to_dataset({3, 2, 2});
  ASSERT_EQ(d.shape, (std::vector<std::size_t>{2, 4, 4}));
  double full = 0, down = 0;
  for (float v : maps.map(3)) full += v;
  for (std::size_t p = 0; p < 16; ++p) down += d.sample(0)[p];
  EXPECT_NEAR(full / 64, down / 16, 1e-5);
  // Block (0,0) of map 3 averages pixels 0, 1, 8, 9.
  EXPECT_NEAR(d.sample(0)[0], 3.0 + 0.01 * (0 + 1 + 8 + 9) / 4.0, 1e-6);
  EXPECT_THROW(maps.to_dataset({0, 0, 3}), ds::InvalidArgument);  // 3 does not divide 8
}

TEST(Camels, ParamsRowCountMustMatchTheMaps) {
  const auto dir = make_camels("camels-rows", 3);
  try {
    ds::CamelsMaps maps((dir / "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy").string());
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("has 3 rows but"), std::string::npos) << e.what();
    EXPECT_NE(e.path().find("params_LH_IllustrisTNG.txt"), std::string::npos);
  }
}

TEST(Camels, MissingParamsFileIsNamed) {
  const auto dir = make_camels("camels-noparams");
  std::filesystem::remove(dir / "params_LH_IllustrisTNG.txt");
  try {
    ds::CamelsMaps maps((dir / "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy").string());
    FAIL();
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("no params file"), std::string::npos) << e.what();
  }
}

TEST(Camels, ConvertsAndDescribes) {
  const auto dir = make_camels("camels-convert");
  const std::string maps = (dir / "Maps_Mcdm_IllustrisTNG_LH_z=0.00.npy").string();
  EXPECT_EQ(ds::classify_input(maps), ds::InputKind::CamelsMaps);
  const std::string text = ds::describe_input(maps);
  EXPECT_NE(text.find("CAMELS maps (field Mcdm, suite IllustrisTNG, set LH)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("param Omega_m: [0.2, 0.3]"), std::string::npos) << text;
  const std::string out = (dir / "camels.h5").string();
  ds::write_dataset_hdf5(out, ds::load_as_dataset(maps, {}));
  const auto back = ds::read_dataset_hdf5(out);
  EXPECT_EQ(back.count(), 30u);
  EXPECT_EQ(back.source, "CAMELS");
  EXPECT_NE(ds::describe_input(out).find("shape: [30, 8, 8]"), std::string::npos);
}
