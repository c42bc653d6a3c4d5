// ds::Model (model/model.h): one handle for both modalities. It describes the shipped default
// models with the figures their files record, and its sample / likelihood / check give exactly
// what each kind's own machinery gives (the interface adds no arithmetic of its own).
#include "diffuscope/model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "../test_helpers.h"
#include "diffuscope/data/model_file.h"
#include "diffuscope/data/npy.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/field_likelihood.h"
#include "diffuscope/pointcloud/point_model.h"
#include "model/model_internal.h"

namespace {

namespace fs = std::filesystem;

std::string default_model(const char* name) {
  return (fs::path(DS_ASSETS_DIR) / "models" / name).string();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ds::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<double> evaluate(const ds::LogDensity& density, const std::vector<double>& thetas) {
  std::vector<double> values;
  density.evaluate(thetas, thetas.size() / 2, values, nullptr);
  return values;
}

TEST(ModelInterface, DescribesTheDefaultFieldModelFromItsFile) {
  const auto model = ds::Model::load(default_model("zeldovich64.h5"));
  const ds::ModelDescription& d = model->description();
  EXPECT_EQ(model->modality(), ds::Modality::Field2d);
  EXPECT_EQ(d.kind, "2D field model");
  EXPECT_EQ(d.format, "Diffuscope model (HDF5)");
  EXPECT_EQ(d.trainable_numbers, 605967);
  EXPECT_EQ(d.resolution, 64);
  EXPECT_EQ(d.downsampling, 4);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.points, 0);
  EXPECT_DOUBLE_EQ(d.box_size, 25.0);
  EXPECT_EQ(d.size, "64x64 pixels, 25 Mpc/h");
  EXPECT_EQ(d.parameter_names, (std::vector<std::string>{"Omega_m", "sigma_8"}));
  ASSERT_EQ(d.prior_lo.size(), 2u);
  EXPECT_DOUBLE_EQ(d.prior_lo[0], 0.1);
  EXPECT_DOUBLE_EQ(d.prior_hi[0], 0.5);
  EXPECT_DOUBLE_EQ(d.prior_lo[1], 0.6);
  EXPECT_DOUBLE_EQ(d.prior_hi[1], 1.0);
  EXPECT_EQ(d.training_steps, 15841);
  EXPECT_EQ(d.mock_kind, "zeldovich");
  EXPECT_FALSE(d.contrast);
  EXPECT_EQ(d.default_sampler, "ddim");
  EXPECT_EQ(d.default_steps, 50);
  EXPECT_EQ(d.likelihood, "truncated VLB");
  EXPECT_TRUE(contains(d.transform, "log10-minmax: log10 in [9.62045")) << d.transform;
  EXPECT_TRUE(contains(d.schedule, "T = 1000, beta from 0.0001 to 0.03")) << d.schedule;
  EXPECT_EQ(d.training_data,
            ".stage/data/zeldovich_lh2000_64.h5 (zeldovich lh set, 2000 samples; fingerprint "
            "9b5076a97a5f2330), 15841 training steps");
  EXPECT_NE(model->field_model(), nullptr);
  EXPECT_EQ(model->point_model(), nullptr);
  // `model info`: the lines the CLI printed before the interface existed.
  const std::string text = model->info_text();
  EXPECT_TRUE(contains(text, "input x_t: [B, 1, N, N] float32, N a multiple of 4\n")) << text;
  EXPECT_TRUE(contains(text, "training: epoch -1, iteration 15841\n")) << text;
  EXPECT_TRUE(contains(model->info_json(), "\"downsampling_factor\": 4"));
}

TEST(ModelInterface, DescribesTheDefaultHaloModelFromItsFile) {
  const auto model = ds::Model::load(default_model("halos1000.h5"));
  const ds::ModelDescription& d = model->description();
  EXPECT_EQ(model->modality(), ds::Modality::PointCloud);
  EXPECT_EQ(d.kind, "point-cloud model");
  EXPECT_EQ(d.trainable_numbers, 86588);
  EXPECT_EQ(d.points, 1000);
  EXPECT_EQ(d.resolution, 0);
  EXPECT_EQ(d.features, (std::vector<std::string>{"x", "y", "z", "vx", "vy", "vz", "log10_mass"}));
  EXPECT_DOUBLE_EQ(d.box_size, 1000.0);
  EXPECT_EQ(d.size, "1000 halos, 7 features (x y z vx vy vz log10_mass), 1000 Mpc/h");
  EXPECT_EQ(d.parameter_names, (std::vector<std::string>{"Omega_m", "sigma_8"}));
  EXPECT_EQ(d.training_steps, 40000);
  EXPECT_EQ(d.default_sampler, "ancestral");
  EXPECT_EQ(d.default_steps, 100);
  EXPECT_EQ(d.likelihood, "ELBO");
  EXPECT_EQ(d.schedule, "learned linear log-SNR, gamma(0) = 13.71, gamma(1) = -12.44");
  // The point trainer records its data under "data" (the report makes mocks of this generator).
  EXPECT_EQ(d.mock_kind, "lognormal-halos");
  EXPECT_EQ(d.training_data,
            ".stage/data/halos_lh800_1000.h5 (lognormal-halos lh set, 800 samples; fingerprint "
            "c1e3b37b72400c2b), 40000 training steps");
  EXPECT_TRUE(contains(d.transform, "per-feature standardisation: {\"box_size\":1000.0"));
  EXPECT_EQ(model->field_model(), nullptr);
  EXPECT_NE(model->point_model(), nullptr);
  EXPECT_TRUE(contains(model->info_text(), "features: 7 (x y z vx vy vz log10_mass)\n"));
  EXPECT_TRUE(contains(model->info_json(), "\"modality\": \"points\""));
}

TEST(ModelInterface, DescribesTheShippedGrfModelFromItsFile) {
  // The model of the exact comparison (issue 17): GRF density contrasts, 32 x 32 pixels of a
  // 1000 Mpc/h box, affine transform, the EMA weights of step 12000.
  const auto model = ds::Model::load(default_model("grf32.h5"));
  const ds::ModelDescription& d = model->description();
  EXPECT_EQ(model->modality(), ds::Modality::Field2d);
  EXPECT_EQ(d.trainable_numbers, 605967);
  EXPECT_EQ(d.resolution, 32);
  EXPECT_DOUBLE_EQ(d.box_size, 1000.0);
  EXPECT_EQ(d.mock_kind, "grf");
  EXPECT_TRUE(d.contrast);
  EXPECT_EQ(d.training_steps, 12000);
  EXPECT_TRUE(contains(d.transform, "affine")) << d.transform;
  // Its samples are density contrasts of the training scale (sd 0.62), not bounded to [-1, 1].
  ds::ModelSampleSettings settings;
  settings.steps = 10;
  settings.seed = 1;
  const ds::ModelSamples s = model->sample({0.3, 0.8}, 2, settings);
  ASSERT_EQ(s.data.shape, (std::vector<std::size_t>{2, 32, 32}));
  double mean = 0.0, square = 0.0;
  const std::size_t n = 2 * 32 * 32;
  for (std::size_t i = 0; i < n; ++i) {
    mean += s.data.samples[i] / double(n);
    square += double(s.data.samples[i]) * s.data.samples[i] / double(n);
  }
  EXPECT_NEAR(mean, 0.0, 0.2);
  EXPECT_GT(std::sqrt(square - mean * mean), 0.2);
  EXPECT_LT(std::sqrt(square - mean * mean), 2.0);
}

TEST(ModelInterface, ModalityIsReadWithoutTheWeights) {
  EXPECT_EQ(ds::model_modality(default_model("zeldovich64.h5")), ds::Modality::Field2d);
  EXPECT_EQ(ds::model_modality(default_model("halos1000.h5")), ds::Modality::PointCloud);
  // Anything else is left to the field loaders, which name the problem.
  const std::string missing = default_model("no-such-model.h5");
  EXPECT_EQ(ds::model_modality(missing), ds::Modality::Field2d);
  EXPECT_EQ(ds::recognise_model_file(default_model("halos1000.h5")), ds::Modality::PointCloud);
  EXPECT_EQ(ds::recognise_model_file(default_model("zeldovich64.h5")), ds::Modality::Field2d);
  EXPECT_EQ(ds::recognise_model_file("colleague/checkpoint.PT"), ds::Modality::Field2d);
  EXPECT_EQ(ds::recognise_model_file(dstest::testdata("")), std::nullopt);
  EXPECT_EQ(ds::recognise_model_file("fields.npy"), std::nullopt);
  EXPECT_TRUE(contains(error_of([&] { ds::Model::load(missing); }), "no-such-model.h5"));
}

TEST(ModelInterface, FieldSamplesAreTheSamplersOwn) {
  const auto model = ds::Model::load(default_model("zeldovich64.h5"));
  ds::ModelSampleSettings settings;
  settings.steps = 4;
  settings.seed = 3;
  settings.resolution = 32;
  const ds::ModelSamples samples = model->sample({0.3, 0.8}, 2, settings);
  const ds::Dataset& d = samples.data;
  EXPECT_EQ(d.shape, (std::vector<std::size_t>{2, 32, 32}));
  EXPECT_EQ(d.params, (std::vector<double>{0.3, 0.8, 0.3, 0.8}));
  EXPECT_DOUBLE_EQ(d.box_size, 25.0);
  EXPECT_EQ(d.generator, "zeldovich64.h5");
  EXPECT_EQ(d.seed, 3u);
  EXPECT_EQ(samples.summary, "2 field(s) 32x32 (ddim, physical units)");
  EXPECT_NO_THROW(d.validate("sample"));

  ds::FieldSampleRequest request;
  request.thetas = {0.3, 0.8};
  request.per_theta = 2;
  request.n = 32;
  request.seed = 3;
  request.sampler.kind = ds::DiffusionSamplerKind::Ddim;
  request.sampler.steps = 4;
  EXPECT_EQ(d.samples, ds::sample_fields(*model->field_model(), request));

  // The default size is the training resolution the file records.
  settings.resolution.reset();
  settings.steps = 1;
  EXPECT_EQ(model->sample({0.3, 0.8}, 1, settings).data.shape,
            (std::vector<std::size_t>{1, 64, 64}));
}

TEST(ModelInterface, CloudSamplesAreTheSamplersOwn) {
  const auto model = ds::Model::load(default_model("halos1000.h5"));
  ds::ModelSampleSettings settings;
  settings.steps = 3;
  settings.seed = 5;
  settings.points = 48;
  const ds::ModelSamples samples = model->sample({0.25, 0.85}, 1, settings);
  EXPECT_EQ(samples.data.shape, (std::vector<std::size_t>{1, 48, 7}));
  EXPECT_EQ(samples.data.feature_names.size(), 7u);
  EXPECT_DOUBLE_EQ(samples.data.box_size, 1000.0);
  EXPECT_EQ(samples.summary, "1 cloud(s) of 48 points x 7 features (ancestral, 3 steps)");
  ds::PointSampleSettings own;
  own.steps = 3;
  own.seed = 5;
  EXPECT_EQ(samples.data.samples, model->point_model()->sample({0.25, 0.85}, 1, 48, own));
}

TEST(ModelInterface, EachKindRefusesTheOthersSettingsByTheirFlags) {
  const auto field = ds::Model::load(default_model("zeldovich64.h5"));
  const auto cloud = ds::Model::load(default_model("halos1000.h5"));
  ds::ModelSampleSettings points;
  points.points = 10;
  EXPECT_TRUE(contains(error_of([&] {
                         field->sample({0.3, 0.8}, 1, points);
                       }),
                       "sample: --n-points is for point-cloud models"));
  ds::ModelSampleSettings res;
  res.resolution = 32;
  EXPECT_TRUE(contains(error_of([&] {
                         cloud->sample({0.3, 0.8}, 1, res);
                       }),
                       "sample: --res is for 2D field models; " + default_model("halos1000.h5") +
                           " is a point-cloud model"));
  ds::ModelSampleSettings clip;
  clip.clip = 1.0;
  EXPECT_TRUE(contains(error_of([&] { cloud->sample({0.3, 0.8}, 1, clip); }), "--clip is for"));
  ds::ModelSampleSettings ddim;
  ddim.sampler = "ddim";
  EXPECT_TRUE(contains(error_of([&] {
                         cloud->sample({0.3, 0.8}, 1, ddim);
                       }),
                       "--sampler ddim is not a point-cloud sampler (ancestral | ode)"));
  ds::LikelihoodSettings noisy;
  noisy.observation = "cloud.npy";
  noisy.added_noise = 0.01;
  EXPECT_TRUE(
      contains(error_of([&] { cloud->likelihood(noisy); }), "--add-noise is for 2D field models"));
  ds::LikelihoodSettings as_cloud;
  as_cloud.observation = "x.npy";
  as_cloud.observation_is_cloud = true;
  EXPECT_TRUE(contains(error_of([&] { field->likelihood(as_cloud); }),
                       "--cloud x.npy is for point-cloud models"));
}

TEST(ModelInterface, FieldLikelihoodIsTheTruncatedVlbOfTheObservation) {
  const auto model = ds::Model::load(default_model("zeldovich64.h5"));
  ds::ModelSampleSettings draw;
  draw.steps = 3;
  draw.seed = 1;
  const ds::Dataset field = model->sample({0.3, 0.8}, 1, draw).data;
  const fs::path dir = dstest::scratch_dir("model-likelihood");
  const std::string file = (dir / "field.npy").string();
  ds::write_npy(file, {64, 64}, std::vector<double>(field.samples.begin(), field.samples.end()),
                true);

  ds::LikelihoodSettings s;
  s.observation = file;
  s.physical = true;
  s.t_max = 3;
  s.noise = ds::VlbNoiseMode::Common;
  s.draws = 2;
  s.seed = 9;
  const ds::ModelLikelihood l = model->likelihood(s);
  EXPECT_EQ(l.name, "3 terms");
  EXPECT_EQ(l.description, "truncated VLB, T_MAX 3, common noise, K = 2, of field 0 of " + file +
                               " under " + default_model("zeldovich64.h5"));
  EXPECT_EQ(l.provenance.field, file);

  const ds::DiffusionModel2d& own = *model->field_model();
  ds::ObservedField observed = ds::load_observed_field(file, own, -1, true);
  ds::VlbSettings vlb;
  vlb.t_max = 3;
  vlb.noise = ds::VlbNoiseMode::Common;
  vlb.draws = 2;
  vlb.seed = 9;
  const ds::VlbLogLikelihood expected(
      std::make_shared<ds::TruncatedVlb>(own, observed.values, observed.n, vlb), 2);
  const std::vector<double> thetas{0.3, 0.8, 0.35, 0.75};
  const auto got = evaluate(*l.likelihood, thetas);
  const auto want = evaluate(expected, thetas);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got, want);
  EXPECT_TRUE(std::isfinite(got[0]));
  // The posterior adds the flat prior: the same inside the box (up to its log volume), -inf out.
  // It passes the likelihood the inside point alone, so it is compared with that evaluation: the
  // network's float32 rounding depends on the batch it runs in (on this machine kind the point
  // alone and in a batch of two differ by 6e-5 in 8053 nats).
  const auto posterior = evaluate(*l.posterior, {0.3, 0.8, 0.7, 0.8});
  const auto alone = evaluate(*l.likelihood, {0.3, 0.8});
  EXPECT_NEAR(posterior[0] - alone[0], -std::log(0.4 * 0.4), 1e-9);
  EXPECT_NEAR(alone[0], got[0], 1e-6 * std::abs(got[0]));
  EXPECT_EQ(posterior[1], -std::numeric_limits<double>::infinity());
}

TEST(ModelInterface, CloudLikelihoodIsTheElboOfTheObservation) {
  const auto model = ds::Model::load(default_model("halos1000.h5"));
  ds::ModelSampleSettings draw;
  draw.steps = 2;
  draw.points = 40;
  const ds::Dataset cloud = model->sample({0.3, 0.8}, 2, draw).data;
  const fs::path dir = dstest::scratch_dir("model-elbo");
  const std::string file = (dir / "clouds.npy").string();
  ds::write_npy(file, cloud.shape, std::vector<double>(cloud.samples.begin(), cloud.samples.end()),
                true);

  ds::LikelihoodSettings s;
  s.observation = file;
  s.index = 1;
  s.elbo_steps = 3;
  s.draws = 2;
  s.seed = 4;
  const ds::ModelLikelihood l = model->likelihood(s);
  EXPECT_EQ(l.name, "ELBO, S = 3, K = 2");
  EXPECT_EQ(l.provenance.index, 1u);
  EXPECT_EQ(l.provenance.draws, 2);
  EXPECT_TRUE(contains(l.description, "of cloud 1 (40 points) of " + file));

  const ds::ObservedCloud observed = ds::read_observed_cloud(file, 1, 7);
  EXPECT_EQ(observed.values,
            std::vector<float>(cloud.samples.begin() + 40 * 7, cloud.samples.end()));
  ds::PointElboSettings elbo;
  elbo.steps = 3;
  elbo.draws = 2;
  elbo.seed = 4;
  const ds::PointElboLogDensity expected(model->point_model(), observed.values, 40, elbo);
  const std::vector<double> thetas{0.3, 0.8, 0.2, 0.9};
  EXPECT_EQ(evaluate(*l.likelihood, thetas), evaluate(expected, thetas));

  // The observation is checked against the model: a stack needs --index, features must match.
  s.index = -1;
  EXPECT_TRUE(
      contains(error_of([&] { model->likelihood(s); }), "holds 2 clouds; choose one with --index"));
  EXPECT_TRUE(contains(error_of([&] { ds::read_observed_cloud(file, 0, 3); }),
                       "clouds have 7 features but the model takes 3"));
}

// The app's observations are in memory: the same bounds, the kinds' own functions.
TEST(ModelInterface, LikelihoodOfAnObservationInMemory) {
  const auto field_model = ds::Model::load(default_model("zeldovich64.h5"));
  const auto cloud_model = ds::Model::load(default_model("halos1000.h5"));
  ds::ModelSampleSettings draw;
  draw.steps = 2;
  draw.seed = 6;
  const ds::Dataset fields = field_model->sample({0.3, 0.8}, 1, draw).data;
  ds::Field2D field;
  field.n = 64;
  field.box_size = 25.0;
  field.values.assign(fields.samples.begin(), fields.samples.end());
  ds::ObservationData data;
  data.field = &field;
  data.origin = "a drawn field";
  ds::LikelihoodSettings s;
  s.t_max = 2;
  s.noise = ds::VlbNoiseMode::Common;
  s.seed = 3;
  s.added_noise = 0.02;
  ds::VlbSettings vlb;
  vlb.t_max = 2;
  vlb.noise = ds::VlbNoiseMode::Common;
  vlb.seed = 3;
  const auto expected =
      ds::vlb_likelihood(*field_model->field_model(), field, vlb, "a drawn field", 0.02, 3);
  const std::vector<double> thetas{0.3, 0.8, 0.4, 0.7};
  EXPECT_EQ(evaluate(*field_model->likelihood(data, s), thetas), evaluate(*expected, thetas));

  draw.points = 30;
  const ds::Dataset clouds = cloud_model->sample({0.3, 0.8}, 1, draw).data;
  ds::ObservationData halos;
  halos.cloud = std::make_shared<const std::vector<float>>(clouds.samples);
  halos.n_points = 30;
  halos.features = 7;
  halos.origin = "a drawn catalogue";
  ds::LikelihoodSettings e;
  e.elbo_steps = 2;
  e.draws = 2;
  e.seed = 1;
  ds::PointElboSettings elbo;
  elbo.steps = 2;
  elbo.draws = 2;
  elbo.seed = 1;
  const ds::PointElboLogDensity own(cloud_model->point_model(), clouds.samples, 30, elbo);
  EXPECT_EQ(evaluate(*cloud_model->likelihood(halos, e), thetas), evaluate(own, thetas));

  // Each kind names the observation of the other kind and refuses it.
  EXPECT_TRUE(contains(error_of([&] { field_model->likelihood(halos, s); }),
                       "a drawn catalogue: a 2D field model's VLB scores 2D fields"));
  EXPECT_TRUE(contains(error_of([&] { cloud_model->likelihood(data, e); }),
                       "a drawn field: a point-cloud model's ELBO scores halo catalogues"));
  halos.features = 3;
  EXPECT_TRUE(contains(error_of([&] { cloud_model->likelihood(halos, e); }),
                       "the catalogue has 3 features per halo, the halo model takes 7"));
}

// fuzz_model_file (10-minute run): /config's string descriptor claimed 4 281 597 963 bytes in a
// 12 780-byte file; libhdf5 allocated and filled them before reading (8.5 GB, 12 s, and an OOM
// finding). The length is now read from the descriptor and refused first.
TEST(ModelFiles, FuzzRegressionConfigStringLongerThanTheFileIsRefusedBeforeReading) {
  const std::string file = dstest::fuzz_regression("model_config_string_length_4gb.h5");
  ASSERT_TRUE(fs::exists(file)) << file;
  // The HDF5 check process (data/hdf5_check.h) refuses it first: its 4 GiB limit stops the
  // allocation.
  EXPECT_TRUE(contains(error_of([&] { ds::read_model_checkpoint(file); }),
                       "refused: reading data /config makes libhdf5 ask for more than 4 GiB"));
  EXPECT_EQ(ds::model_file_modality(file), "");  // never throws: "not a model it can read"
  // Read in this process, the loader's own check refuses it before libhdf5 allocates.
  const dstest::ScopedEnv in_process("DIFFUSCOPE_HDF5_ISOLATION", "off");
  const std::string claim = "dataset /config claims a string of 4281597963 bytes in a file of";
  EXPECT_TRUE(contains(error_of([&] { ds::read_model_checkpoint(file); }), claim));
  EXPECT_TRUE(contains(error_of([&] { ds::Model::load(file); }), claim));
  EXPECT_EQ(ds::model_file_modality(file), "");
}

// A model file's /config is untrusted: a key of the wrong type reads as text, never throws (a
// "field_kind": 3 or a "dataset" that is a list made nlohmann's value() throw type_error, a
// non-ds exception, out of Model::load).
TEST(ModelFiles, ConfigValuesOfTheWrongTypeReadAsText) {
  const nlohmann::json config = nlohmann::json::parse(
      R"({"field_kind": 3, "dataset": [1, 2], "box": {"a": 1}, "name": "zeldovich"})");
  EXPECT_EQ(ds::json_text(config, "field_kind"), "3");
  EXPECT_EQ(ds::json_text(config, "name"), "zeldovich");
  EXPECT_EQ(ds::json_text(config, "box"), "{\"a\":1}");
  EXPECT_EQ(ds::json_text(config, "missing", "?"), "?");
  EXPECT_EQ(ds::json_text(config["dataset"], "generator", "?"), "?");  // not an object
  EXPECT_EQ(ds::json_text(nlohmann::json(), "generator"), "");
  EXPECT_EQ(ds::training_data_text(config, 0), "not recorded in the file");
}

}  // namespace
