#include "ui/emulator/one_p.h"

#include <QElapsedTimer>
#include <algorithm>
#include <cmath>

#include "diffuscope/cosmology/cosmology.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

std::vector<double> one_p_values(int parameter, int count) {
  if (parameter != 0 && parameter != 1)
    throw ds::InvalidArgument("1P: parameter " + std::to_string(parameter) +
                              " is neither Omega_m (0) nor sigma_8 (1)");
  if (count < 2) throw ds::InvalidArgument("1P: at least 2 values");
  const auto& range = parameter == 0 ? ds::kDefaultPrior.omega_m : ds::kDefaultPrior.sigma_8;
  std::vector<double> out;
  for (int i = 0; i < count; ++i)
    out.push_back(range.lo + (range.hi - range.lo) * double(i) / double(count - 1));
  return out;
}

namespace {

// P(k) of `seeds` emulated fields (streams 0 .. seeds-1, fixed noise) and of mocks (seeds
// 1 .. seeds) at one cosmology.
void spectra_at(const EmulatorModel& emulator, double omega_m, double sigma_8, std::uint64_t seed,
                const OnePSettings& settings, ds::SampleSet& emulated, ds::SampleSet& mocks,
                std::vector<double>& k, const ds::JobContext& job) {
  const ds::DiffusionModel2d& model = *emulator.model;
  const int n = emulator.resolution;
  const double box = emulator.box_size;
  ds::FieldSampleRequest request;
  request.thetas = {omega_m, sigma_8};
  request.per_theta = settings.seeds;
  request.n = n;
  request.seed = seed;
  request.fixed_seed = true;
  request.sampler.kind = ds::DiffusionSamplerKind::Ddim;
  request.sampler.steps = settings.steps;
  if (model.transform.kind == ds::FieldTransformKind::Log10MinMax) request.sampler.clip_x0 = 1.0;
  const std::vector<float> values = ds::sample_fields(model, request, {}, job);
  const std::size_t pixels = std::size_t(n) * std::size_t(n);
  emulated.clear();
  mocks.clear();
  for (int i = 0; i < settings.seeds; ++i) {
    ds::Field2D field;
    field.n = n;
    field.box_size = box;
    field.kind = emulator.is_contrast ? ds::FieldKind::Contrast : ds::FieldKind::Density;
    field.values.assign(values.begin() + std::ptrdiff_t(i * pixels),
                        values.begin() + std::ptrdiff_t((i + 1) * pixels));
    for (double v : field.values)
      if (!std::isfinite(v))
        throw ds::InvalidArgument(
            "1P: the emulator drew a field with non-finite pixels at "
            "Omega_m = " +
            std::to_string(omega_m) + ", sigma_8 = " + std::to_string(sigma_8));
    const auto pk = ds::cut_at_nyquist(ds::power_spectrum_2d(field), n, box);
    k = pk.k;
    emulated.push_back(pk.pk);
  }
  ds::Cosmology cosmology;
  cosmology.omega_m = omega_m;
  cosmology.sigma_8 = sigma_8;
  ds::MockFieldSettings mock;
  mock.kind = emulator.reference_kind;
  mock.n = n;
  mock.box_size = box;
  const auto generator = ds::make_field_generator(mock, cosmology);
  for (int i = 0; i < settings.seeds; ++i) {
    job.check_cancelled();
    mocks.push_back(ds::cut_at_nyquist(
                        ds::power_spectrum_2d(generator->draw(std::uint64_t(i) + 1, job)), n, box)
                        .pk);
  }
}

}  // namespace

void compute_one_p(std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& fiducial,
                   const OnePSettings& settings,
                   const std::function<void(std::shared_ptr<const OnePSnapshot>)>& publish,
                   const ds::JobContext& job) {
  QElapsedTimer timer;
  timer.start();
  if (settings.seeds < 1) throw ds::InvalidArgument("1P: at least one seed per value");
  ds::kDefaultPrior.require_inside(fiducial.omega_m, fiducial.sigma_8);
  auto snap = std::make_shared<OnePSnapshot>();
  snap->fiducial = fiducial;
  snap->settings = settings;
  snap->emulator = emulator;
  ds::SampleSet fid_emulated, fid_mocks;
  spectra_at(*emulator, fiducial.omega_m, fiducial.sigma_8, fiducial.seed, settings, fid_emulated,
             fid_mocks, snap->k, job);
  const std::vector<double> values = one_p_values(settings.parameter, settings.values);
  for (std::size_t v = 0; v < values.size(); ++v) {
    job.report(std::int64_t(v), std::int64_t(values.size()),
               "1P value " + std::to_string(v + 1) + " of " + std::to_string(values.size()));
    const double om = settings.parameter == 0 ? values[v] : fiducial.omega_m;
    const double s8 = settings.parameter == 1 ? values[v] : fiducial.sigma_8;
    ds::SampleSet emulated, mocks;
    std::vector<double> k;
    spectra_at(*emulator, om, s8, fiducial.seed, settings, emulated, mocks, k, job);
    OnePCurve curve;
    curve.value = values[v];
    // Seed i against seed i: the shared noise cancels in the ratio (the 1P analysis).
    curve.emulated = ds::ensemble_envelope(ds::ratio_to_fiducial(emulated, fid_emulated));
    curve.mocks = ds::ensemble_envelope(ds::ratio_to_fiducial(mocks, fid_mocks));
    snap->curves.push_back(std::move(curve));
    snap->complete = v + 1 == values.size();
    snap->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
    publish(std::make_shared<const OnePSnapshot>(*snap));
  }
}

OneP::OneP(JobRunner* runner, QObject* parent) : QObject(parent), runner_(runner) {
  qRegisterMetaType<std::shared_ptr<const OnePSnapshot>>();
}

bool OneP::isComputing() const {
  return !job_.isNull();
}

void OneP::start(std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& fiducial,
                 const OnePSettings& settings) {
  cancel();
  if (!emulator) return;
  const int id = ++request_id_;
  job_ =
      runner_->startExclusive(tr("1P comparison"), JobRunner::Urgency::Statistics,
                              [this, id, emulator, fiducial, settings](const ds::JobContext& ctx) {
                                compute_one_p(
                                    emulator, fiducial, settings,
                                    [this, id](std::shared_ptr<const OnePSnapshot> s) {
                                      JobRunner::post(this, [this, id, s] {
                                        if (id != request_id_) return;
                                        auto numbered = std::make_shared<OnePSnapshot>(*s);
                                        numbered->generation = ++generation_;
                                        snapshot_ = numbered;
                                        Q_EMIT snapshotChanged(snapshot_);
                                      });
                                    },
                                    ctx);
                                return JobRunner::Publish([] {});
                              });
  Q_EMIT computingChanged(true);
  connect(job_, &QObject::destroyed, this, [this, id] {
    if (id == request_id_) Q_EMIT computingChanged(false);
  });
}

void OneP::cancel() {
  ++request_id_;
  if (job_) {
    job_->cancel();
    job_ = nullptr;
    Q_EMIT computingChanged(false);
  }
}

}  // namespace dsui
