// Chain files: round trips through every writer and reader, the netCDF-4 structure of the ArviZ
// file (checked with the HDF5 C API, and with netCDF-C itself when it is installed), bad inputs.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

#include "../../test_helpers.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/chains/chain_progress.h"
#include "diffuscope/random.h"

#ifdef DS_HAVE_NETCDF
#include <netcdf.h>
#endif

namespace {

namespace fs = std::filesystem;

// 3 chains x 40 draws of (Omega_m, sigma_8) with every sample statistic, including a diverged
// transition whose energy error is not finite.
ds::Chains example_chains() {
  ds::Chains c;
  c.names = {"Omega_m", "sigma_8"};
  c.labels = {"\\Omega_m", "\\sigma_8"};
  c.ranges = {{0.1, 0.5}, {0.6, 1.0}};
  c.chains = 3;
  c.draws = 40;
  c.sampler = "nuts";
  c.seed = 18446744073709551557ull;  // needs all 64 bits
  c.settings_json = R"({"max_tree_depth":10})";
  ds::Rng rng(42);
  const std::size_t n = c.chains * c.draws;
  for (std::size_t i = 0; i < n; ++i) {
    c.values.push_back(0.3 + 0.02 * rng.normal());
    c.values.push_back(0.8 + 0.03 * rng.normal());
    c.lp.push_back(10 - rng.uniform() * 3 - 1.0 / 3.0);
    c.acceptance_rate.push_back(rng.uniform());
    c.step_size.push_back(0.01 * (1 + rng.uniform()));
    c.n_steps.push_back(std::int32_t(1 + rng.below(15)));
    c.tree_depth.push_back(std::int32_t(1 + rng.below(4)));
    c.diverging.push_back(i % 17 == 5 ? 1 : 0);
    c.energy.push_back(12 + rng.normal());
    c.energy_error.push_back(i % 17 == 5 ? std::numeric_limits<double>::infinity()
                                         : 0.1 * rng.normal());
  }
  return c;
}

void expect_same_draws(const ds::Chains& a, const ds::Chains& b) {
  EXPECT_EQ(a.names, b.names);
  EXPECT_EQ(a.chains, b.chains);
  EXPECT_EQ(a.draws, b.draws);
  EXPECT_EQ(a.values, b.values) << "shortest round-trip text and float64 HDF5 are both exact";
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ChainFiles, GetDistRoundTrip) {
  const auto dir = dstest::scratch_dir("getdist");
  const std::string root = (dir / "run").string();
  const auto c = example_chains();
  ds::write_getdist(root, c);
  for (const char* f : {"run_1.txt", "run_2.txt", "run_3.txt", "run.paramnames", "run.ranges",
                        "run.properties.ini"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(read_text(dir / "run.paramnames"), "omegam  \\Omega_m\nsigma8  \\sigma_8\n");
  EXPECT_EQ(read_text(dir / "run.ranges"), "omegam  0.1  0.5\nsigma8  0.6  1\n");
  EXPECT_NE(read_text(dir / "run.properties.ini").find("burn_removed=T"), std::string::npos);
  // A row: weight 1, -ln(posterior), the parameters.
  std::ifstream first(dir / "run_1.txt");
  double weight, minus_lp, om, s8;
  first >> weight >> minus_lp >> om >> s8;
  EXPECT_EQ(weight, 1.0);
  EXPECT_EQ(minus_lp, -c.lp[0]);
  EXPECT_EQ(om, c.values[0]);

  const auto back = ds::read_getdist(root);
  expect_same_draws(c, back);
  EXPECT_EQ(back.lp, c.lp);
  EXPECT_EQ(back.labels, c.labels);
  EXPECT_EQ(back.ranges, c.ranges);
  EXPECT_EQ(back.sampler, "nuts");
  EXPECT_EQ(back.seed, c.seed);
  // A chain file names its root too.
  expect_same_draws(c, ds::read_chains((dir / "run_2.txt").string()));
}

TEST(ChainFiles, GetDistRewriteWithFewerChainsRemovesStaleFiles) {
  const auto dir = dstest::scratch_dir("getdist-stale");
  const std::string root = (dir / "run").string();
  auto c = example_chains();
  ds::write_getdist(root, c);
  c.chains = 2;
  c.values.resize(2 * 40 * 2);
  c.lp.resize(80);
  c.acceptance_rate.clear();
  c.step_size.clear();
  c.n_steps.clear();
  c.tree_depth.clear();
  c.diverging.clear();
  c.energy.clear();
  c.energy_error.clear();
  ds::write_getdist(root, c);
  EXPECT_FALSE(fs::exists(dir / "run_3.txt"));
  EXPECT_EQ(ds::read_getdist(root).chains, 2u);
}

TEST(ChainFiles, GetDistReaderExpandsMultiplicitiesAndReadsASingleFile) {
  const auto dir = dstest::scratch_dir("getdist-weights");
  std::ofstream(dir / "w.txt") << "# a comment\n2 1.5 0.3 0.8\n1 1.25 0.31 0.79\n";
  std::ofstream(dir / "w.paramnames") << "omegam \\Omega_m\nsigma8* \\sigma_8\n";
  const auto c = ds::read_getdist((dir / "w").string());
  EXPECT_EQ(c.chains, 1u);
  EXPECT_EQ(c.draws, 3u);
  EXPECT_EQ(c.names, (std::vector<std::string>{"Omega_m", "sigma_8"}));
  EXPECT_EQ(c.values, (std::vector<double>{0.3, 0.8, 0.3, 0.8, 0.31, 0.79}));
  EXPECT_EQ(c.lp, (std::vector<double>{-1.5, -1.5, -1.25}));
}

TEST(ChainFiles, CsvRoundTripKeepsEveryStatistic) {
  const auto dir = dstest::scratch_dir("csv");
  const std::string path = (dir / "chains.csv").string();
  const auto c = example_chains();
  ds::write_chains_csv(path, c);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header,
            "chain,draw,Omega_m,sigma_8,lp,acceptance_rate,step_size,n_steps,tree_depth,"
            "diverging,energy,energy_error");
  const auto back = ds::read_chains(path);
  expect_same_draws(c, back);
  EXPECT_EQ(back.lp, c.lp);
  EXPECT_EQ(back.acceptance_rate, c.acceptance_rate);
  EXPECT_EQ(back.step_size, c.step_size);
  EXPECT_EQ(back.n_steps, c.n_steps);
  EXPECT_EQ(back.tree_depth, c.tree_depth);
  EXPECT_EQ(back.diverging, c.diverging);
  EXPECT_EQ(back.energy, c.energy);
  EXPECT_EQ(back.energy_error, c.energy_error) << "inf survives as text";
}

template <class F>
void expect_file_error(F&& read, const std::string& file, const std::string& reason) {
  try {
    read();
    ADD_FAILURE() << "no error; expected one naming " << file;
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
}

// --- chain files in progress ------------------------------------------------------------------

// Iterations of 3 chains as a sampler streams them: warm-up 2, then 5 kept; returns the Chains of
// the kept draws.
ds::Chains stream_synthetic_iterations(ds::ChainProgressWriter& writer) {
  ds::Chains kept;
  kept.names = {"Omega_m", "sigma_8"};
  kept.chains = 3;
  kept.draws = 5;
  kept.sampler = "nuts";
  kept.seed = 18446744073709551557ull;
  const std::size_t warmup = 2;
  ds::Rng rng(7);
  ds::McmcIteration it;
  it.total = warmup + kept.draws;
  it.chains.resize(kept.chains);
  std::vector<std::vector<double>> chain_major(kept.chains * kept.draws);
  for (std::size_t i = 0; i < it.total; ++i) {
    it.iteration = i;
    it.warmup = i < warmup;
    for (std::size_t c = 0; c < kept.chains; ++c) {
      ds::Transition& t = it.chains[c];
      t.position = {0.3 + 0.02 * rng.normal(), 0.8 + 0.03 * rng.normal()};
      t.lp = 10 - rng.uniform() * 3 - 1.0 / 3.0;
      t.acceptance_rate = rng.uniform();
      t.step_size = 0.01 * (1 + rng.uniform());
      t.n_steps = std::int32_t(1 + rng.below(15));
      t.tree_depth = std::int32_t(1 + rng.below(4));
      t.diverging = (i * 3 + c) % 7 == 4;
      t.energy = 12 + rng.normal();
      t.energy_error = t.diverging ? std::numeric_limits<double>::infinity() : 0.1 * rng.normal();
    }
    writer.append(it);
    if (it.warmup) continue;
    EXPECT_EQ(writer.draws_written(), i - warmup + 1);
    for (std::size_t c = 0; c < kept.chains; ++c) {
      const ds::Transition& t = it.chains[c];
      auto& slot = chain_major[c * kept.draws + i - warmup];
      slot = t.position;
      slot.insert(slot.end(),
                  {t.lp, t.acceptance_rate, t.step_size, double(t.n_steps), double(t.tree_depth),
                   t.diverging ? 1.0 : 0.0, t.energy, t.energy_error});
    }
  }
  for (const auto& d : chain_major) {
    kept.values.insert(kept.values.end(), d.begin(), d.begin() + 2);
    kept.lp.push_back(d[2]);
    kept.acceptance_rate.push_back(d[3]);
    kept.step_size.push_back(d[4]);
    kept.n_steps.push_back(std::int32_t(d[5]));
    kept.tree_depth.push_back(std::int32_t(d[6]));
    kept.diverging.push_back(std::uint8_t(d[7]));
    kept.energy.push_back(d[8]);
    kept.energy_error.push_back(d[9]);
  }
  return kept;
}

TEST(ChainFiles, ProgressFileReadsBackAsTheKeptDraws) {
  const auto dir = dstest::scratch_dir("progress");
  const std::string path = (dir / "run.partial.csv").string();
  ds::ChainProgressWriter writer(path, {"Omega_m", "sigma_8"}, 3, "nuts", 18446744073709551557ull);
  const ds::Chains kept = stream_synthetic_iterations(writer);
  // Read while the writer still holds the file open, as `diagnose` would during a run.
  const std::string text = read_text(path);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "# diffuscope chains in progress (sampler nuts, seed 18446744073709551557, 3 chains): "
            "kept draws are appended as they are made; a crash leaves the draws made so far");
  const ds::Chains back = ds::read_chains(path);
  expect_same_draws(kept, back);
  EXPECT_EQ(back.draws, 5u) << "warm-up iterations are not written";
  EXPECT_EQ(back.lp, kept.lp);
  EXPECT_EQ(back.acceptance_rate, kept.acceptance_rate);
  EXPECT_EQ(back.step_size, kept.step_size);
  EXPECT_EQ(back.n_steps, kept.n_steps);
  EXPECT_EQ(back.tree_depth, kept.tree_depth);
  EXPECT_EQ(back.diverging, kept.diverging);
  EXPECT_EQ(back.energy, kept.energy);
  EXPECT_EQ(back.energy_error, kept.energy_error) << "inf survives as text";
  EXPECT_EQ(back.sampler, "nuts");
  EXPECT_EQ(back.seed, 18446744073709551557ull);

  // The lines of an ordinary CSV chain file of the kept draws (write_chains_csv's layout),
  // iteration-major instead of chain-major.
  const std::string ordinary = (dir / "ordinary.csv").string();
  ds::write_chains_csv(ordinary, kept);
  const auto sorted_lines = [](const std::string& lines) {
    std::vector<std::string> out;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(sorted_lines(text.substr(text.find('\n') + 1)), sorted_lines(read_text(ordinary)));

  writer.remove();
  EXPECT_FALSE(fs::exists(path)) << "removed once the final files are written";
  writer.remove();  // idempotent
}

TEST(ChainFiles, ProgressFileDropsATornEndButAnOrdinaryCsvDoesNot) {
  const auto dir = dstest::scratch_dir("progress-torn");
  const std::string path = (dir / "run.partial.csv").string();
  std::string text;
  {
    ds::ChainProgressWriter writer(path, {"Omega_m", "sigma_8"}, 3, "hmc", 3);
    stream_synthetic_iterations(writer);
    text = read_text(path);
  }
  EXPECT_FALSE(fs::exists(path)) << "the destructor removes the file (an exception, a cancel)";

  const std::string killed = (dir / "killed.csv").string();
  const auto reads_five_draws = [&](const std::string& contents, const std::string& what) {
    std::ofstream(killed, std::ios::binary) << contents;
    const ds::Chains back = ds::read_chains(killed);
    EXPECT_EQ(back.chains, 3u) << what;
    EXPECT_EQ(back.draws, 5u) << what;
    EXPECT_EQ(back.sampler, "hmc") << what;
  };
  reads_five_draws(text, "whole");
  reads_five_draws(text + "0,5,0.31,0.7", "a torn last line (no newline, fewer fields)");
  reads_five_draws(text + "0,5,0.31,0.79,1,0.5,0.01,3,2,0,12,0.0", "no newline, all fields");
  reads_five_draws(text + "0,5,0.31,0.79,1,0.5,0.01,3,2,0,12,0.01\n1,5,0.3",
                   "an incomplete last iteration and a torn line");
  reads_five_draws(text +
                       "0,5,0.31,0.79,1,0.5,0.01,3,2,0,12,0.01\n1,5,0.3,0.8,1,0.5,0.01,3,2,0,"
                       "12,0.01\n",
                   "an incomplete last iteration of whole lines");

  // Only the last line may be torn, and only in a file marked as in progress.
  const std::string body = text.substr(text.find('\n') + 1);
  const std::string middle = "0,5,0.31\n0,6,0.31,0.79,1,0.5,0.01,3,2,0,12,0.01\n";
  std::ofstream(killed, std::ios::binary) << text << middle;
  expect_file_error([&] { ds::read_chains(killed); }, "killed.csv", "ragged");
  std::ofstream(killed, std::ios::binary) << body << "0,5,0.31,0.7";
  expect_file_error([&] { ds::read_chains(killed); }, "killed.csv", "ragged");

  // Killed before every chain had a kept draw.
  const std::string header_only = text.substr(0, text.find("\n0,0,") + 1);
  std::ofstream(killed, std::ios::binary) << header_only << "0,0,0.3,0.8,1,0.5,0.01,3,2,0,12,0\n";
  expect_file_error([&] { ds::read_chains(killed); }, "killed.csv", "no complete draw yet");
  std::ofstream(killed, std::ios::binary) << header_only;
  expect_file_error([&] { ds::read_chains(killed); }, "killed.csv", "no complete draw yet");
}

TEST(ChainFiles, ProgressWriterNamesTheFileItCannotCreate) {
  const auto dir = dstest::scratch_dir("progress-bad");
  const std::string path = (dir / "missing" / "run.partial.csv").string();
  try {
    ds::ChainProgressWriter writer(path, {"Omega_m"}, 1, "nuts", 1);
    ADD_FAILURE() << "no error creating " << path;
  } catch (const ds::FileError& e) {
    EXPECT_EQ(e.path(), path);
  }
  EXPECT_THROW(ds::ChainProgressWriter((dir / "x.csv").string(), {"a,b"}, 1, "nuts", 1),
               ds::InvalidArgument);
}

TEST(ChainFiles, ArvizRoundTrip) {
  const auto dir = dstest::scratch_dir("arviz");
  const std::string path = (dir / "run.nc").string();
  const auto c = example_chains();
  ds::write_arviz_netcdf(path, c);
  const auto back = ds::read_chains(path);
  expect_same_draws(c, back);
  EXPECT_EQ(back.labels, c.labels);
  EXPECT_EQ(back.ranges, c.ranges);
  EXPECT_EQ(back.lp, c.lp);
  EXPECT_EQ(back.acceptance_rate, c.acceptance_rate);
  EXPECT_EQ(back.step_size, c.step_size);
  EXPECT_EQ(back.n_steps, c.n_steps);
  EXPECT_EQ(back.tree_depth, c.tree_depth);
  EXPECT_EQ(back.diverging, c.diverging);
  EXPECT_EQ(back.energy, c.energy);
  EXPECT_EQ(back.energy_error, c.energy_error);
  EXPECT_EQ(back.sampler, "nuts");
  EXPECT_EQ(back.seed, c.seed);
  EXPECT_EQ(back.settings_json, c.settings_json);
}

// --- structure of the ArviZ file through the HDF5 C API --------------------------------------

std::string string_attribute(hid_t object, const char* key) {
  const hid_t a = H5Aopen(object, key, H5P_DEFAULT);
  EXPECT_GE(a, 0) << "attribute " << key;
  if (a < 0) return "";
  const hid_t type = H5Aget_type(a);
  EXPECT_EQ(H5Tget_class(type), H5T_STRING);
  std::string out;
  if (H5Tis_variable_str(type) > 0) {
    char* s = nullptr;
    H5Aread(a, type, &s);
    out = s ? s : "";
    H5free_memory(s);
  }
  H5Tclose(type);
  H5Aclose(a);
  return out;
}

void expect_provenance(hid_t object, const std::string& where) {
  static const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)");
  EXPECT_TRUE(std::regex_match(string_attribute(object, "created_at"), iso)) << where;
  EXPECT_EQ(string_attribute(object, "inference_library"), "diffuscope") << where;
  EXPECT_FALSE(string_attribute(object, "inference_library_version").empty()) << where;
}

TEST(ChainFiles, ArvizFileHasNetcdfDimensionScales) {
  const auto dir = dstest::scratch_dir("arviz-structure");
  const std::string path = (dir / "run.nc").string();
  const auto c = example_chains();
  ds::write_arviz_netcdf(path, c);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  expect_provenance(file, "file");
  const std::vector<std::pair<std::string, std::vector<std::string>>> groups = {
      {"posterior", {"Omega_m", "sigma_8"}},
      {"sample_stats",
       {"lp", "acceptance_rate", "step_size", "n_steps", "tree_depth", "diverging", "energy",
        "energy_error"}}};
  for (const auto& [group_name, variables] : groups) {
    const hid_t group = H5Gopen2(file, group_name.c_str(), H5P_DEFAULT);
    ASSERT_GE(group, 0) << group_name;
    expect_provenance(group, group_name);
    // netCDF-4 tracks the creation order of links and attributes.
    const hid_t gcpl = H5Gget_create_plist(group);
    unsigned order = 0;
    H5Pget_link_creation_order(gcpl, &order);
    EXPECT_TRUE(order & H5P_CRT_ORDER_TRACKED) << group_name;
    H5Pclose(gcpl);
    hid_t scales[2];
    const char* scale_names[2] = {"chain", "draw"};
    const std::size_t lengths[2] = {c.chains, c.draws};
    for (int s = 0; s < 2; ++s) {
      scales[s] = H5Dopen2(group, scale_names[s], H5P_DEFAULT);
      ASSERT_GE(scales[s], 0) << group_name << "/" << scale_names[s];
      EXPECT_GT(H5DSis_scale(scales[s]), 0) << group_name << "/" << scale_names[s];
      char name[16] = {};
      H5DSget_scale_name(scales[s], name, sizeof name);
      EXPECT_STREQ(name, scale_names[s]);
      const hid_t type = H5Dget_type(scales[s]);
      EXPECT_GT(H5Tequal(type, H5T_STD_I64LE), 0) << "int64 coordinates";
      H5Tclose(type);
      std::vector<std::int64_t> index(lengths[s]);
      H5Dread(scales[s], H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, index.data());
      for (std::size_t i = 0; i < index.size(); ++i) EXPECT_EQ(index[i], std::int64_t(i));
    }
    for (const auto& v : variables) {
      const hid_t set = H5Dopen2(group, v.c_str(), H5P_DEFAULT);
      ASSERT_GE(set, 0) << group_name << "/" << v;
      EXPECT_LE(H5DSis_scale(set), 0);
      EXPECT_GT(H5DSis_attached(set, scales[0], 0), 0) << v << " axis 0 is chain";
      EXPECT_GT(H5DSis_attached(set, scales[1], 1), 0) << v << " axis 1 is draw";
      const hid_t space = H5Dget_space(set);
      hsize_t dims[2] = {};
      EXPECT_EQ(H5Sget_simple_extent_dims(space, dims, nullptr), 2);
      EXPECT_EQ(dims[0], c.chains);
      EXPECT_EQ(dims[1], c.draws);
      H5Sclose(space);
      const hid_t type = H5Dget_type(set);
      if (v == "diverging") {
        EXPECT_GT(H5Tequal(type, H5T_STD_I8LE), 0) << "booleans as int8";
        EXPECT_EQ(string_attribute(set, "dtype"), "bool");
      } else if (v == "n_steps" || v == "tree_depth") {
        EXPECT_GT(H5Tequal(type, H5T_STD_I32LE), 0) << v;
      } else {
        EXPECT_GT(H5Tequal(type, H5T_IEEE_F64LE), 0) << v;
      }
      H5Tclose(type);
      H5Dclose(set);
    }
    H5Dclose(scales[0]);
    H5Dclose(scales[1]);
    H5Gclose(group);
  }
  H5Fclose(file);
}

#ifdef DS_HAVE_NETCDF
// netCDF-C is what netCDF4-python, and so xarray.open_dataset, reads files with.
TEST(ChainFiles, NetcdfLibraryReadsTheArvizFile) {
  const auto dir = dstest::scratch_dir("arviz-netcdf");
  const std::string path = (dir / "run.nc").string();
  const auto c = example_chains();
  ds::write_arviz_netcdf(path, c);
  int file = -1;
  ASSERT_EQ(nc_open(path.c_str(), NC_NOWRITE, &file), NC_NOERR);
  int group = -1;
  ASSERT_EQ(nc_inq_grp_ncid(file, "posterior", &group), NC_NOERR);
  int dims = 0, vars = 0;
  nc_inq(group, &dims, &vars, nullptr, nullptr);
  EXPECT_EQ(dims, 2);
  EXPECT_EQ(vars, 4) << "chain, draw, Omega_m, sigma_8";
  int var = -1;
  ASSERT_EQ(nc_inq_varid(group, "sigma_8", &var), NC_NOERR);
  int ndims = 0, dimids[NC_MAX_VAR_DIMS];
  nc_inq_var(group, var, nullptr, nullptr, &ndims, dimids, nullptr);
  ASSERT_EQ(ndims, 2);
  char name[NC_MAX_NAME + 1];
  std::size_t length = 0;
  nc_inq_dim(group, dimids[0], name, &length);
  EXPECT_STREQ(name, "chain");
  EXPECT_EQ(length, c.chains);
  nc_inq_dim(group, dimids[1], name, &length);
  EXPECT_STREQ(name, "draw");
  EXPECT_EQ(length, c.draws);
  std::vector<double> values(c.chains * c.draws);
  ASSERT_EQ(nc_get_var_double(group, var, values.data()), NC_NOERR);
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], c.values[2 * i + 1]);

  int stats = -1;
  ASSERT_EQ(nc_inq_grp_ncid(file, "sample_stats", &stats), NC_NOERR);
  ASSERT_EQ(nc_inq_varid(stats, "diverging", &var), NC_NOERR);
  nc_type type = NC_NAT;
  nc_inq_vartype(stats, var, &type);
  EXPECT_EQ(type, NC_BYTE);
  char* dtype = nullptr;
  ASSERT_EQ(nc_get_att_string(stats, var, "dtype", &dtype), NC_NOERR);
  EXPECT_STREQ(dtype, "bool");
  nc_free_string(1, &dtype);
  char* library = nullptr;
  ASSERT_EQ(nc_get_att_string(file, NC_GLOBAL, "inference_library", &library), NC_NOERR);
  EXPECT_STREQ(library, "diffuscope");
  nc_free_string(1, &library);
  nc_close(file);

  // Creation order is tracked, so netCDF may also modify the file (append an attribute).
  ASSERT_EQ(nc_open(path.c_str(), NC_WRITE, &file), NC_NOERR);
  ASSERT_EQ(nc_inq_grp_ncid(file, "posterior", &group), NC_NOERR);
  EXPECT_EQ(nc_put_att_text(group, NC_GLOBAL, "comment", 2, "ok"), NC_NOERR);
  EXPECT_EQ(nc_close(file), NC_NOERR);
  EXPECT_EQ(ds::read_chains(path).values, c.values);
}

// A file laid out as ArviZ's to_netcdf writes it through netCDF4-python (netCDF-C's own
// dimension bookkeeping, an extra-dimension variable, a byte "bool"): our reader takes it.
TEST(ChainFiles, ReadsAFileWrittenByNetcdfItself) {
  const auto dir = dstest::scratch_dir("arviz-foreign");
  const std::string path = (dir / "foreign.nc").string();
  int file = -1, post = -1, stats = -1;
  ASSERT_EQ(nc_create(path.c_str(), NC_NETCDF4 | NC_CLOBBER, &file), NC_NOERR);
  nc_def_grp(file, "posterior", &post);
  nc_def_grp(file, "sample_stats", &stats);
  const std::size_t chains = 2, draws = 5;
  for (int g : {post, stats}) {
    int dims[2], coordinate;
    nc_def_dim(g, "chain", chains, &dims[0]);
    nc_def_dim(g, "draw", draws, &dims[1]);
    nc_def_var(g, "chain", NC_INT64, 1, &dims[0], &coordinate);
    nc_def_var(g, "draw", NC_INT64, 1, &dims[1], &coordinate);
    if (g == post) {
      int mu, theta, extra[3] = {dims[0], dims[1], 0};
      nc_def_dim(g, "theta_dim_0", 3, &extra[2]);
      nc_def_var(g, "mu", NC_DOUBLE, 2, dims, &mu);
      nc_def_var(g, "theta", NC_DOUBLE, 3, extra, &theta);
      std::vector<double> values(chains * draws), wide(chains * draws * 3, 1.0);
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * double(i);
      nc_put_var_double(g, mu, values.data());
      nc_put_var_double(g, theta, wide.data());
    } else {
      int diverging;
      nc_def_var(g, "diverging", NC_BYTE, 2, dims, &diverging);
      nc_put_att_text(g, diverging, "dtype", 4, "bool");
      std::vector<signed char> flags(chains * draws, 0);
      flags[3] = 1;
      nc_put_var_schar(g, diverging, flags.data());
    }
  }
  ASSERT_EQ(nc_close(file), NC_NOERR);
  const auto c = ds::read_chains(path);
  EXPECT_EQ(c.names, (std::vector<std::string>{"mu"})) << "theta has an extra dimension";
  EXPECT_EQ(c.chains, chains);
  EXPECT_EQ(c.draws, draws);
  EXPECT_EQ(c.values[9], 4.5);
  EXPECT_EQ(c.diverging, (std::vector<std::uint8_t>{0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(c.lp.empty());
}
#endif

// --- bad inputs -------------------------------------------------------------------------------

TEST(ChainFiles, BadInputsNameTheFile) {
  const auto dir = dstest::scratch_dir("chain-bad");
  const std::string root = (dir / "bad").string();
  expect_file_error([&] { ds::read_chains(root); }, root, "no GetDist chains");
  expect_file_error([&] { ds::read_chains((dir / "missing.nc").string()); }, "missing.nc",
                    "does not exist");
  expect_file_error([&] { ds::read_chains((dir / "missing.csv").string()); }, "missing.csv",
                    "cannot open");

  std::ofstream(dir / "bad_1.txt") << "1 0.5 0.3 0.8\n1 0.5 0.3 0.8\n";
  std::ofstream(dir / "bad_2.txt") << "1 0.5 0.3 0.8\n1 0.5 0.3 0.8\n1 0.5 0.3\n";
  expect_file_error([&] { ds::read_chains(root); }, "bad_2.txt", "line 3 has 3 columns");
  std::ofstream(dir / "bad_2.txt") << "1 0.5 0.3 0.8\n1 0.5 nan 0.8\n";
  expect_file_error([&] { ds::read_chains(root); }, "bad_2.txt", "not finite");
  std::ofstream(dir / "bad_2.txt") << "1 0.5 0.3 0.8\n";
  expect_file_error([&] { ds::read_chains(root); }, "bad_2.txt", "equal length");
  std::ofstream(dir / "bad_2.txt") << "0.5 0.5 0.3 0.8\n1 0.5 0.3 0.8\n";
  expect_file_error([&] { ds::read_chains(root); }, "bad_2.txt", "integer multiplicities");
  std::ofstream(dir / "bad_2.txt") << "1 0.5 0.3 0.8\n1 0.5 0.3 0.8\n";
  std::ofstream(dir / "bad.paramnames") << "omegam \\Omega_m\n";
  expect_file_error([&] { ds::read_chains(root); }, "bad.paramnames", "lists 1 parameters");

  const std::string csv = (dir / "bad.csv").string();
  std::ofstream(csv) << "chain,draw,Omega_m\n0,0,0.3\n0,1,nan\n";
  expect_file_error([&] { ds::read_chains(csv); }, "bad.csv", "line 3: Omega_m is not finite");
  std::ofstream(csv) << "chain,draw,Omega_m\n0,0,0.3\n0,1\n";
  expect_file_error([&] { ds::read_chains(csv); }, "bad.csv", "ragged");
  std::ofstream(csv) << "chain,draw,Omega_m\n0,0,0.3\n1,1,0.3\n";
  expect_file_error([&] { ds::read_chains(csv); }, "bad.csv", "do not fill");
  std::ofstream(csv) << "draw,Omega_m\n0,0.3\n";
  expect_file_error([&] { ds::read_chains(csv); }, "bad.csv", "chain and draw");

  const std::string not_hdf5 = (dir / "text.nc").string();
  std::ofstream(not_hdf5) << "not HDF5\n";
  expect_file_error([&] { ds::read_chains(not_hdf5); }, "text.nc", "not an HDF5 file");
  const std::string no_posterior = (dir / "empty.nc").string();
  H5Fclose(H5Fcreate(no_posterior.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  expect_file_error([&] { ds::read_chains(no_posterior); }, "empty.nc", "no group posterior");
}

TEST(ChainFiles, WritersRejectInconsistentChainsAndLeaveNothingBehind) {
  const auto dir = dstest::scratch_dir("chain-write-bad");
  auto c = example_chains();
  c.values[7] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(ds::write_arviz_netcdf((dir / "x.nc").string(), c), ds::InvalidArgument);
  c = example_chains();
  c.energy.pop_back();
  EXPECT_THROW(ds::write_chains_csv((dir / "x.csv").string(), c), ds::InvalidArgument);
  c = example_chains();
  c.names[1] = "draw";
  EXPECT_THROW(ds::write_arviz_netcdf((dir / "x.nc").string(), c), ds::InvalidArgument);
  EXPECT_THROW(ds::write_getdist((dir / "missing-dir" / "x").string(), example_chains()),
               ds::FileError);
  EXPECT_TRUE(fs::is_empty(dir)) << "no partial files";
}

}  // namespace

// fuzz_chain_text (10-minute run): a CSV whose chain column holds 19999999997 was refused with a
// message naming the column through a view of the header line, whose string the rows had already
// overwritten (heap-use-after-free under ASan; garbage in the message otherwise).
TEST(ChainFiles, FuzzRegressionCsvErrorNamesItsColumn) {
  const std::string path = dstest::fuzz_regression("csv_error_names_a_freed_column.csv");
  try {
    ds::read_chains_csv(path);
    FAIL() << "accepted";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2: chain must be a non-negative integer"),
              std::string::npos)
        << e.what();
  }
}

// fuzz_chain_text found two (tests/fuzz/regressions/getdist_absurd_weight.txt: a second chain file
// whose row has weight 9999999999999997 was expanded row by row past the allocation limit;
// getdist_weight_beyond_long.txt: a weight of 7.8e55, whose conversion to long is undefined
// behaviour, UBSan). Both are refused before expanding.
TEST(ChainFiles, FuzzRegressionGetDistAbsurdWeightIsRefusedBeforeExpanding) {
  const auto dir = dstest::scratch_dir("getdist-absurd-weight");
  const std::string root = (dir / "root").string();
  std::ofstream(root + "_1.txt") << "1 1 0.3 0.8\n1 2 0.31 0.79\n1 3 0.32 0.78\n";
  std::ofstream(root + "_2.txt")
      << "1 4 0.32999999999999996 0.77\n9999999999999997 0.76  0.1  0.5\n";
  auto expect_error = [&](const std::string& file, const std::string& needle) {
    try {
      ds::read_getdist(root);
      ADD_FAILURE() << "no error";
    } catch (const ds::FileError& e) {
      EXPECT_EQ(e.path(), file);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(root + "_2.txt", "line 2 has weight 9999999999999997, an absurd multiplicity");
  std::ofstream(root + "_2.txt") << "1e300 0.76 0.1 0.5\n";
  expect_error(root + "_2.txt", "line 1 has weight 1e300, an absurd multiplicity");
  // A plausible weight on a wide row still expands past 2^25 values: refused before expanding.
  std::string wide = "1000000 0.76";
  for (int i = 0; i < 40; ++i) wide += " 0.5";
  std::ofstream(root + "_1.txt") << wide << "\n";
  expect_error(root + "_1.txt", "the weights expand the chain beyond 33554432 values");
}
