#include "diffuscope/diffusion/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffuscope/error.h"
#include "diffuscope/random.h"

namespace ds {

namespace {

// One chunk of rows advanced through all steps of a sampler. The state is kept in double so
// that 1000 ancestral updates accumulate no float32 rounding; the network sees float32.
class ChunkRun {
 public:
  ChunkRun(const NoiseSchedule& schedule, const NoisePredictor& predict, std::size_t first_row,
           std::size_t rows, int channels, int n, std::uint64_t seed,
           const std::vector<std::uint64_t>& streams)
      : schedule_(schedule),
        predict_(predict),
        first_row_(first_row),
        rows_(rows),
        size_(std::size_t(channels) * n * n),
        x_(rows * size_),
        x0_(rows * size_),
        eps_(rows * size_),
        input_(rows * size_),
        output_(rows * size_) {
    trial_.resize(rows * size_);
    for (std::size_t r = 0; r < rows; ++r) rngs_.emplace_back(seed, streams[first_row + r]);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < size_; ++i) x_[r * size_ + i] = rngs_[r].normal();
  }

  // eps_ = eps_hat(state, t) for a state (x_ or another vector of the same shape).
  void predict(const std::vector<double>& state, int t) {
    for (std::size_t i = 0; i < state.size(); ++i) input_[i] = static_cast<float>(state[i]);
    output_.resize(input_.size());
    predict_(input_, t, first_row_, output_);
    if (output_.size() != input_.size())
      throw InvalidArgument("noise predictor returned " + std::to_string(output_.size()) +
                            " values for " + std::to_string(input_.size()));
    for (std::size_t i = 0; i < eps_.size(); ++i) eps_[i] = output_[i];
  }

  // x0_ from state and eps_ at step t: x0 = (x - sqrt(1 - alphabar) eps) / sqrt(alphabar).
  void predict_x0(const std::vector<double>& state, int t) {
    const double a = schedule_.sqrt_recip_alphabar[t], b = schedule_.sqrt_recipm1_alphabar[t];
    for (std::size_t i = 0; i < state.size(); ++i) x0_[i] = a * state[i] - b * eps_[i];
  }

  // Clipping (clip > 0): x0_hat is clamped to [-clip, clip] and eps_hat re-derived from it, so the
  // update below stays consistent (the "clip_denoised" of DDPM codes).
  void clip_x0(const std::vector<double>& state, int t, double clip) {
    if (!(clip > 0.0)) return;
    const double a = schedule_.sqrt_alphabar[t], b = schedule_.sqrt_one_minus_alphabar[t];
    for (std::size_t i = 0; i < state.size(); ++i) {
      x0_[i] = std::clamp(x0_[i], -clip, clip);
      eps_[i] = (state[i] - a * x0_[i]) / b;
    }
  }

  void add_noise(double scale) {
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t i = 0; i < size_; ++i) x_[r * size_ + i] += scale * rngs_[r].normal();
  }

  void ancestral_step(int t, double clip) {
    predict(x_, t);
    predict_x0(x_, t);
    clip_x0(x_, t, clip);
    const double a = schedule_.sqrt_recip_alphas[t];
    const double b = schedule_.betas[t] / schedule_.sqrt_one_minus_alphabar[t];
    for (std::size_t i = 0; i < x_.size(); ++i) x_[i] = a * (x_[i] - b * eps_[i]);
    if (t > 0) add_noise(std::sqrt(schedule_.posterior_variance[t]));
  }

  void ddim_step(int t, int t_prev, double eta, double clip) {
    predict(x_, t);
    predict_x0(x_, t);
    clip_x0(x_, t, clip);
    const double ab = schedule_.alphabar[t];
    const double ab_prev = t_prev >= 0 ? schedule_.alphabar[t_prev] : 1.0;
    const double sigma =
        eta * std::sqrt(std::max(0.0, (1.0 - ab_prev) / (1.0 - ab) * (1.0 - ab / ab_prev)));
    const double direction = std::sqrt(std::max(0.0, 1.0 - ab_prev - sigma * sigma));
    const double signal = std::sqrt(ab_prev);
    for (std::size_t i = 0; i < x_.size(); ++i) x_[i] = signal * x0_[i] + direction * eps_[i];
    if (sigma > 0.0) add_noise(sigma);
  }

  // One Heun step from noise level t to t_prev (Euler when t_prev < 0, i.e. sigma' = 0).
  void heun_step(int t, int t_prev) {
    const double sigma = schedule_.sqrt_recipm1_alphabar[t];
    const double sigma_prev = t_prev >= 0 ? schedule_.sqrt_recipm1_alphabar[t_prev] : 0.0;
    const double scale = schedule_.sqrt_recip_alphabar[t];  // x -> y = x / sqrt(alphabar)
    predict(x_, t);
    predict_x0(x_, t);
    const double h = sigma_prev - sigma;
    if (t_prev < 0) {  // y' = y + h eps = x0_hat: the clean field
      x_ = x0_;
      return;
    }
    // Heun: an Euler trial to sigma', then the average of the slopes at both ends. The first
    // slope and y are kept in buffers because predict() overwrites eps_.
    const double down = schedule_.sqrt_alphabar[t_prev];
    first_ = eps_;
    y_.resize(x_.size());
    for (std::size_t i = 0; i < x_.size(); ++i) {
      y_[i] = scale * x_[i];
      trial_[i] = (y_[i] + h * first_[i]) * down;
    }
    predict(trial_, t_prev);
    for (std::size_t i = 0; i < x_.size(); ++i) {
      x_[i] = (y_[i] + 0.5 * h * (first_[i] + eps_[i])) * down;
      x0_[i] = y_[i] + h * first_[i] - sigma_prev * eps_[i];  // x0_hat at the trial point
    }
  }

  const std::vector<double>& x() const { return x_; }
  const std::vector<double>& x0() const { return x0_; }

 private:
  const NoiseSchedule& schedule_;
  const NoisePredictor& predict_;
  std::size_t first_row_, rows_, size_;
  std::vector<Rng> rngs_;
  std::vector<double> x_, x0_, eps_;
  std::vector<double> y_, first_, trial_;  // Heun buffers
  std::vector<float> input_, output_;
};

}  // namespace

std::vector<int> sampler_timesteps(int T, int steps) {
  if (steps < 1 || steps > T)
    throw InvalidArgument("sampler steps " + std::to_string(steps) + " outside [1, " +
                          std::to_string(T) + "] (the schedule's length)");
  std::vector<int> out(steps);
  for (int i = 0; i < steps; ++i)
    out[steps - 1 - i] =
        steps == 1 ? T - 1 : static_cast<int>(std::lround(double(i) * (T - 1) / (steps - 1)));
  return out;
}

std::vector<double> sample_diffusion(const NoiseSchedule& schedule, const NoisePredictor& predict,
                                     const DiffusionSamplerSettings& settings, std::size_t rows,
                                     int channels, int n, std::uint64_t seed,
                                     const std::vector<std::uint64_t>& streams,
                                     const DenoisingCallback& on_step, const JobContext& job) {
  if (streams.size() != rows)
    throw InvalidArgument("sample_diffusion: " + std::to_string(streams.size()) +
                          " noise streams for " + std::to_string(rows) + " rows");
  if (channels < 1 || n < 1) throw InvalidArgument("sample_diffusion: empty field shape");
  if (!(settings.eta >= 0.0)) throw InvalidArgument("DDIM eta must be >= 0");
  if (!(settings.clip_x0 >= 0.0)) throw InvalidArgument("clip_x0 must be >= 0 (0: off)");
  if (settings.clip_x0 > 0.0 && settings.kind == DiffusionSamplerKind::Ode)
    throw InvalidArgument("clipping x0 applies to the ancestral and DDIM samplers, not the ODE");
  const int T = schedule.steps();
  std::vector<int> levels;
  if (settings.kind == DiffusionSamplerKind::Ancestral) {
    for (int t = T - 1; t >= 0; --t) levels.push_back(t);
  } else {
    levels = sampler_timesteps(T, settings.steps);
  }
  const int total = static_cast<int>(levels.size());
  const std::size_t size = std::size_t(channels) * n * n;
  const std::size_t chunk = std::max<std::size_t>(1, settings.max_batch);
  const std::int64_t work = std::int64_t(total) * std::int64_t((rows + chunk - 1) / chunk);
  std::int64_t done = 0;
  std::vector<double> out(rows * size);
  for (std::size_t first = 0; first < rows; first += chunk) {
    const std::size_t count = std::min(chunk, rows - first);
    ChunkRun run(schedule, predict, first, count, channels, n, seed, streams);
    for (int k = 0; k < total; ++k) {
      job.check_cancelled();
      const int t = levels[k];
      const int t_prev = k + 1 < total ? levels[k + 1] : -1;
      switch (settings.kind) {
        case DiffusionSamplerKind::Ancestral:
          run.ancestral_step(t, settings.clip_x0);
          break;
        case DiffusionSamplerKind::Ddim:
          run.ddim_step(t, t_prev, settings.eta, settings.clip_x0);
          break;
        case DiffusionSamplerKind::Ode:
          run.heun_step(t, t_prev);
          break;
      }
      if (on_step)
        on_step(DenoisingSnapshot{k + 1, total, t, first, count, channels, n, &run.x(), &run.x0()});
      job.report(++done, work,
                 std::string(kDiffusionSamplers.name(settings.kind)) + " step " +
                     std::to_string(k + 1) + "/" + std::to_string(total));
    }
    std::copy(run.x().begin(), run.x().end(), out.begin() + first * size);
  }
  return out;
}

std::vector<float> sample_fields(const DiffusionModel2d& model, const FieldSampleRequest& request,
                                 const DenoisingCallback& on_step, const JobContext& job) {
  require_field_size(model, request.n);
  if (request.per_theta < 1)
    throw InvalidArgument("sample: the number of fields per parameter vector must be >= 1");
  const std::size_t p = model.parameter_count();
  if (request.thetas.empty() || request.thetas.size() % p != 0)
    throw InvalidArgument("sample: " + std::to_string(request.thetas.size()) +
                          " parameter values are not rows of " + std::to_string(p));
  const std::size_t m = request.thetas.size() / p;
  const std::size_t rows = m * std::size_t(request.per_theta);
  std::vector<double> raw(rows * p);
  std::vector<std::uint64_t> streams(rows);
  for (std::size_t j = 0; j < m; ++j)
    for (int i = 0; i < request.per_theta; ++i) {
      const std::size_t r = j * request.per_theta + i;
      std::copy_n(request.thetas.begin() + j * p, p, raw.begin() + r * p);
      streams[r] =
          request.first_stream + (request.fixed_seed ? std::uint64_t(i) : std::uint64_t(r));
    }
  const int channels = model.channels();
  const auto predictor =
      make_noise_predictor(model.net, model.parameters.normalise(raw), request.n);
  const auto x = sample_diffusion(model.schedule, predictor, request.sampler, rows, channels,
                                  request.n, request.seed, streams, on_step, job);
  std::vector<float> out(x.begin(), x.end());
  if (request.physical) model.transform.to_physical(out);
  return out;
}

}  // namespace ds
