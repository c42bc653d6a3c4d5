// Merging a run folder (core/batch/batch_merge.h): the table holds, per field, exactly what the
// single-field summaries give (grid_posterior.h for grids, calibration.h for chains) with the
// truths of the fields file (report-calibration records: their final grid); every output is copied
// under /fields/<index>; missing fields are refused unless allowed; count_fields / field_truths
// read HDF5 datasets and plain .npy.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "../test_helpers.h"
#include "data/hdf5_file.h"
#include "diffuscope/batch/batch_merge.h"
#include "diffuscope/batch/field_file.h"
#include "diffuscope/data/dataset.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/chains/chain_files.h"
#include "diffuscope/infer/grids/grid_posterior.h"
#include "diffuscope/random.h"

namespace {

namespace fs = std::filesystem;

// 4 fields of 8 x 8 with (Omega_m, sigma_8) = (0.2 + 0.05 i, 0.7 + 0.02 i).
std::string write_fields(const fs::path& dir) {
  ds::Dataset d;
  d.shape = {4, 8, 8};
  d.samples.assign(4 * 64, 1.0f);
  d.param_names = {"Omega_m", "sigma_8"};
  for (int i = 0; i < 4; ++i) d.params.insert(d.params.end(), {0.2 + 0.05 * i, 0.7 + 0.02 * i});
  d.box_size = 25.0;
  d.source = "mock";
  d.units = "density contrast";
  const std::string path = (dir / "fields.h5").string();
  ds::write_dataset_hdf5(path, d);
  return path;
}

// A 21 x 21 Gaussian log L centred on (om, s8).
ds::GridScan gaussian_grid(double om, double s8) {
  ds::GridScan scan;
  scan.settings.n = 21;
  scan.settings.full_prior = true;
  scan.omega_m = ds::grid_axis_omega_m(scan.settings);
  scan.sigma_8 = ds::grid_axis_sigma_8(scan.settings);
  for (double y : scan.sigma_8)
    for (double x : scan.omega_m)
      scan.log_like.push_back(-0.5 * (std::pow((x - om) / 0.04, 2) + std::pow((y - s8) / 0.05, 2)));
  ds::finish_grid_maps(scan);
  return scan;
}

ds::Chains gaussian_chains(double om, double s8, std::uint64_t seed) {
  ds::Chains c;
  c.names = {"Omega_m", "sigma_8"};
  c.chains = 2;
  c.draws = 50;
  ds::Rng rng(seed);
  for (std::size_t k = 0; k < 100; ++k) {
    c.values.push_back(om + 0.03 * rng.normal());
    c.values.push_back(s8 + 0.04 * rng.normal());
  }
  c.sampler = "nuts";
  return c;
}

ds::BatchManifest manifest(const std::string& fields, ds::BatchTask task) {
  ds::BatchManifest m;
  m.fields_file = fields;
  m.fields_in_file = 4;
  m.task = task;
  m.fields = ds::seed_fields({3, 1, 2}, 5);
  m.cli = "diffuscope-cli";
  return m;
}

TEST(TestBatchMerge, FieldFilesCountFieldsAndCarryTruths) {
  const fs::path dir = dstest::scratch_dir("batch-fieldfile");
  const std::string fields = write_fields(dir);
  EXPECT_EQ(ds::count_fields(fields), 4u);
  const auto truths = ds::field_truths(fields, {3, 0});
  ASSERT_EQ(truths.size(), 2u);
  EXPECT_DOUBLE_EQ(truths[0][0], 0.35);
  EXPECT_DOUBLE_EQ(truths[1][1], 0.7);
  const std::string npy = (dir / "stack.npy").string();
  ds::write_npy(npy, {3, 8, 8}, std::vector<double>(192, 0.5));
  EXPECT_EQ(ds::count_fields(npy), 3u);
  EXPECT_TRUE(ds::field_truths(npy, {0}).empty());
  ds::write_npy(npy, {8, 8}, std::vector<double>(64, 0.5));
  EXPECT_EQ(ds::count_fields(npy), 1u);
  ds::write_npy(npy, {3, 8}, std::vector<double>(24, 0.5));
  EXPECT_THROW(ds::count_fields(npy), ds::FileError);
  EXPECT_THROW(ds::count_fields((dir / "none.h5").string()), ds::FileError);
}

TEST(TestBatchMerge, GridTableEqualsTheSingleFieldSummaries) {
  const fs::path run = dstest::scratch_dir("batch-merge-grid");
  const ds::BatchManifest m = manifest(write_fields(run), ds::BatchTask::VlbGrid);
  ds::write_batch_manifest(run.string(), m);
  fs::create_directories(run / "out");
  for (const auto& f : m.fields)
    ds::write_grid_scan(ds::batch_output_path(run.string(), m, f.index),
                        gaussian_grid(0.2 + 0.05 * f.index, 0.7 + 0.02 * f.index + 0.01));
  const ds::BatchMerge merged = ds::summarize_batch_run(run.string(), m, false);
  ASSERT_EQ(merged.fields.size(), 3u);
  ASSERT_TRUE(merged.has_truth);
  for (std::size_t p = 0; p < 3; ++p) {
    const std::size_t index = m.fields[p].index;
    const ds::FieldCalibration direct =
        ds::check_grid({index, {0.2 + 0.05 * index, 0.7 + 0.02 * index}},
                       ds::read_grid_scan(ds::batch_output_path(run.string(), m, index)));
    EXPECT_EQ(merged.fields[p].index, index);
    for (std::size_t q = 0; q < 2; ++q) {
      EXPECT_EQ(merged.fields[p].parameters[q].mean, direct.parameters[q].mean);
      EXPECT_EQ(merged.fields[p].parameters[q].outer_hi, direct.parameters[q].outer_hi);
      EXPECT_EQ(merged.fields[p].parameters[q].truth, direct.parameters[q].truth);
    }
    EXPECT_NEAR(merged.fields[p].parameters[0].mean, 0.2 + 0.05 * index, 1e-3);
  }
  const std::string out = (run / "all.h5").string();
  ds::write_batch_merge(out, run.string(), m, merged);
  const auto file = ds::detail::Hdf5File::open_read(out);
  EXPECT_EQ(file.read_int64("/posterior/index"), (std::vector<std::int64_t>{3, 1, 2}));
  const std::vector<double> mean = file.read_doubles("/posterior/mean");
  ASSERT_EQ(mean.size(), 6u);
  EXPECT_EQ(mean[2], merged.fields[1].parameters[0].mean);
  EXPECT_DOUBLE_EQ(file.read_doubles("/posterior/truth")[0], 0.35);
  EXPECT_EQ(file.shape("/calibration/coverage_68"), (std::vector<std::size_t>{2}));
  EXPECT_EQ(file.read_doubles("/fields/1/log_like"), gaussian_grid(0.25, 0.73).log_like);
  EXPECT_EQ(file.string_attribute("/fields/1", "format"), "diffuscope-likelihood-grid");
  EXPECT_EQ(file.string_attribute("/", "task"), "vlb-grid");
  EXPECT_EQ(file.string_attribute("/", "missing"), "");
  EXPECT_NE(file.read_string("/manifest").find("\"fields_file\""), std::string::npos);

  // Read back (the app's Batch results): the same table and the same calibration summary.
  EXPECT_TRUE(ds::is_batch_merge_file(out));
  EXPECT_FALSE(ds::is_batch_merge_file(ds::batch_output_path(run.string(), m, 1)));
  EXPECT_FALSE(ds::is_batch_merge_file((run / "none.h5").string()));
  const ds::BatchMergeFile back = ds::read_batch_merge(out);
  EXPECT_EQ(back.task, "vlb-grid");
  EXPECT_FALSE(back.chains);
  EXPECT_EQ(back.fields_planned, 3u);
  EXPECT_EQ(back.missing, "");
  ASSERT_TRUE(back.merge.has_truth);
  ASSERT_EQ(back.merge.fields.size(), 3u);
  for (std::size_t p = 0; p < 3; ++p) {
    EXPECT_EQ(back.merge.fields[p].index, merged.fields[p].index);
    for (std::size_t q = 0; q < 2; ++q) {
      const auto &a = back.merge.fields[p].parameters[q], &b = merged.fields[p].parameters[q];
      EXPECT_EQ(a.mean, b.mean);
      EXPECT_EQ(a.sd, b.sd);
      EXPECT_EQ(a.inner_lo, b.inner_lo);
      EXPECT_EQ(a.outer_hi, b.outer_hi);
      EXPECT_EQ(a.truth, b.truth);
      EXPECT_EQ(a.z, b.z);
      EXPECT_EQ(a.inside_inner, b.inside_inner);
      EXPECT_EQ(a.inside_outer, b.inside_outer);
    }
  }
  ASSERT_EQ(back.merge.summary.size(), 2u);
  for (std::size_t q = 0; q < 2; ++q) {
    EXPECT_EQ(back.merge.summary[q].inner_coverage, merged.summary[q].inner_coverage);
    EXPECT_EQ(back.merge.summary[q].outer_coverage, merged.summary[q].outer_coverage);
    EXPECT_EQ(back.merge.summary[q].z_mean, merged.summary[q].z_mean);
    EXPECT_EQ(back.merge.summary[q].z_sd, merged.summary[q].z_sd);
  }
  try {
    ds::read_batch_merge(ds::batch_output_path(run.string(), m, 1));
    FAIL() << "read a grid file as a merged batch file";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a merged batch file"), std::string::npos);
  }
}

TEST(TestBatchMerge, ChainTableEqualsTheSingleFieldSummariesAndMissingFieldsAreRefused) {
  const fs::path run = dstest::scratch_dir("batch-merge-chains");
  const ds::BatchManifest m = manifest(write_fields(run), ds::BatchTask::Nuts);
  ds::write_batch_manifest(run.string(), m);
  fs::create_directories(run / "out");
  for (std::size_t index : {3, 1})
    ds::write_arviz_netcdf(ds::batch_output_path(run.string(), m, index),
                           gaussian_chains(0.3, 0.8, index));
  std::ofstream(ds::batch_failure_path(run.string(), 2)) << "nuts: boom\n";
  try {
    ds::summarize_batch_run(run.string(), m, false);
    FAIL() << "merged an incomplete run";
  } catch (const ds::FileError& e) {
    EXPECT_EQ(std::string(e.what()),
              run.string() +
                  ": 1 of 3 fields are not done; failed 2 (run them again, or merge "
                  "the rest with --allow-missing)");
  }
  const ds::BatchMerge merged = ds::summarize_batch_run(run.string(), m, true);
  ASSERT_EQ(merged.fields.size(), 2u);
  EXPECT_EQ(merged.missing, (std::vector<std::size_t>{2}));
  const ds::FieldCalibration direct =
      ds::check_field({1, {0.25, 0.72}}, gaussian_chains(0.3, 0.8, 1), nullptr);
  for (std::size_t q = 0; q < 2; ++q) {
    EXPECT_EQ(merged.fields[1].parameters[q].mean, direct.parameters[q].mean);
    EXPECT_EQ(merged.fields[1].parameters[q].sd, direct.parameters[q].sd);
    EXPECT_EQ(merged.fields[1].parameters[q].inner_lo, direct.parameters[q].inner_lo);
    EXPECT_EQ(merged.fields[1].parameters[q].r_hat, direct.parameters[q].r_hat);
  }
  const std::string out = (run / "all.h5").string();
  ds::write_batch_merge(out, run.string(), m, merged);
  const auto file = ds::detail::Hdf5File::open_read(out);
  EXPECT_EQ(file.string_attribute("/", "missing"), "2");
  EXPECT_EQ(file.read_doubles("/fields/3/posterior/Omega_m").size(), 100u);
  EXPECT_EQ(file.read_int64("/posterior/divergences").size(), 2u);
  const ds::BatchMergeFile back = ds::read_batch_merge(out);
  EXPECT_TRUE(back.chains);
  EXPECT_EQ(back.missing, "2");
  ASSERT_EQ(back.merge.fields.size(), 2u);
  EXPECT_EQ(back.merge.fields[1].parameters[0].r_hat, merged.fields[1].parameters[0].r_hat);
  EXPECT_EQ(back.merge.fields[1].parameters[1].ess_bulk, merged.fields[1].parameters[1].ess_bulk);
  EXPECT_EQ(back.merge.fields[1].divergences, merged.fields[1].divergences);
  // Nothing done: refused even with allow_missing.
  fs::remove_all(run / "out");
  EXPECT_THROW(ds::summarize_batch_run(run.string(), m, true), ds::FileError);
}

}  // namespace

namespace {

// A report calibration record (report/report.h run_report_field) holding only what the merge
// reads: the final posterior grid, a NaN log L as JSON null.
void write_record(const std::string& path, const ds::GridScan& scan) {
  std::ofstream out(path);
  out << "{\"field\": 0, \"posterior\": {\"grid\": {\"omega_m\": [";
  out.precision(17);
  const auto list = [&](const std::vector<double>& v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out << ", ";
      if (std::isfinite(v[i]))
        out << v[i];
      else
        out << "null";
    }
  };
  list(scan.omega_m);
  out << "], \"sigma_8\": [";
  list(scan.sigma_8);
  out << "], \"log_like\": [";
  list(scan.log_like);
  out << "]}}}";
}

}  // namespace

TEST(TestBatchMerge, ReportCalibrationRecordsMergeAsTheirGrids) {
  const fs::path run = dstest::scratch_dir("batch-merge-records");
  const ds::BatchManifest m = manifest(write_fields(run), ds::BatchTask::ReportCalibration);
  EXPECT_EQ(ds::batch_output_extension(m.task), "json");
  EXPECT_FALSE(ds::batch_task_has_chains(m.task));
  ds::write_batch_manifest(run.string(), m);
  fs::create_directories(run / "out");
  for (const auto& f : m.fields) {
    ds::GridScan scan = gaussian_grid(0.2 + 0.05 * f.index, 0.71 + 0.02 * f.index);
    scan.log_like[0] = std::numeric_limits<double>::quiet_NaN();  // a point without a value
    write_record(ds::batch_output_path(run.string(), m, f.index), scan);
  }
  EXPECT_EQ(ds::batch_output_path(run.string(), m, 3), (run / "out" / "field-3.json").string());
  const ds::BatchMerge merged = ds::summarize_batch_run(run.string(), m, false);
  ASSERT_EQ(merged.fields.size(), 3u);
  ASSERT_TRUE(merged.has_truth);
  for (std::size_t p = 0; p < 3; ++p) {
    const std::size_t index = m.fields[p].index;
    ds::GridScan scan = gaussian_grid(0.2 + 0.05 * index, 0.71 + 0.02 * index);
    scan.log_like[0] = std::numeric_limits<double>::quiet_NaN();
    const ds::FieldCalibration direct =
        ds::check_grid({index, {0.2 + 0.05 * index, 0.7 + 0.02 * index}}, scan);
    for (std::size_t q = 0; q < 2; ++q) {
      EXPECT_EQ(merged.fields[p].parameters[q].mean, direct.parameters[q].mean);
      EXPECT_EQ(merged.fields[p].parameters[q].inner_lo, direct.parameters[q].inner_lo);
      EXPECT_EQ(merged.fields[p].parameters[q].z, direct.parameters[q].z);
    }
  }
  const std::string out = (run / "all.h5").string();
  ds::write_batch_merge(out, run.string(), m, merged);
  {
    const auto file = ds::detail::Hdf5File::open_read(out);
    std::ifstream in(ds::batch_output_path(run.string(), m, 1));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(file.read_string("/fields/1"), text);
    EXPECT_FALSE(file.exists("/posterior/r_hat"));
  }
  const ds::BatchMergeFile back = ds::read_batch_merge(out);
  EXPECT_EQ(back.task, "report-calibration");
  EXPECT_FALSE(back.chains);
  ASSERT_EQ(back.merge.fields.size(), 3u);
  EXPECT_EQ(back.merge.fields[2].parameters[1].mean, merged.fields[2].parameters[1].mean);

  // A record that is not one is named.
  std::ofstream(ds::batch_output_path(run.string(), m, 2)) << "{\"posterior\": {}}";
  try {
    ds::summarize_batch_run(run.string(), m, false);
    FAIL() << "merged a record without a grid";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("field-2.json: is not a calibration field record"),
              std::string::npos)
        << e.what();
  }
}

namespace {

// Records of report-calibration --nuts: the posterior's summaries of the draws, no grid.
TEST(TestBatchMerge, NutsRecordsMergeAsTheirRecordedSummaries) {
  const fs::path run = dstest::scratch_dir("batch-merge-nuts");
  const ds::BatchManifest m = manifest(write_fields(run), ds::BatchTask::ReportCalibration);
  ds::write_batch_manifest(run.string(), m);
  fs::create_directories(run / "out");
  const auto record = [](std::size_t index) {
    nlohmann::json post;
    post["method"] = "nuts";
    post["divergences"] = index;
    for (std::size_t p = 0; p < 2; ++p) {
      const double centre = (p == 0 ? 0.2 + 0.05 * index : 0.7 + 0.02 * index) + 0.01;
      post["parameters"].push_back({{"mean", centre},
                                    {"sd", 0.02},
                                    {"inner", {centre - 0.02, centre + 0.02}},
                                    {"outer", {centre - 0.004, centre + 0.004}},
                                    {"r_hat", 1.002},
                                    {"ess_bulk", 300.0 + double(index)}});
    }
    return nlohmann::json{{"posterior", post}};
  };
  for (const auto& f : m.fields)
    std::ofstream(ds::batch_output_path(run.string(), m, f.index)) << record(f.index).dump();
  const ds::BatchMerge merged = ds::summarize_batch_run(run.string(), m, false);
  ASSERT_EQ(merged.fields.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const std::size_t index = m.fields[k].index;
    const ds::FieldCalibration& f = merged.fields[k];
    EXPECT_EQ(f.divergences, index);
    for (std::size_t p = 0; p < 2; ++p) {
      const ds::ParameterCheck& c = f.parameters[p];
      const double truth = p == 0 ? 0.2 + 0.05 * index : 0.7 + 0.02 * index;
      EXPECT_DOUBLE_EQ(c.truth, truth);  // the manifest's fields file, not the record
      EXPECT_NEAR(c.z, 0.5, 1e-9);       // (truth + 0.01 - truth) / 0.02
      EXPECT_TRUE(c.inside_inner);       // within 0.02 of the mean
      EXPECT_FALSE(c.inside_outer);      // the recorded 95% interval is (deliberately) narrower
      EXPECT_DOUBLE_EQ(c.ess_bulk, 300.0 + double(index));
      EXPECT_DOUBLE_EQ(c.r_hat, 1.002);
    }
  }
  ASSERT_EQ(merged.summary.size(), 2u);
  EXPECT_DOUBLE_EQ(merged.summary[0].inner_coverage, 1.0);
  EXPECT_DOUBLE_EQ(merged.summary[0].outer_coverage, 0.0);

  nlohmann::json broken = record(2);
  broken["posterior"]["parameters"][1].erase("outer");
  std::ofstream(ds::batch_output_path(run.string(), m, 2)) << broken.dump();
  try {
    ds::summarize_batch_run(run.string(), m, false);
    FAIL() << "merged a NUTS record without its 95% interval";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("field-2.json: is not a calibration field record"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(run);
}

}  // namespace
