// Writes the seed corpora of tests/fuzz/corpus/<target>/ with the project's own writers: small
// valid files, plus a few near-valid ones (truncated, one field off) so that the fuzzers start
// inside the formats. Usage: make_fuzz_seeds <corpus folder>. scripts/fuzz.sh --seeds runs it.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "fuzz_support.h"
#include "nets/torch_save_writer.h"

namespace fs = std::filesystem;
using namespace ds;
using namespace ds::testing;

namespace {

fs::path corpus;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(corpus / target);
  std::ofstream(corpus / target / name, std::ios::binary) << bytes;
}

// A file written by a writer at a scratch path, then stored as seed (and a truncated copy).
template <class Write>
void put_written(const std::string& target, const std::string& name, Write write,
                 bool truncated_copy = true) {
  const fs::path scratch = fs::temp_directory_path() / ("ds-seed-" + name);
  write(scratch.string());
  const std::string bytes = slurp(scratch);
  fs::remove(scratch);
  put(target, name, bytes);
  if (truncated_copy) put(target, name + ".truncated", bytes.substr(0, bytes.size() * 3 / 4));
}

std::string join(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ds::fuzz::kFileSeparator;
    out += p;
  }
  return out;
}

std::string npy_bytes(const std::vector<std::size_t>& shape, const std::vector<double>& v,
                      bool f32) {
  const fs::path scratch = fs::temp_directory_path() / "ds-seed.npy";
  write_npy(scratch.string(), shape, v, f32);
  std::string b = slurp(scratch);
  fs::remove(scratch);
  return b;
}

std::vector<double> ramp(std::size_t n, double scale = 1.0) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * (1.0 + double(i % 7));
  return v;
}

// One FoF group_tab file of Quijote's layout: header, then the halo blocks.
std::string group_tab(std::int32_t n, std::int32_t total, std::uint32_t files) {
  std::string out;
  auto raw = [&out](const void* p, std::size_t bytes) {
    out.append(static_cast<const char*>(p), bytes);
  };
  const std::int32_t nids = 0;
  const std::uint64_t tot_nids = 0;
  raw(&n, 4);
  raw(&total, 4);
  raw(&nids, 4);
  raw(&tot_nids, 8);
  raw(&files, 4);
  for (std::int32_t i = 0; i < n; ++i) {
    const std::int32_t len = 20 + i;
    raw(&len, 4);
  }
  for (std::int32_t i = 0; i < n; ++i) raw(&i, 4);
  for (std::int32_t i = 0; i < n; ++i) {
    const float m = 1.0f + float(i);
    raw(&m, 4);
  }
  for (std::int32_t i = 0; i < 3 * n; ++i) {
    const float x = 1000.0f * float(i * 37 % 1000);
    raw(&x, 4);
  }
  for (std::int32_t i = 0; i < 3 * n; ++i) {
    const float v = float(i) - 4.0f;
    raw(&v, 4);
  }
  for (std::int32_t i = 0; i < 12 * n; ++i) {
    const float z = 0.0f;
    raw(&z, 4);
  }
  return out;
}

Chains small_chains() {
  Chains c;
  c.names = {"Omega_m", "sigma_8"};
  c.labels = {"\\Omega_m", "\\sigma_8"};
  c.ranges = {{0.1, 0.5}, {0.6, 1.0}};
  c.chains = 2;
  c.draws = 3;
  for (std::size_t i = 0; i < c.chains * c.draws; ++i) {
    c.values.push_back(0.3 + 0.01 * double(i));
    c.values.push_back(0.8 - 0.01 * double(i));
    c.lp.push_back(-1.0 - double(i));
    c.acceptance_rate.push_back(0.9);
    c.step_size.push_back(0.1);
    c.energy.push_back(2.0);
    c.energy_error.push_back(0.01);
    c.n_steps.push_back(3);
    c.diverging.push_back(i == 4);
  }
  c.sampler = "hmc";
  c.seed = 7;
  c.settings_json = "{\"step_size\":0.1}";
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds <corpus folder>\n";
    return 2;
  }
  corpus = argv[1];

  // npy: each dtype, both orders, a 0-d and an empty array, a version 2 header.
  put("npy", "f8_2x3.npy", npy_bytes({2, 3}, ramp(6), false));
  put("npy", "f4_4.npy", npy_bytes({4}, ramp(4), true));
  put("npy", "scalar.npy", npy_bytes({}, {3.0}, false));
  put("npy", "empty.npy", npy_bytes({0, 3}, {}, false));
  {
    std::string b = npy_bytes({2, 2}, ramp(4), false);
    const auto at = b.find("False");
    put("npy", "fortran.npy", b.replace(at, 5, "True "));
    std::string i4 = npy_bytes({3}, ramp(3), true);
    put("npy", "i4.npy", i4.replace(i4.find("<f4"), 3, "<i4"));
    std::string v2 = "\x93NUMPY\x02";
    v2 += '\0';
    const std::string dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n";
    for (int k = 0; k < 4; ++k) v2 += char(k == 0 ? dict.size() : 0);
    v2 += dict;
    v2.append(16, '\1');
    put("npy", "v2_i8.npy", v2);
  }

  // Pickles and torch.save archives: a checkpoint dict with metadata and a state dict.
  TorchSavePickler pickler;
  auto root = pv_dict();
  pv_set(root, "model_type", pv_str("explicitconditional"));
  auto kwargs = pv_dict();
  pv_set(kwargs, "dim", pv_int(8));
  pv_set(kwargs, "dim_mults", pv_seq(PickleKind::Tuple, {pv_int(1), pv_int(2)}));
  pv_set(kwargs, "channels", pv_int(1));
  pv_set(root, "model_kwargs", kwargs);
  pv_set(root, "schedule", pv_str("custom_linear_beta_schedule"));
  pv_set(root, "epoch", pv_int(3));
  pv_set(root, "itn", pv_int(120));
  pv_set(root, "betas", pickler.tensor(torch::linspace(1e-4, 0.02, 5)));
  auto weights = pv_dict();
  pv_set(weights, "init_conv.weight", pickler.tensor(torch::ones({2, 1, 3, 3})));
  pv_set(weights, "init_conv.bias", pickler.view({1, 2, 3, 4, 5, 6}, 1, {2, 2}, {1, 2}));
  pv_set(root, "model_state_dict", weights);
  pv_set(root, "model_ema_state_dict", weights);
  const std::string data_pkl = pickler.pickle(*root);
  put("pickle", "checkpoint.pkl", data_pkl);
  put("pickle", "truncated.pkl", data_pkl.substr(0, data_pkl.size() / 2));
  // Protocol-4 opcodes torch.save does not use but the machine accepts: memo, frames, bytes.
  {
    // dict {'a': 1, 'b': b'xy'} and list ['a', 'b'] via the memo, in a tuple, inside a frame.
    const std::vector<int> ops = {0x80, 4,    0x95, 40,   0,   0,    0,    0,   0,   0,    0,
                                  '}',  0x94, '(',  0x8c, 1,   'a',  0x94, 'K', 1,   0x8c, 1,
                                  'b',  0x94, 'C',  2,    'x', 'y',  0x94, 'u', ']', 0x94, '(',
                                  'h',  1,    'h',  2,    'e', 0x86, 0x94, '.'};
    std::string proto4;
    for (int op : ops) proto4 += char(op);
    put("pickle", "proto4.pkl", proto4);
  }
  put("pickle", "global.pkl",
      std::string("\x80\x02"
                  "cos\nsystem\nX\x02\0\0\0lsq\x01\x85R.",
                  25));
  std::map<std::string, std::string> records{{"data.pkl", data_pkl}};
  for (const auto& [key, bytes] : pickler.storages()) records["data/" + key] = bytes;
  records["byteorder"] = "little";
  put_written("torch_checkpoint", "checkpoint.pt",
              [&](const std::string& p) { write_torch_archive(p, records); });
  auto no_storage = records;
  no_storage.erase("data/0");
  put_written(
      "torch_checkpoint", "missing_storage.pt",
      [&](const std::string& p) { write_torch_archive(p, no_storage); }, false);

  // TorchScript-shaped archives (constants.pkl, code/) and a torch.save one for the dispatch.
  TorchSavePickler constants_pickler;
  const std::string constants = constants_pickler.pickle(
      *pv_seq(PickleKind::Tuple, {constants_pickler.tensor(torch::ones({3}))}));
  std::map<std::string, std::string> script{
      {"constants.pkl", constants},
      {"code/__torch__/model.py", "class Model(Module):\n  def forward(self, x):\n    return x\n"},
      {"data.pkl", TorchSavePickler().pickle(*pv_dict())},
      {"extra/diffuscope.json", "{\"conditional_dim\": 2, \"betas\": [0.1, 0.2]}"}};
  for (const auto& [key, bytes] : constants_pickler.storages()) script["constants/" + key] = bytes;
  for (const auto& [key, bytes] : constants_pickler.storages()) script["data/" + key] = bytes;
  put_written("torchscript", "module.pt",
              [&](const std::string& p) { write_torch_archive(p, script); });
  put_written(
      "torchscript", "checkpoint.pt",
      [&](const std::string& p) { write_torch_archive(p, records); }, false);

  // HDF5 dataset: fields and point clouds.
  {
    Dataset d;
    d.kind = SampleKind::Fields;
    d.shape = {2, 4, 4};
    d.samples.assign(32, 1.5f);
    d.params = {0.3, 0.8, 0.2, 0.7};
    d.param_names = {"Omega_m", "sigma_8"};
    d.box_size = 25.0;
    d.source = "mock";
    d.generator = "grf";
    d.seed = 3;
    put_written("dataset_hdf5", "fields.h5",
                [&](const std::string& p) { write_dataset_hdf5(p, d); });
    d.kind = SampleKind::Points;
    d.shape = {2, 3, 3};
    d.samples.assign(18, 10.0f);
    d.feature_names = {"x", "y", "z"};
    d.box_size = 1000.0;
    put_written(
        "dataset_hdf5", "points.h5", [&](const std::string& p) { write_dataset_hdf5(p, d); },
        false);
  }

  // HDF5 model: a training checkpoint with everything, and an inference export.
  {
    ModelCheckpoint c;
    c.config_json =
        R"({"format":"diffuscope-model","modality":"field2d","architecture":{"dim":8}})";
    c.betas = {1e-4, 0.01, 0.02};
    c.weights = {{"init_conv.weight", {2, 1, 3, 3}, std::vector<float>(18, 0.5f)},
                 {"init_conv.bias", {2}, {0.1f, 0.2f}}};
    c.ema = c.weights;
    c.exp_avg = c.weights;
    c.exp_avg_sq = c.weights;
    c.optimizer_step = 4;
    c.step = 4;
    c.data_position = 16;
    c.loss = {1.0, 0.9, 0.8, 0.7};
    c.validation = {2, 1.5, 0.1, 4, 1.2, 0.1};
    put_written("model_file", "checkpoint.h5",
                [&](const std::string& p) { write_model_checkpoint(p, c); });
    c.ema.clear();
    c.exp_avg.clear();
    c.exp_avg_sq.clear();
    put_written(
        "model_file", "export.h5", [&](const std::string& p) { write_model_checkpoint(p, c); },
        false);
  }

  // CAMELS: 15 maps of 4 x 4 (one simulation) and its params row.
  put("camels", "one_simulation",
      join({npy_bytes({15, 4, 4}, ramp(15 * 16, 1e10), true),
            "# Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2\n0.3 0.8 1.0 1.0 1.0 1.0\n"}));
  put("camels", "two_simulations",
      join({npy_bytes({30, 2, 2}, ramp(30 * 4, 1e10), false),
            "0.3 0.8 1 1 1 1\n0.2 0.7 1 1 1 1\n"}));

  // Quijote: one sub-file, two sub-files, processed clouds.
  const std::string lh = "# Omega_m Omega_b h n_s sigma_8\n0.3 0.049 0.67 0.96 0.8\n";
  put("quijote", "one_file", join({group_tab(5, 5, 1), "", lh}));
  put("quijote", "two_files", join({group_tab(3, 5, 2), group_tab(2, 5, 2), lh}));
  {
    std::vector<double> clouds;
    for (int i = 0; i < 2 * 3; ++i)
      for (double v : {100.0 + i, 200.0, 300.0, 1.0, -2.0, 3.0, 13.5}) clouds.push_back(v);
    put("quijote", "processed",
        join({npy_bytes({2, 3, 7}, clouds, true), "", "Omega_m sigma_8\n0.3 0.8\n0.2 0.7\n"}));
  }

  // Chains: GetDist root (two chains, names, ranges), CSV, ArviZ.
  {
    const Chains c = small_chains();
    const fs::path dir = fs::temp_directory_path() / "ds-seed-getdist";
    fs::create_directories(dir);
    write_getdist((dir / "root").string(), c);
    put("chain_text", "getdist",
        join({slurp(dir / "root_1.txt"), slurp(dir / "root_2.txt"), slurp(dir / "root.paramnames"),
              slurp(dir / "root.ranges")}));
    put("chain_text", "getdist_weights",
        "2 1.0 0.3 0.8\n1 1.5 0.31 0.79\n3 0.9 0.29 0.81\n" +
            std::string(ds::fuzz::kFileSeparator) + ds::fuzz::kFileSeparator.data() +
            "omegam \\Omega_m\nsigma8* \\sigma_8\n");
    write_chains_csv((dir / "c.csv").string(), c);
    put("chain_text", "chains.csv", slurp(dir / "c.csv"));
    fs::remove_all(dir);
    put_written("chain_netcdf", "chains.nc",
                [&](const std::string& p) { write_arviz_netcdf(p, c); });
  }

  // Likelihood grid: 3 x 3 with terms and an evaluated mask.
  {
    GridScan scan;
    scan.omega_m = {0.2, 0.3, 0.4};
    scan.sigma_8 = {0.7, 0.8, 0.9};
    scan.terms_per_point = 2;
    for (int i = 0; i < 9; ++i) {
      scan.log_like.push_back(-double((i - 4) * (i - 4)));
      scan.terms.push_back(-1.0);
      scan.terms.push_back(-0.5);
      scan.evaluated.push_back(1);
    }
    finish_grid_maps(scan);
    scan.settings.n = 3;
    put_written("grid_scan", "grid.h5", [&](const std::string& p) { write_grid_scan(p, scan); });
  }

  // JSON configurations: first byte 0 U-Net, 1 point net, 2 training.
  put("json_config", "unet",
      std::string(1, '\0') + R"({"dim": 16, "dim_mults": [1, 2], "channels": 1,)"
                             R"( "conditional_dim": 2, "resnet_block_groups": 8})");
  put("json_config", "points",
      std::string(1, '\1') + R"({"kind": "gnn", "features": 7, "hidden": 32, "layers": 2,)"
                             R"( "neighbours": 8, "box_size": 1000.0})");
  put("json_config", "train",
      std::string(1, '\2') + R"({"steps": 10, "batch_size": 4, "learning_rate": 0.0002,)"
                             R"( "ema_decay": 0.999, "seed": 1})");
  std::cout << "seed corpora written to " << corpus << "\n";
  return 0;
}
