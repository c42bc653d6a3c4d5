// Batch run folders (core/batch/run_folder.h): index lists, per-field seeds, the chunking of
// fields into array tasks, the manifest round trip and its errors, and the status of a folder
// with done, failed, missing and half-written (partial) fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../test_helpers.h"
#include "diffuscope/batch/run_folder.h"
#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace {

namespace fs = std::filesystem;

ds::BatchManifest example_manifest(std::size_t fields_per_task) {
  ds::BatchManifest m;
  m.fields_file = "/data/D.h5";
  m.fields_in_file = 12;
  m.task = ds::BatchTask::Nuts;
  m.task_arguments = {"--model", "/m.pt", "--tmax", "3"};
  m.global_arguments = {"--device", "cpu"};
  m.seed = 42;
  m.fields_per_task = fields_per_task;
  m.fields = ds::seed_fields({0, 3, 5, 6, 7}, m.seed);
  m.slurm.partition = "gpu";
  m.slurm.mem = "4G";
  m.slurm.gpus = 1;
  m.cli = "/opt/bin/diffuscope-cli";
  m.version = "0.1.0";
  m.created_at = "2026-01-01T00:00:00Z";
  return m;
}

void touch(const fs::path& path, const std::string& text = "x") {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(TestRunFolder, IndexListsParseRangesAndRefuseBadItems) {
  EXPECT_EQ(ds::parse_index_list("0,3,5-9", 10), (std::vector<std::size_t>{0, 3, 5, 6, 7, 8, 9}));
  EXPECT_EQ(ds::parse_index_list("", 3), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(ds::parse_index_list("all", 2), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(ds::parse_index_list("4,1", 5), (std::vector<std::size_t>{4, 1}));
  const auto message = [](const std::string& text) {
    try {
      ds::parse_index_list(text, 10);
    } catch (const ds::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("1,x"), "index list '1,x': 'x' is not an index");
  EXPECT_EQ(message("5-2"), "index list '5-2': range '5-2' is reversed");
  EXPECT_EQ(message("3,10"),
            "index list '3,10': index 10 is out of range (the file holds 10 fields)");
  EXPECT_EQ(message("1-3,2"), "index list '1-3,2': index 2 is repeated");
  EXPECT_EQ(message("-1"), "index list '-1': '-1' is not an index");
  EXPECT_EQ(message("1,,2"), "index list '1,,2': '' is not an index");
  EXPECT_EQ(ds::format_index_list({0, 3, 5, 6, 7, 8, 9}), "0,3,5-9");
  EXPECT_EQ(ds::format_index_list({}), "");
}

TEST(TestRunFolder, FieldSeedsDependOnTheIndexOnly) {
  const auto a = ds::seed_fields({2, 5}, 7);
  const auto b = ds::seed_fields({5}, 7);
  EXPECT_EQ(a[1].seed, b[0].seed);
  EXPECT_EQ(a[0].seed, ds::mix_seed(7, 2));
  EXPECT_NE(a[0].seed, a[1].seed);
  EXPECT_NE(ds::seed_fields({5}, 8)[0].seed, b[0].seed);
}

TEST(TestRunFolder, TasksCoverTheFieldsInChunks) {
  const ds::BatchManifest m = example_manifest(2);
  EXPECT_EQ(m.task_count(), 3u);
  EXPECT_EQ(m.task_fields(0), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(m.task_fields(2), (std::vector<std::size_t>{4}));
  EXPECT_THROW(m.task_fields(3), ds::InvalidArgument);
  EXPECT_EQ(example_manifest(1).task_count(), 5u);
}

TEST(TestRunFolder, ManifestRoundTripsAndBadManifestsNameTheFile) {
  const fs::path run = dstest::scratch_dir("batch-manifest");
  const ds::BatchManifest m = example_manifest(2);
  ds::write_batch_manifest(run.string(), m);
  const ds::BatchManifest r = ds::read_batch_manifest(run.string());
  EXPECT_EQ(r.fields_file, m.fields_file);
  EXPECT_EQ(r.task, m.task);
  EXPECT_EQ(r.task_arguments, m.task_arguments);
  EXPECT_EQ(r.global_arguments, m.global_arguments);
  EXPECT_EQ(r.seed, 42u);
  ASSERT_EQ(r.fields.size(), 5u);
  EXPECT_EQ(r.fields[4].index, 7u);
  EXPECT_EQ(r.fields[4].seed, m.fields[4].seed);
  EXPECT_EQ(r.slurm.partition, "gpu");
  EXPECT_EQ(r.slurm.gpus, 1);
  EXPECT_EQ(r.cli, m.cli);
  EXPECT_EQ(r.task_count(), 3u);

  const fs::path empty = dstest::scratch_dir("batch-empty");
  try {
    ds::read_batch_manifest(empty.string());
    FAIL() << "no error for a folder without a manifest";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a batch run folder"), std::string::npos);
  }
  touch(empty / "manifest.json", "{\"format\": \"diffuscope-batch-run\"");
  EXPECT_THROW(ds::read_batch_manifest(empty.string()), ds::FileError);
  touch(empty / "manifest.json", "{\"format\": \"diffuscope-batch-run\"}");
  try {
    ds::read_batch_manifest(empty.string());
    FAIL() << "no error for a manifest without keys";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("manifest.json: malformed manifest"), std::string::npos);
  }
  EXPECT_THROW(ds::read_batch_manifest((empty / "nope").string()), ds::FileError);
}

TEST(TestRunFolder, StatusSeparatesDoneFailedAndMissingFields) {
  const fs::path run = dstest::scratch_dir("batch-status");
  const ds::BatchManifest m = example_manifest(2);  // tasks {0, 3}, {5, 6}, {7}
  EXPECT_EQ(ds::batch_output_path(run.string(), m, 3), (run / "out" / "field-3.nc").string());
  touch(ds::batch_output_path(run.string(), m, 0));
  touch(ds::batch_output_path(run.string(), m, 3));
  touch(ds::batch_output_path(run.string(), m, 7));
  touch(ds::batch_failure_path(run.string(), 5), "vlb-grid: out of memory\nmore\n");
  // A killed attempt: scratch left, no output.
  touch(fs::path(ds::batch_partial_folder(run.string(), 6)) / "field-6.nc");
  // A field done after an earlier failure counts as done.
  touch(ds::batch_failure_path(run.string(), 7), "old error");
  const ds::BatchStatus s = ds::batch_status(run.string(), m);
  EXPECT_EQ(s.done, (std::vector<std::size_t>{0, 3, 7}));
  EXPECT_EQ(s.failed, (std::vector<std::size_t>{5}));
  EXPECT_EQ(s.missing, (std::vector<std::size_t>{6}));
  EXPECT_EQ(s.errors.at(5), "vlb-grid: out of memory");
  EXPECT_EQ(s.unfinished_tasks, (std::vector<std::size_t>{1}));
}

}  // namespace
