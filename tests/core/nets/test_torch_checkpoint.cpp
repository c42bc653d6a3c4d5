// Weights-only reading of torch.save archives (nets/torch_checkpoint.h): the dhmc_tiny fixture
// made by the authors' code under PyTorch 1.13, archives written here with LibTorch's zip writer,
// and hostile or broken files.
#include "nets/torch_checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../test_helpers.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/nets/score_net.h"
#include "torch_save_writer.h"

namespace {

namespace fs = std::filesystem;
using namespace ds::testing;

const std::string kFixture = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/checkpoint_tiny.pt";

class TorchCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ds_nets_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Expects `load` to throw a FileError that names `file` and contains `reason`.
  template <class F>
  void expect_file_error(F load, const std::string& file, const std::string& reason) {
    try {
      load();
      ADD_FAILURE() << "no error for " << file;
    } catch (const ds::FileError& e) {
      EXPECT_EQ(e.path(), file);
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(TorchCheckpointTest, ReadsTheAuthorsCheckpoint) {
  const auto ckpt = ds::nets::read_torch_checkpoint(kFixture);
  EXPECT_EQ(ckpt.keys, (std::vector<std::string>{"model_type", "model_kwargs", "schedule",
                                                 "schedule_args", "betas", "epoch", "itn",
                                                 "model_state_dict", "optimizer_state_dict"}));
  EXPECT_EQ(ckpt.model_type, "explicitconditional");
  EXPECT_EQ(ckpt.model_kwargs["dim"], 16);
  EXPECT_EQ(ckpt.model_kwargs["dim_mults"], nlohmann::json::array({1, 2, 4}));
  EXPECT_EQ(ckpt.model_kwargs["circular_convolution"], true);
  EXPECT_EQ(ckpt.schedule, "custom_linear_beta_schedule");
  EXPECT_TRUE(ckpt.schedule_args.empty());
  EXPECT_EQ(ckpt.epoch, 0);
  EXPECT_EQ(ckpt.iteration, 0);
  EXPECT_FALSE(ckpt.has_ema);
  EXPECT_EQ(ckpt.weights_key, "model_state_dict");

  ASSERT_EQ(ckpt.state_dict.size(), 224u);
  std::int64_t parameters = 0;
  for (const auto& [name, tensor] : ckpt.state_dict) {
    EXPECT_EQ(tensor.dtype(), torch::kFloat32) << name;
    EXPECT_TRUE(tensor.is_contiguous()) << name;
    parameters += tensor.numel();
  }
  EXPECT_EQ(parameters, 605967);  // README of the fixture
  EXPECT_EQ(ckpt.state_dict.at("downs.0.0.block1.proj.weight").sizes(),
            torch::IntArrayRef({16, 1, 3, 3}));
  EXPECT_EQ(ckpt.state_dict.at("mid_attn.fn.fn.to_qkv.weight").sizes(),
            torch::IntArrayRef({384, 64, 1, 1}));

  // The schedule stored in the checkpoint equals betas.npy bit for bit (both float32), and is the
  // paper's custom linear schedule: beta_0 = 1e-4, beta_999 = 1e-2 * 3.
  const auto betas = ds::read_npy(std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/betas.npy");
  ASSERT_EQ(ckpt.betas.size(), 1000u);
  for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(ckpt.betas[i], betas.data[i]) << i;
  EXPECT_NEAR(ckpt.betas[0], 1e-4, 1e-10);
  EXPECT_NEAR(ckpt.betas[999], 0.03, 1e-8);
}

TEST_F(TorchCheckpointTest, RebuildsStridedViewsWithOffset) {
  // storage 0..6; view offset 1, size (2, 3), stride (1, 2): [[1, 3, 5], [2, 4, 6]].
  TorchSavePickler pickler;
  auto root = pv_dict();
  pv_set(root, "w", pickler.view({0, 1, 2, 3, 4, 5, 6}, 1, {2, 3}, {1, 2}));
  write_torch_save(path("view.pt"), pickler, *root);
  ds::nets::TorchArchive archive(path("view.pt"));
  const auto tree = archive.read_pickle_record();
  const auto w = archive.tensor(tree->find("w")->as_tensor());
  EXPECT_TRUE(w.is_contiguous());
  EXPECT_TRUE(torch::equal(w, torch::tensor({1.f, 3.f, 5.f, 2.f, 4.f, 6.f}).reshape({2, 3})));
}

TEST_F(TorchCheckpointTest, RefusesAPatchedCheckpointThatCallsAForbiddenGlobal) {
  // The fixture with its OrderedDict constructor swapped for posix.system: a real torch.load
  // would run a shell command while unpickling.
  auto records = read_torch_archive(kFixture);
  std::string& pickle = records.at("data.pkl");
  const std::string from = "ccollections\nOrderedDict\n", to = "cposix\nsystem\n";
  const auto at = pickle.find(from);
  ASSERT_NE(at, std::string::npos);
  pickle.replace(at, from.size(), to);
  write_torch_archive(path("evil.pt"), records);
  const std::string reason =
      "refuses to load: pickle references the global 'posix.system', which is not on the "
      "whitelist";
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("evil.pt")); }, path("evil.pt"),
                    reason);
  expect_file_error([&] { ds::ScoreNet2d::load(path("evil.pt")); }, path("evil.pt"), reason);
}

TEST_F(TorchCheckpointTest, RefusesAMinimalOsSystemPickle) {
  // What pickle.dumps of an object reducing to os.system('ls') contains, in a fresh archive.
  std::string evil = "\x80\x02";                      // PROTO 2
  evil += "cos\nsystem\n";                            // GLOBAL os.system
  evil += "X" + std::string("\x02\0\0\0", 4) + "ls";  // BINUNICODE 'ls'
  evil +=
      "\x85"
      "R.";  // TUPLE1, REDUCE, STOP
  write_torch_archive(path("os.pt"), {{"data.pkl", evil}});
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("os.pt")); }, path("os.pt"),
                    "the global 'os.system', which is not on the whitelist");
}

TEST_F(TorchCheckpointTest, BrokenFilesNameThePathAndTheProblem) {
  expect_file_error([&] { ds::ScoreNet2d::load(path("missing.pt")); }, path("missing.pt"),
                    "does not exist");

  std::ofstream(path("text.pt")) << "this is not a checkpoint\n";
  expect_file_error([&] { ds::ScoreNet2d::load(path("text.pt")); }, path("text.pt"),
                    "not a zip archive");

  // The first half of the fixture: the zip central directory is gone.
  {
    std::ifstream in(kFixture, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path("half.pt"), std::ios::binary).write(bytes.data(), bytes.size() / 2);
  }
  expect_file_error([&] { ds::ScoreNet2d::load(path("half.pt")); }, path("half.pt"),
                    "truncated or corrupt");

  // A storage record shorter than its persistent id says.
  auto records = read_torch_archive(kFixture);
  records.at("data/0").resize(100);
  write_torch_archive(path("short.pt"), records);
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("short.pt")); }, path("short.pt"),
                    "storage record data/0 holds 100 bytes, expected 4000");
}

TEST_F(TorchCheckpointTest, WrongContentsAreExplained) {
  {
    TorchSavePickler pickler;
    auto root = pv_seq(ds::PickleKind::List, {pv_int(1)});
    write_torch_save(path("list.pt"), pickler, *root);
  }
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("list.pt")); }, path("list.pt"),
                    "holds a pickled list, not a checkpoint dict");
  {
    TorchSavePickler pickler;
    auto root = pv_dict();
    pv_set(root, "model_type", pv_str("explicitconditional"));
    pv_set(root, "state_dict", pv_dict());
    write_torch_save(path("no_weights.pt"), pickler, *root);
  }
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("no_weights.pt")); },
                    path("no_weights.pt"), "has no 'model_state_dict' entry");
  {
    TorchSavePickler pickler;
    auto root = pv_dict();
    auto weights = pv_dict();
    pv_set(weights, "w", pv_int(3));
    pv_set(root, "model_state_dict", weights);
    write_torch_save(path("int_weight.pt"), pickler, *root);
  }
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("int_weight.pt")); },
                    path("int_weight.pt"), "holds an entry that is not a named tensor");
}

TEST(PickleToJson, ConvertsModelKwargs) {
  using namespace ds::testing;
  auto root = pv_dict();
  pv_set(root, "dim", pv_int(16));
  pv_set(root, "dim_mults", pv_seq(ds::PickleKind::Tuple, {pv_int(1), pv_int(2)}));
  pv_set(root, "lr", pv_float(2e-4));
  pv_set(root, "ema", pv_bool(false));
  pv_set(root, "none", pv_none());
  const auto j = ds::nets::pickle_to_json(*root);
  EXPECT_EQ(j.dump(), R"({"dim":16,"dim_mults":[1,2],"ema":false,"lr":0.0002,"none":null})");
  // A self-containing list (possible through the memo) is refused, not recursed forever.
  auto cyclic = pv_seq(ds::PickleKind::List, {});
  cyclic->items.push_back(cyclic);
  EXPECT_THROW(ds::nets::pickle_to_json(*cyclic), ds::InvalidArgument);
  cyclic->items.clear();  // break the cycle so the test does not leak
}

}  // namespace

// Issue 18: a storage whose pickled element count is far beyond its record used to be allocated
// first (torch::empty of 2^50 floats: a c10::Error escaping as a non-ds error, or an out-of-memory
// kill) and only then compared with the record's size.
TEST_F(TorchCheckpointTest, AbsurdStorageSizeIsRefusedBeforeAllocating) {
  TorchSavePickler pickler;
  auto weight = pickler.view({1, 2, 3, 4}, 0, {2}, {1});
  weight->tensor.storage.numel = std::int64_t(1) << 50;
  auto weights = pv_dict();
  pv_set(weights, "w", weight);
  auto root = pv_dict();
  pv_set(root, "model_state_dict", weights);
  write_torch_save(path("huge.pt"), pickler, *root);
  expect_file_error([&] { ds::nets::read_torch_checkpoint(path("huge.pt")); }, path("huge.pt"),
                    "storage record data/0 holds 16 bytes, expected 4503599627370496 "
                    "(1125899906842624 elements of 4 bytes)");
}

// Issue 18: the memo lets a tiny pickle describe an exponentially large tree (40 levels of lists
// holding the level below twice: 2^40 leaves in 200 bytes). Turning checkpoint metadata into JSON
// walked every path and never returned; it now stops at 2^20 values.
TEST_F(TorchCheckpointTest, MetadataThatExpandsExponentiallyIsRefused) {
  std::string bytes = "\x80\x02]q";
  bytes += '\0';
  bytes += '0';  // POP: the empty list stays in the memo only
  for (int level = 1; level <= 40; ++level) {
    bytes += "(h";
    bytes += char(level - 1);
    bytes += 'h';
    bytes += char(level - 1);
    bytes += "lq";
    bytes += char(level);
    bytes += '0';
  }
  bytes += 'h';
  bytes += char(40);
  bytes += '.';
  const auto tree = ds::read_pickle(bytes.data(), bytes.size(), "deep.pkl");
  try {
    ds::nets::pickle_to_json(*tree);
    ADD_FAILURE() << "no error";
  } catch (const ds::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("expands to more than 1048576 JSON values"),
              std::string::npos)
        << e.what();
  }
}

// fuzz_torch_checkpoint and fuzz_torchscript: archives whose records are not all in one top
// folder make LibTorch's reader throw c10::Error from getAllRecords(), which escaped
// is_torchscript() and read_torch_checkpoint() as a non-ds error (terminating the fuzzer; the GUI
// would only have caught it as an unknown exception).
TEST_F(TorchCheckpointTest, FuzzRegressionArchiveWithRecordsOutsideItsFolderIsAFileError) {
  for (const char* name :
       {"torch_record_outside_top_folder.pt", "torchscript_record_outside_top_folder.pt"}) {
    const std::string file = dstest::fuzz_regression(name);
    ASSERT_TRUE(fs::exists(file)) << file;
    expect_file_error([&] { ds::nets::read_torch_checkpoint(file); }, file,
                      "unreadable PyTorch archive");
    expect_file_error([&] { ds::ScoreNet2d::load(file); }, file, "unreadable PyTorch archive");
  }
}

// fuzz_torch_checkpoint (second 10-minute run): two tensors name storage 0 with different element
// counts (5 and 18). Each view fitted the count its own persistent id claimed, but the storage was
// read once, with the first count, and LibTorch's as_strided threw c10::Error out of the reader.
TEST_F(TorchCheckpointTest, FuzzRegressionStorageClaimedWithTwoSizesIsAFileError) {
  const std::string file = dstest::fuzz_regression("torch_checkpoint_storage_claimed_twice.pt");
  ASSERT_TRUE(fs::exists(file)) << file;
  expect_file_error([&] { ds::nets::read_torch_checkpoint(file); }, file,
                    "storage record data/0 is claimed as 5 and as 18 elements");
}

// fuzz_torch_checkpoint (10-minute run): a checkpoint key pickled as a str with bytes that are not
// UTF-8. The reader kept them, and naming the keys in the "no 'model_state_dict'" error made
// nlohmann's dump throw type_error 316, a non-ds exception. Python's unpickler refuses such a str;
// so does ours now, naming the byte.
TEST_F(TorchCheckpointTest, FuzzRegressionStrThatIsNotUtf8IsAFileError) {
  const std::string file = dstest::fuzz_regression("torch_checkpoint_invalid_utf8_key.pt");
  ASSERT_TRUE(fs::exists(file)) << file;
  expect_file_error([&] { ds::nets::read_torch_checkpoint(file); }, file,
                    "pickled str is not valid UTF-8 (byte 4 of");
  expect_file_error([&] { ds::ScoreNet2d::load(file); }, file, "pickled str is not valid UTF-8");
}
