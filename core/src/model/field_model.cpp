// ds::Model for 2D field models: a DiffusionModel2d (DDPM + U-Net) behind the one model interface.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diffuscope/data/field.h"
#include "diffuscope/diffusion/diffusion_model.h"
#include "diffuscope/diffusion/emulator_check.h"
#include "diffuscope/diffusion/observed_field.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/diffusion/vlb_log_density.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/field_likelihood.h"
#include "model_internal.h"

namespace ds {

namespace {

using nlohmann::json;

constexpr int kDefaultResolution = 64;

const char* format_label(ScoreNetFormat format) {
  switch (format) {
    case ScoreNetFormat::TorchScript:
      return "TorchScript module";
    case ScoreNetFormat::Diffuscope:
      return "Diffuscope model (HDF5)";
    case ScoreNetFormat::PytorchCheckpoint:
      break;
  }
  return "PyTorch checkpoint";
}

// sqrt(1 - alphabar_t) at a few steps: how much noise each step carries (reference doc: 0.010 at
// t = 0, 0.062 at 19, 0.242 at 100, 0.852 at 500 for the paper's schedule).
std::string schedule_summary(const ScoreNetInfo& info) {
  if (info.betas.empty()) return info.schedule.empty() ? "unknown" : info.schedule;
  const auto& b = info.betas;
  std::ostringstream s;
  s << (info.schedule.empty() ? "betas" : info.schedule) << ", T = " << b.size()
    << ", beta_0 = " << b.front() << ", beta_" << b.size() - 1 << " = " << b.back()
    << "; sqrt(1 - alphabar_t) at t =";
  std::vector<std::size_t> steps;
  for (std::size_t t :
       {std::size_t(0), std::size_t(19), std::size_t(100), b.size() / 2, b.size() - 1})
    if (t < b.size() && (steps.empty() || t > steps.back())) steps.push_back(t);
  double log_alphabar = 0.0;
  std::string values;
  for (std::size_t t = 0, k = 0; t < b.size() && k < steps.size(); ++t) {
    log_alphabar += std::log1p(-b[t]);
    if (t == steps[k]) {
      s << (k ? ", " : " ") << t;
      values += format_text("%s%.3f", k ? ", " : " ", std::sqrt(-std::expm1(log_alphabar)));
      ++k;
    }
  }
  s << ":" << values;
  return s.str();
}

std::string transform_text(const FieldTransform& t) {
  switch (t.kind) {
    case FieldTransformKind::Log10MinMax:
      return format_text("log10-minmax: log10 in [%g, %g] to [-1, 1]", t.lo, t.hi);
    case FieldTransformKind::Affine:
      return format_text("affine: offset %g, scale %g", t.offset, t.scale);
    case FieldTransformKind::Identity:
      break;
  }
  return "identity";
}

VlbSettings vlb_settings(const LikelihoodSettings& s) {
  VlbSettings vlb;
  vlb.t_max = s.t_max;
  vlb.noise = s.noise;
  vlb.draws = s.draws > 0 ? s.draws : 1;
  vlb.seed = s.seed;
  vlb.max_batch = s.chunk;
  return vlb;
}

class FieldModel final : public Model {
 public:
  FieldModel(std::shared_ptr<const DiffusionModel2d> model, const std::string& path)
      : model_(std::move(model)) {
    const ScoreNetInfo& info = model_->net.info();
    const json config = parse_config(info.config_json);
    ModelDescription& d = description_;
    d.path = path;
    d.modality = Modality::Field2d;
    d.kind = "2D field model";
    d.format = format_label(info.format);
    d.architecture = info.architecture;
    d.trainable_numbers = info.parameter_count;
    d.weights = info.weights;
    d.has_ema = info.has_ema;
    d.training_steps = info.iteration;
    if (d.training_steps < 0 && config.contains("steps") && config["steps"].is_number_integer())
      d.training_steps = config["steps"].get<std::int64_t>();
    d.downsampling = std::max(1, info.downsampling_factor);
    d.channels = info.channels;
    const json resolution = config.value("resolution", config.value("image_size", json()));
    if (resolution.is_number_integer() && resolution.get<long long>() > 0 &&
        resolution.get<long long>() <= 1 << 16)
      d.resolution = int(resolution.get<long long>());
    const json box = config.value("box_size", json());
    if (box.is_number() && box.get<double>() > 0.0 && std::isfinite(box.get<double>()))
      d.box_size = box.get<double>();
    d.size = (d.resolution > 0 ? format_text("%dx%d pixels", d.resolution, d.resolution)
                               : format_text("N x N pixels, N a multiple of %d", d.downsampling)) +
             (d.channels != 1 ? format_text(", %d channels", d.channels) : std::string()) +
             (d.box_size > 0.0 ? format_text(", %g Mpc/h", d.box_size) : std::string());
    const ParameterNormalisation& p = model_->parameters;
    if (config.contains("param_names") && config["param_names"].is_array() &&
        config["param_names"].size() == p.size()) {
      for (const auto& name : config["param_names"])
        d.parameter_names.push_back(name.is_string() ? name.get<std::string>() : name.dump());
    } else {
      d.parameter_names = p.size() == 2 ? std::vector<std::string>{"Omega_m", "sigma_8"}
                                        : std::vector<std::string>{};
      for (std::size_t k = d.parameter_names.size(); k < p.size(); ++k)
        d.parameter_names.push_back("theta_" + std::to_string(k));
    }
    for (std::size_t k = 0; k < p.size(); ++k) {
      d.prior_lo.push_back(p.lo[k]);
      d.prior_hi.push_back(p.lo[k] + p.width[k]);
    }
    d.transform = transform_text(model_->transform);
    const NoiseSchedule& schedule = model_->schedule;
    d.schedule = format_text("%s, T = %d", schedule.name.c_str(), schedule.steps());
    if (!schedule.betas.empty())
      d.schedule +=
          format_text(", beta from %.3g to %.3g", schedule.betas.front(), schedule.betas.back());
    d.training_data = training_data_text(config, d.training_steps);
    const std::string generator = json_text(config.value("dataset", json()), "generator");
    for (const auto& name : kFieldKinds.names())
      if (generator == name) d.mock_kind = generator;
    d.contrast = json_text(config, "field_kind") == "contrast" ||
                 model_->transform.kind == FieldTransformKind::Affine;
    d.default_sampler = "ddim";
    d.default_steps = 50;
    d.likelihood = "truncated VLB";
    d.config_json = info.config_json;
  }

  const ModelDescription& description() const override { return description_; }

  std::string info_text() const override {
    const ScoreNetInfo& info = model_->net.info();
    std::string out;
    const auto line = [&out](const std::string& text) { out += text + "\n"; };
    const std::string n = "N a multiple of " + std::to_string(info.downsampling_factor);
    const std::string p =
        info.conditional_dim > 0 ? std::to_string(info.conditional_dim) : std::string("P");
    const std::string t_range = info.betas.empty()
                                    ? "integer steps"
                                    : "in [0, " + std::to_string(info.betas.size() - 1) + "]";
    line("file: " + info.path);
    line(std::string("format: ") + (info.format == ScoreNetFormat::PytorchCheckpoint
                                        ? "PyTorch checkpoint (torch.save zip, read weights-only)"
                                        : format_label(info.format)));
    if (!info.model_type.empty()) line("model type: " + info.model_type);
    line("architecture: " + info.architecture);
    line("parameters: " + std::to_string(info.parameter_count));
    if (!info.weights.empty())
      line("weights: " + info.weights + " (EMA weights " + (info.has_ema ? "present" : "absent") +
           ")");
    line(format_text("input x_t: [B, %d, N, N] float32, %s", info.channels, n.c_str()));
    line("input t: [B] int64, " + t_range);
    line("input theta: [B, " + p + "] float32, normalised to [0, 1]");
    line(format_text("output eps: [B, %d, N, N] float32", info.channels));
    line("schedule: " + schedule_summary(info));
    if (info.epoch >= 0 || info.iteration >= 0)
      line(format_text("training: epoch %lld, iteration %lld", static_cast<long long>(info.epoch),
                       static_cast<long long>(info.iteration)));
    if (info.format == ScoreNetFormat::Diffuscope) {
      // The model's own description: transform, parameters and the data it was trained on.
      const auto config = json::parse(info.config_json, nullptr, false);
      if (config.is_object()) {
        if (config.contains("transform")) line("transform: " + config["transform"].dump());
        if (config.contains("param_names") && config.contains("param_lo"))
          line("parameters: " + config["param_names"].dump() + ", normalised with lo " +
               config["param_lo"].dump() + ", width " + config.value("param_width", json()).dump());
        if (config.contains("dataset")) {
          const auto& d = config["dataset"];
          line("training data: " + json_text(d, "path", "?") + " (" +
               json_text(d, "generator", "?") + " " + json_text(d, "set_kind", "?") + " set, " +
               json_text(d, "count", "null") + " fields, " + json_text(d, "units", "?") +
               "; fingerprint " + json_text(d, "fingerprint", "?") + "), resolution " +
               config.value("resolution", json()).dump() + ", box " +
               config.value("box_size", json()).dump() + " Mpc/h");
        }
      }
    }
    line("config: " + info.config_json);
    return out;
  }

  std::string info_json() const override { return score_net_info_json(model_->net.info()); }

  ModelSamples sample(const std::vector<double>& theta, int count, const ModelSampleSettings& s,
                      const JobContext& job) const override {
    const std::string& path = description_.path;
    if (s.points)
      throw InvalidArgument("sample: --n-points is for point-cloud models; " + path +
                            " is not one");
    if (theta.size() != model_->parameter_count())
      throw InvalidArgument("sample: " + path + " takes " +
                            std::to_string(model_->parameter_count()) + " parameters, not " +
                            std::to_string(theta.size()));
    if (count < 1) throw InvalidArgument("sample: the count must be at least 1");
    FieldSampleRequest request;
    request.thetas = theta;
    request.per_theta = count;
    request.n = s.resolution
                    ? *s.resolution
                    : (description_.resolution > 0 ? description_.resolution : kDefaultResolution);
    request.seed = s.seed;
    request.physical = !s.model_space;
    const std::string sampler = s.sampler.empty() ? description_.default_sampler : s.sampler;
    request.sampler.kind = kDiffusionSamplers.from_string(sampler);
    request.sampler.steps = s.steps > 0 ? s.steps : description_.default_steps;
    request.sampler.eta = s.eta.value_or(0.0);
    request.sampler.clip_x0 = s.clip.value_or(0.0);
    request.sampler.max_batch = s.batch.value_or(16);
    std::vector<float> fields = sample_fields(*model_, request, {}, job);

    // A model-space value beyond ~8.6 overflows float32 after log10-minmax: say so rather than
    // return infinities (an untrained or diverged model; --model-space shows the raw values).
    std::size_t overflow = 0;
    for (float v : fields) overflow += std::isfinite(v) ? 0 : 1;
    if (overflow > 0)
      throw InvalidArgument("sample: " + std::to_string(overflow) + " of " +
                            std::to_string(fields.size()) +
                            " values are not finite in physical units (the model's fields "
                            "leave the transform's range; see them with --model-space)");
    const std::size_t c = std::size_t(model_->channels()), n = std::size_t(request.n);
    ModelSamples out;
    Dataset& d = out.data;
    d.kind = SampleKind::Fields;
    d.shape = {std::size_t(count), n, n};
    if (c != 1) d.shape.insert(d.shape.begin() + 1, c);
    d.samples = std::move(fields);
    d.param_names = description_.parameter_names;
    for (int i = 0; i < count; ++i) d.params.insert(d.params.end(), theta.begin(), theta.end());
    d.box_size = s.box_size.value_or(description_.box_size > 0.0 ? description_.box_size
                                                                 : kDefaultFieldBoxSize);
    d.set_kind = SetKind::Single;
    d.source = "diffusion";
    d.generator = file_name_of(path);
    d.seed = request.seed;
    d.units = s.model_space ? "model space (" + model_->transform.describe() + ")"
                            : "physical (inverse of " + model_->transform.describe() + ")";
    out.summary = format_text("%d field(s) %zux%zu (%s, %s)", count, n, n, sampler.c_str(),
                              s.model_space ? "model space" : "physical units");
    return out;
  }

  ModelLikelihood likelihood(const LikelihoodSettings& s) const override {
    const std::string& path = description_.path;
    if (model_->parameter_count() != 2)
      throw InvalidArgument(path + ": the model takes " +
                            std::to_string(model_->parameter_count()) +
                            " parameters; the likelihood needs (Omega_m, sigma_8)");
    if (s.observation_is_cloud)
      throw InvalidArgument("--cloud " + s.observation + " is for point-cloud models; " + path +
                            " is a 2D field model (give --field)");
    if (s.observation.empty())
      throw InvalidArgument("--model needs --field FILE (the observed field)");
    require_existing_file(s.observation);
    ObservedField field = load_observed_field(s.observation, *model_, s.index, s.physical);
    add_observation_noise(field.values, model_->transform, s.added_noise, s.seed);
    const VlbSettings vlb = vlb_settings(s);
    ModelLikelihood out;
    out.description = format_text("truncated VLB, T_MAX %d, %s noise, K = %d%s", s.t_max,
                                  kVlbNoiseModes.name(vlb.noise), vlb.draws,
                                  s.added_noise > 0.0 ? ", observation noise added" : "") +
                      ", of field " + std::to_string(field.index) + " of " + s.observation +
                      " under " + path;
    out.name = std::to_string(s.t_max) + " terms";
    out.provenance.model = path;
    out.provenance.field = s.observation;
    out.provenance.index = field.index;
    out.provenance.added_noise = s.added_noise;
    auto truncated = std::make_shared<TruncatedVlb>(*model_, std::move(field.values), field.n, vlb);
    out.likelihood = std::make_shared<const VlbLogLikelihood>(std::move(truncated), 2);
    out.posterior = std::make_shared<const BoxPrior>(out.likelihood, kDefaultPrior);
    return out;
  }

  std::shared_ptr<const LogDensity> likelihood(const ObservationData& o,
                                               const LikelihoodSettings& s) const override {
    if (!o.field)
      throw InvalidArgument(o.origin + ": a " + description_.kind + "'s VLB scores 2D fields; " +
                            "this is a halo catalogue (its likelihood is a halo model's ELBO)");
    if (model_->parameter_count() != 2)
      throw InvalidArgument(description_.path + ": the model takes " +
                            std::to_string(model_->parameter_count()) +
                            " parameters; the likelihood needs (Omega_m, sigma_8)");
    return vlb_likelihood(*model_, *o.field, vlb_settings(s), o.origin, s.added_noise, s.seed);
  }

  ModelCheck check(const Dataset& mocks, const std::string& mocks_path, const ModelCheckSettings& s,
                   const JobContext& job) const override {
    ModelCheck out;
    out.sampler = s.sampler.empty() ? description_.default_sampler : s.sampler;
    EmulatorCheckSettings settings;
    settings.samples = s.samples;
    settings.seed = s.seed;
    settings.sampler.kind = kDiffusionSamplers.from_string(out.sampler);
    settings.sampler.steps = s.steps;
    settings.sampler.clip_x0 = s.clip;
    const auto rows = check_emulator_power(*model_, mocks, settings, job);
    const std::string sampler = out.sampler == "ancestral"
                                    ? "ancestral (all T steps)"
                                    : out.sampler + "-" + std::to_string(s.steps);
    out.text = format_text("# P(k) of %d %s fields per cosmology against the mocks of %s\n",
                           s.samples, sampler.c_str(), mocks_path.c_str());
    out.text +=
        "# reduced chi^2 (Diffusion-HMC eq. 10): generated vs mocks, and each mock vs the "
        "others (leave-one-out)\n";
    out.text += format_text("%-8s %-8s %5s %5s %16s %16s %s\n", "Omega_m", "sigma_8", "mocks",
                            "gen", "chi2_generated", "chi2_mocks_loo",
                            "P_gen/P_mock (first, middle, last k bins)");
    json table = json::array();
    for (const auto& r : rows) {
      const std::size_t b = r.ratio.size();
      std::string ratios;
      for (std::size_t i : {std::size_t(0), b / 2, b ? b - 1 : 0})
        if (i < b)
          ratios +=
              format_text("%s%.3f+-%.3f", ratios.empty() ? "" : ", ", r.ratio[i], r.ratio_error[i]);
      out.text +=
          format_text("%-8.4f %-8.4f %5d %5d %8.3f +- %-5.2f %8.3f +- %-5.2f %s\n", r.theta[0],
                      r.theta.size() > 1 ? r.theta[1] : 0.0, r.mocks, r.generated, r.chi2_generated,
                      r.chi2_generated_sd, r.chi2_loo, r.chi2_loo_sd, ratios.c_str());
      table.push_back({{"theta", r.theta},
                       {"mocks", r.mocks},
                       {"generated", r.generated},
                       {"chi2_generated", r.chi2_generated},
                       {"chi2_generated_sd", r.chi2_generated_sd},
                       {"chi2_loo", r.chi2_loo},
                       {"chi2_loo_sd", r.chi2_loo_sd},
                       {"k", r.k},
                       {"ratio", r.ratio},
                       {"ratio_error", r.ratio_error}});
    }
    out.rows_json = table.dump();
    return out;
  }

  std::shared_ptr<const DiffusionModel2d> field_model() const override { return model_; }

 private:
  std::shared_ptr<const DiffusionModel2d> model_;
  ModelDescription description_;
};

}  // namespace

std::shared_ptr<const Model> make_field_model(const std::string& path, Device device, bool ema) {
  auto model = std::make_shared<const DiffusionModel2d>(DiffusionModel2d::load(path, device, ema));
  return std::make_shared<const FieldModel>(std::move(model), path);
}

}  // namespace ds
