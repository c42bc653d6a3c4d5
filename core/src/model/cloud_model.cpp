// ds::Model for halo point-cloud models: a PointCloudModel (variational diffusion model +
// GNN/transformer) behind the one model interface.
#include <nlohmann/json.hpp>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/observation.h"
#include "diffuscope/error.h"
#include "diffuscope/pointcloud/point_check.h"
#include "diffuscope/pointcloud/point_model.h"
#include "diffuscope/text.h"
#include "model_internal.h"

namespace ds {

namespace {

using nlohmann::json;

constexpr int kPublishedPoints = 5000;  // clouds drawn when the file records no training count

PointElboSettings elbo_settings(const LikelihoodSettings& s) {
  PointElboSettings elbo;
  elbo.steps = s.elbo_steps;
  elbo.draws = s.draws > 0 ? s.draws : 8;
  elbo.seed = s.seed;
  return elbo;
}

class CloudModel final : public Model {
 public:
  CloudModel(std::shared_ptr<const PointCloudModel> model, const std::string& path)
      : model_(std::move(model)) {
    const PointModelInfo& info = model_->info();
    const json config = parse_config(info.config_json);
    ModelDescription& d = description_;
    d.path = path;
    d.modality = Modality::PointCloud;
    d.kind = "point-cloud model";
    d.format = "Diffuscope model (HDF5)";
    d.architecture = info.architecture;
    d.trainable_numbers = info.parameter_count;
    d.weights = info.weights;
    d.has_ema = info.has_ema;
    d.training_steps = info.step > 0 ? info.step : -1;
    d.points = model_->training_points();
    d.features = info.transform.feature_names;
    d.box_size = info.transform.box_size;
    std::string names;
    for (const auto& f : d.features) names += (names.empty() ? "" : " ") + f;
    d.size =
        (d.points > 0 ? std::to_string(d.points) + " halos"
                      : std::string("halos (count not recorded)")) +
        format_text(", %zu features (%s), %g Mpc/h", d.features.size(), names.c_str(), d.box_size);
    d.parameter_names = info.parameter_names;
    const Prior& prior = kDefaultPrior;
    d.prior_lo = {prior.omega_m.lo, prior.sigma_8.lo};
    d.prior_hi = {prior.omega_m.hi, prior.sigma_8.hi};
    d.transform = "per-feature standardisation: " + info.transform.to_json();
    d.schedule = format_text("learned linear log-SNR, gamma(0) = %.4g, gamma(1) = %.4g",
                             info.gamma0, info.gamma1);
    // The point trainer records its data under "data" (the field trainer under "dataset").
    json recorded = config;
    if (!recorded.contains("dataset") && recorded.contains("data"))
      recorded["dataset"] = recorded["data"];
    d.training_data = training_data_text(recorded, info.step);
    d.mock_kind = json_text(recorded.value("dataset", json()), "generator");
    d.default_sampler = "ancestral";
    d.default_steps = 100;
    d.likelihood = "ELBO";
    d.config_json = info.config_json;
  }

  const ModelDescription& description() const override { return description_; }

  std::string info_text() const override {
    const PointModelInfo& info = model_->info();
    const auto& t = info.transform;
    std::string names, conditioning;
    for (const auto& n : t.feature_names) names += (names.empty() ? "" : " ") + n;
    for (const auto& n : info.parameter_names)
      conditioning += (conditioning.empty() ? "" : ", ") + n;
    std::string out;
    const auto line = [&out](const std::string& text) { out += text + "\n"; };
    line("file: " + info.path);
    line("format: Diffuscope model (HDF5)");
    line("modality: points (variational diffusion model)");
    line("architecture: " + info.architecture);
    line("parameters: " + std::to_string(info.parameter_count));
    if (!info.weights.empty())
      line("weights: " + info.weights + " (EMA weights " + (info.has_ema ? "present" : "absent") +
           ")");
    line(format_text("features: %zu (%s)", t.features(), names.c_str()));
    line(format_text("box: %g Mpc/h", t.box_size));
    line("conditioning: " + conditioning + " (raw values)");
    line(format_text("schedule: learned linear log-SNR, gamma(0) = %.4g, gamma(1) = %.4g",
                     info.gamma0, info.gamma1));
    line("training: step " + std::to_string(info.step));
    line("transform: " + t.to_json());
    line("config: " + info.config_json);
    return out;
  }

  std::string info_json() const override { return point_model_info_json(model_->info()); }

  ModelSamples sample(const std::vector<double>& theta, int count, const ModelSampleSettings& s,
                      const JobContext& job) const override {
    const std::string& path = description_.path;
    const auto refuse = [&path](const char* flag) {
      throw InvalidArgument("sample: " + std::string(flag) + " is for 2D field models; " + path +
                            " is a point-cloud model");
    };
    if (s.resolution) refuse("--res");
    if (s.eta) refuse("--eta");
    if (s.clip) refuse("--clip");
    if (s.batch) refuse("--batch");
    if (s.model_space) refuse("--model-space");
    if (s.box_size) refuse("--box-size");
    const int points =
        s.points ? *s.points : (description_.points > 0 ? description_.points : kPublishedPoints);
    if (points < 1)
      throw InvalidArgument("sample: --n-points " + std::to_string(points) + " must be at least 1");
    PointSampleSettings settings;
    const std::string sampler = s.sampler.empty() ? description_.default_sampler : s.sampler;
    if (sampler != "ancestral" && sampler != "ode")
      throw InvalidArgument("sample: --sampler " + sampler +
                            " is not a point-cloud sampler (ancestral | ode)");
    settings.sampler = sampler == "ode" ? PointSamplerKind::Ode : PointSamplerKind::Ancestral;
    settings.steps = s.steps > 0 ? s.steps : description_.default_steps;
    settings.seed = s.seed;
    std::vector<float> clouds = model_->sample(theta, count, points, settings, {}, job);
    const PointModelInfo& info = model_->info();
    ModelSamples out;
    Dataset& d = out.data;
    d.kind = SampleKind::Points;
    d.shape = {std::size_t(count), std::size_t(points), std::size_t(model_->features())};
    d.samples = std::move(clouds);
    d.param_names = info.parameter_names;
    for (int i = 0; i < count; ++i) d.params.insert(d.params.end(), theta.begin(), theta.end());
    d.feature_names = info.transform.feature_names;
    d.box_size = info.transform.box_size;
    d.set_kind = SetKind::Single;
    d.source = "diffusion";
    d.generator = file_name_of(path);
    d.seed = settings.seed;
    d.units = "physical (positions Mpc/h, velocities km/s, masses log10 Msun/h)";
    out.summary = format_text("%d cloud(s) of %d points x %d features (%s, %d steps)", count,
                              points, model_->features(), sampler.c_str(), settings.steps);
    return out;
  }

  ModelLikelihood likelihood(const LikelihoodSettings& s) const override {
    const std::string& path = description_.path;
    if (s.observation.empty())
      throw InvalidArgument(path +
                            " is a point-cloud model: give --cloud FILE (the observed cloud)");
    if (s.added_noise > 0.0)
      throw InvalidArgument("--add-noise is for 2D field models; " + path +
                            " is a point-cloud model");
    if (s.physical)
      throw InvalidArgument("--physical is for 2D field models (clouds are always physical)");
    const ObservedCloud cloud = read_observed_cloud(s.observation, s.index, model_->features());
    const PointElboSettings elbo = elbo_settings(s);
    ModelLikelihood out;
    out.description = format_text("ELBO, S = %d steps, K = %d common draws (seed %llu)", elbo.steps,
                                  elbo.draws, static_cast<unsigned long long>(s.seed)) +
                      ", of cloud " + std::to_string(cloud.index) + " (" +
                      std::to_string(cloud.n_points) + " points) of " + s.observation + " under " +
                      path;
    out.name = format_text("ELBO, S = %d, K = %d", elbo.steps, elbo.draws);
    out.provenance.model = path;
    out.provenance.field = s.observation;
    out.provenance.index = cloud.index;
    out.provenance.draws = elbo.draws;
    out.provenance.seed = s.seed;
    out.likelihood =
        std::make_shared<const PointElboLogDensity>(model_, cloud.values, cloud.n_points, elbo);
    out.posterior = std::make_shared<const BoxPrior>(out.likelihood, kDefaultPrior);
    return out;
  }

  std::shared_ptr<const LogDensity> likelihood(const ObservationData& o,
                                               const LikelihoodSettings& s) const override {
    if (!o.cloud)
      throw InvalidArgument(o.origin + ": a " + description_.kind +
                            "'s ELBO scores halo catalogues; this is a 2D field");
    if (s.added_noise > 0.0)
      throw InvalidArgument(o.origin + ": observation noise is for 2D fields");
    if (o.features != model_->features())
      throw InvalidArgument(o.origin + ": the catalogue has " + std::to_string(o.features) +
                            " features per halo, the halo model takes " +
                            std::to_string(model_->features()));
    if (o.n_points < 1 || o.cloud->size() != std::size_t(o.n_points) * std::size_t(o.features))
      throw InvalidArgument(o.origin + ": " + std::to_string(o.cloud->size()) + " values are not " +
                            std::to_string(o.n_points) + " halos of " + std::to_string(o.features) +
                            " features");
    return std::make_shared<const PointElboLogDensity>(model_, *o.cloud, o.n_points,
                                                       elbo_settings(s));
  }

  ModelCheck check(const Dataset& mocks, const std::string& mocks_path, const ModelCheckSettings& s,
                   const JobContext& job) const override {
    ModelCheck out;
    out.sampler = s.sampler.empty() ? description_.default_sampler : s.sampler;
    if (out.sampler != "ancestral" && out.sampler != "ode")
      throw InvalidArgument("model check: --sampler " + out.sampler +
                            " is not a point-cloud sampler (ancestral | ode)");
    PointCheckSettings settings;
    settings.samples = s.samples;
    settings.seed = s.seed;
    settings.sampler.sampler =
        out.sampler == "ode" ? PointSamplerKind::Ode : PointSamplerKind::Ancestral;
    settings.sampler.steps = s.steps;
    const auto rows = check_point_emulator(*model_, mocks, settings, job);
    out.text = format_text(
        "# kNN-CDF (k = 1, 5, 9) and 2PCF of %d %s-%d clouds per cosmology against the "
        "mocks of %s\n",
        s.samples, out.sampler.c_str(), s.steps, mocks_path.c_str());
    out.text +=
        "# reduced chi^2 (diagonal): generated vs mocks, and each mock vs the others "
        "(leave-one-out); r50_k: median k-th neighbour distance of random points (Mpc/h); "
        "xi: mean 2PCF over 10-50 Mpc/h\n";
    out.text += format_text("%-7s %-7s %5s %4s %15s %15s %26s %26s %17s\n", "Omega_m", "sigma_8",
                            "mocks", "gen", "knn_chi2 gen", "xi_chi2 gen", "r50_1,5,9 generated",
                            "r50_1,5,9 mocks", "xi gen / mocks");
    const auto three = [](const std::vector<double>& v) {
      return format_text("%.1f, %.1f, %.1f", v.size() > 0 ? v[0] : 0.0, v.size() > 1 ? v[1] : 0.0,
                         v.size() > 2 ? v[2] : 0.0);
    };
    json table = json::array();
    for (const auto& r : rows) {
      out.text += format_text(
          "%-7.4f %-7.4f %5d %4d %7.2f (%5.2f) %7.2f (%5.2f) %26s %26s %8.3f / %.3f\n", r.theta[0],
          r.theta.size() > 1 ? r.theta[1] : 0.0, r.mocks, r.generated, r.knn_chi2_generated,
          r.knn_chi2_loo, r.xi_chi2_generated, r.xi_chi2_loo, three(r.knn_median_generated).c_str(),
          three(r.knn_median_mock).c_str(), r.xi_generated, r.xi_mock);
      table.push_back({{"theta", r.theta},
                       {"mocks", r.mocks},
                       {"generated", r.generated},
                       {"knn_chi2_generated", r.knn_chi2_generated},
                       {"knn_chi2_loo", r.knn_chi2_loo},
                       {"xi_chi2_generated", r.xi_chi2_generated},
                       {"xi_chi2_loo", r.xi_chi2_loo},
                       {"knn_median_generated", r.knn_median_generated},
                       {"knn_median_mock", r.knn_median_mock},
                       {"xi_generated", r.xi_generated},
                       {"xi_mock", r.xi_mock}});
    }
    out.text += "# (in brackets: the mocks' own leave-one-out reduced chi^2)\n";
    out.rows_json = table.dump();
    return out;
  }

  std::shared_ptr<const PointCloudModel> point_model() const override { return model_; }

 private:
  std::shared_ptr<const PointCloudModel> model_;
  ModelDescription description_;
};

}  // namespace

ObservedCloud read_observed_cloud(const std::string& path, long index, int features) {
  ObservationRequest request;
  request.index = index;
  request.kind = SampleKind::Points;
  const ObservedSample sample = read_observation(path, request);
  if (sample.n_features() != features)
    throw FileError(path, "clouds have " + std::to_string(sample.n_features()) +
                              " features but the model takes " + std::to_string(features));
  ObservedCloud in;
  in.values = sample.float_values();
  in.n_points = std::int64_t(sample.n_points());
  in.index = sample.index;
  return in;
}

std::shared_ptr<const Model> make_cloud_model(const std::string& path, Device device, bool ema) {
  auto model = std::make_shared<const PointCloudModel>(PointCloudModel::load(path, device, ema));
  return std::make_shared<const CloudModel>(std::move(model), path);
}

}  // namespace ds
