// Log densities: the analytic targets of hmc_targets_a.json (values, normalisation, gradients),
// the box prior, and the exact GRF posterior adapter.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "../sampler_checks.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/baselines/exact_grf.h"
#include "diffuscope/infer/mcmc/targets.h"
#include "diffuscope/mock/gaussian_field.h"

namespace {

using dstest::target_reference;
using dstest::targets_file;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Central finite differences of log p against the analytic gradient.
void expect_gradient(const ds::LogDensity& density, const std::vector<double>& theta, double step,
                     const std::string& what) {
  std::vector<double> gradient;
  evaluate_one(density, theta, &gradient);
  for (std::size_t i = 0; i < theta.size(); ++i) {
    std::vector<double> up = theta, down = theta;
    up[i] += step;
    down[i] -= step;
    const double fd = (evaluate_one(density, up) - evaluate_one(density, down)) / (2.0 * step);
    EXPECT_NEAR(gradient[i], fd, 1e-6 * (std::abs(fd) + 1.0))
        << what << " d/dtheta" << i << " at (" << theta[0] << ", " << theta[1] << ")";
  }
}

// Integral of exp(log p) over [x0, x1] x [y0, y1] by the midpoint rule on n x m cells.
double integrate(const ds::LogDensity& density, double x0, double x1, double y0, double y1, int n,
                 int m) {
  std::vector<double> thetas;
  thetas.reserve(std::size_t(n) * m * 2);
  const double dx = (x1 - x0) / n, dy = (y1 - y0) / m;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      thetas.push_back(x0 + (i + 0.5) * dx);
      thetas.push_back(y0 + (j + 0.5) * dy);
    }
  std::vector<double> values;
  density.evaluate(thetas, std::size_t(n) * m, values, nullptr);
  double sum = 0.0;
  for (double v : values) sum += std::exp(v);
  return sum * dx * dy;
}

TEST(TestTargets, NamesOfTheReferenceFile) {
  EXPECT_EQ(ds::test_target_names(targets_file()),
            (std::vector<std::string>{"correlated_gaussian", "banana_rosenbrock_like",
                                      "box_truncated_gaussian"}));
}

// log p at the mode equals the normaliser the reference file states (its formula's constant).
TEST(TestTargets, NormalisersMatchTheReferenceFile) {
  const auto gauss = ds::load_test_target(targets_file(), "correlated_gaussian");
  EXPECT_NEAR(evaluate_one(*gauss, {0.3, 0.8}),
              target_reference("correlated_gaussian")["log_normaliser"].get<double>(), 1e-12);
  const auto banana = ds::load_test_target(targets_file(), "banana_rosenbrock_like");
  // u = 0, v = -b: both standard normals at zero.
  EXPECT_NEAR(evaluate_one(*banana, {0.3, 0.8 - 0.02}),
              target_reference("banana_rosenbrock_like")["log_normaliser"].get<double>(), 1e-12);
  const auto box = ds::load_test_target(targets_file(), "box_truncated_gaussian");
  const nlohmann::json box_ref = target_reference("box_truncated_gaussian");
  EXPECT_NEAR(evaluate_one(*box, {0.11, 0.62}), box_ref["log_normaliser_inside_box"].get<double>(),
              1e-9);
  const auto& truncated = dynamic_cast<const ds::GaussianTarget&>(*box);
  EXPECT_NEAR(truncated.mass_inside_box(), box_ref["analytic"]["mass_inside_box"].get<double>(),
              1e-12);
}

// Every target integrates to one (2-D midpoint rule over +-10 sd; the banana's y-range is wide).
TEST(TestTargets, DensitiesAreNormalised) {
  const auto gauss = ds::load_test_target(targets_file(), "correlated_gaussian");
  EXPECT_NEAR(integrate(*gauss, 0.1, 0.5, 0.5, 1.1, 800, 800), 1.0, 1e-6);
  const auto banana = ds::load_test_target(targets_file(), "banana_rosenbrock_like");
  EXPECT_NEAR(integrate(*banana, 0.3 - 0.4, 0.3 + 0.4, 0.8 - 0.26, 0.8 + 1.9, 800, 4000), 1.0,
              1e-6);
  const auto box = ds::load_test_target(targets_file(), "box_truncated_gaussian");
  EXPECT_NEAR(integrate(*box, 0.1, 0.5, 0.6, 1.0, 1600, 1600), 1.0, 1e-5);
}

TEST(TestTargets, GradientsMatchFiniteDifferences) {
  for (const std::string name :
       {"correlated_gaussian", "banana_rosenbrock_like", "box_truncated_gaussian"}) {
    const auto target = ds::load_test_target(targets_file(), name);
    for (const std::vector<double>& theta :
         {std::vector<double>{0.3, 0.8}, {0.33, 0.77}, {0.27, 0.86}, {0.12, 0.63}})
      expect_gradient(*target, theta, 1e-6, name);
  }
}

TEST(TestTargets, BoxTruncatedGaussianIsZeroOutsideItsBox) {
  const auto box = ds::load_test_target(targets_file(), "box_truncated_gaussian");
  EXPECT_EQ(evaluate_one(*box, {0.0999, 0.7}), -kInf);
  EXPECT_EQ(evaluate_one(*box, {0.3, 1.0001}), -kInf);
  EXPECT_TRUE(std::isfinite(evaluate_one(*box, {0.1, 0.6})));  // edges belong to the box
  EXPECT_EQ(box->ranges(), (std::vector<std::pair<double, double>>{{0.1, 0.5}, {0.6, 1.0}}));
}

// Parameters come from the file: a copy with other values gives the other density.
TEST(TestTargets, ParametersAreReadFromTheFile) {
  const auto dir = dstest::scratch_dir("targets-params");
  nlohmann::json doc;
  doc["targets"] = nlohmann::json::array(
      {{{"name", "g"}, {"params", {{"mu", {1.0, -2.0}}, {"sd", {0.5, 2.0}}, {"rho", -0.3}}}},
       {{"name", "b"},
        {"params", {{"cx", 0.0}, {"cy", 0.0}, {"sx", 1.0}, {"sy", 1.0}, {"b", 0.5}}}}});
  const std::string path = (dir / "t.json").string();
  std::ofstream(path) << doc.dump();
  const auto g = ds::load_test_target(path, "g");
  const auto& gauss = dynamic_cast<const ds::GaussianTarget&>(*g);
  EXPECT_EQ(gauss.mean(), (std::vector<double>{1.0, -2.0}));
  EXPECT_NEAR(gauss.covariance()[1], -0.3 * 0.5 * 2.0, 1e-15);
  const double log_det = std::log(0.25 * 4.0 * (1.0 - 0.09));
  EXPECT_NEAR(evaluate_one(*g, {1.0, -2.0}), -std::log(2.0 * M_PI) - 0.5 * log_det, 1e-12);
  const auto b = ds::load_test_target(path, "b");
  EXPECT_NEAR(evaluate_one(*b, {0.0, -0.5}), -std::log(2.0 * M_PI), 1e-12);
}

TEST(TestTargets, BadFilesAndNamesAreReportedWithTheFile) {
  EXPECT_THROW(ds::load_test_target("/nonexistent/t.json", "x"), ds::FileError);
  try {
    ds::load_test_target(targets_file(), "nope");
    FAIL() << "expected FileError";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("correlated_gaussian"), std::string::npos) << e.what();
  }
  const auto dir = dstest::scratch_dir("targets-bad");
  const std::string path = (dir / "bad.json").string();
  std::ofstream(path)
      << R"({"targets": [{"name": "g", "params": {"mu": [0.3], "sd": [1, 1], "rho": 0}}]})";
  try {
    ds::load_test_target(path, "g");
    FAIL() << "expected FileError";
  } catch (const ds::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("params.mu"), std::string::npos) << e.what();
  }
  std::ofstream(path) << "not json";
  EXPECT_THROW(ds::load_test_target(path, "g"), ds::FileError);
  EXPECT_EQ(ds::split_target_spec("a/b.json:name"),
            (std::pair<std::string, std::string>{"a/b.json", "name"}));
  EXPECT_THROW(ds::split_target_spec("nocolon"), ds::InvalidArgument);
}

// A density that records every point it is asked about.
class RecordingDensity : public ds::LogDensity {
 public:
  std::size_t dimension() const override { return 2; }
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    ++calls;
    values.assign(batch, 0.0);
    if (gradients) gradients->assign(2 * batch, 1.0);
    for (std::size_t b = 0; b < batch; ++b) {
      seen.push_back({thetas[2 * b], thetas[2 * b + 1]});
      values[b] = thetas[2 * b];
    }
  }
  mutable std::vector<std::vector<double>> seen;
  mutable int calls = 0;
};

TEST(TestBoxPrior, OutsidePointsAreMinusInfinityAndNeverReachTheLikelihood) {
  auto recording = std::make_shared<RecordingDensity>();
  const ds::BoxPrior prior(recording, ds::kDefaultPrior);
  std::vector<double> values, gradients;
  prior.evaluate({0.3, 0.8, 0.05, 0.8, 0.5, 1.0, 0.2, 1.2}, 4, values, &gradients);
  ASSERT_EQ(values.size(), 4u);
  const double log_volume = std::log(0.4 * 0.4);
  EXPECT_DOUBLE_EQ(values[0], 0.3 - log_volume);
  EXPECT_EQ(values[1], -kInf);
  EXPECT_DOUBLE_EQ(values[2], 0.5 - log_volume);  // the corner is inside
  EXPECT_EQ(values[3], -kInf);
  EXPECT_EQ(gradients[0], 1.0);
  EXPECT_EQ(gradients[2], 0.0);
  EXPECT_EQ(recording->calls, 1);  // one sub-batch of the inside points
  EXPECT_EQ(recording->seen, (std::vector<std::vector<double>>{{0.3, 0.8}, {0.5, 1.0}}));
  prior.evaluate({0.0, 0.0, std::nan(""), 0.8}, 2, values, nullptr);  // NaN is outside too
  EXPECT_EQ(recording->calls, 1);
  EXPECT_EQ(values, (std::vector<double>{-kInf, -kInf}));
}

TEST(TestExactGrfPosterior, MatchesTheGrfLikelihoodInsideAndIsZeroOutside) {
  ds::GrfSettings settings;
  settings.n = 32;
  const ds::Field2D field = ds::cosmological_grf_2d(ds::Cosmology{}, settings, 5);
  auto likelihood = std::make_shared<const ds::GrfLikelihood>(field);
  const auto posterior = ds::exact_grf_posterior(likelihood);
  EXPECT_EQ(posterior->names(), (std::vector<std::string>{"Omega_m", "sigma_8"}));
  std::vector<double> values, gradients;
  posterior->evaluate({0.31, 0.79, 0.6, 0.8, 0.25, 0.9}, 3, values, &gradients);
  const ds::GrfLogLikelihood a = likelihood->evaluate(0.31, 0.79, true);
  const ds::GrfLogLikelihood c = likelihood->evaluate(0.25, 0.9, true);
  const double log_volume = std::log(0.4 * 0.4);
  EXPECT_DOUBLE_EQ(values[0], a.value - log_volume);
  EXPECT_EQ(values[1], -kInf);
  EXPECT_DOUBLE_EQ(values[2], c.value - log_volume);
  EXPECT_DOUBLE_EQ(gradients[0], a.gradient[0]);
  EXPECT_DOUBLE_EQ(gradients[1], a.gradient[1]);
  EXPECT_DOUBLE_EQ(gradients[5], c.gradient[1]);
}

}  // namespace
