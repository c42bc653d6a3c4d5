#include "ui/field_workspace.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <algorithm>
#include <chrono>
#include <cmath>

#include "diffuscope/data/observation.h"
#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/gaussian_field.h"
#include "ui/field_view/field_thumbnail.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

namespace {

// For the legend, which shares a narrow dock with the plot.
QString short_kind_name(ds::MockFieldKind kind) {
  switch (kind) {
    case ds::MockFieldKind::Grf:
      return QStringLiteral("GRF");
    case ds::MockFieldKind::Lognormal:
      return QStringLiteral("Lognormal");
    case ds::MockFieldKind::Zeldovich:
      return QStringLiteral("Zel'dovich");
  }
  return QString::fromLatin1(ds::kFieldKinds.label(kind));
}

// Frames of the denoising animation: enough to see the field form, few enough that the UI thread
// spends its time drawing the final field rather than intermediate ones.
constexpr auto kDenoisingFrameInterval = std::chrono::milliseconds(120);

}  // namespace

std::shared_ptr<FieldSnapshot> compute_field_snapshot(ds::MockFieldKind kind,
                                                      const FieldParameters& p, int n,
                                                      double box_size, const ds::JobContext& job) {
  QElapsedTimer timer;
  timer.start();
  ds::kDefaultPrior.require_inside(p.omega_m, p.sigma_8);
  ds::Cosmology cosmology;
  cosmology.omega_m = p.omega_m;
  cosmology.sigma_8 = p.sigma_8;
  ds::MockFieldSettings settings;
  settings.kind = kind;
  settings.n = n;
  settings.box_size = box_size;
  const ds::Field2D field = ds::make_field_generator(settings, cosmology)->draw(p.seed, job);
  job.check_cancelled();
  // The linear slab-projected spectrum: the exact input of the GRF and lognormal mocks, the
  // linear-theory reference of the Zel'dovich maps.
  ds::GrfSettings grf;
  grf.n = n;
  grf.box_size = box_size;
  grf.slab_thickness = settings.slab_thickness;
  const ds::ProjectedPowerSpectrum projected = ds::grf_spectrum_2d(cosmology, grf);

  auto snapshot = std::make_shared<FieldSnapshot>();
  snapshot->parameters = p;
  snapshot->box_size = box_size;
  const QString label = QString::fromLatin1(ds::kFieldKinds.label(kind));
  snapshot->source = QStringLiteral("%1 %2x%2, Omega_m = %3, sigma_8 = %4, seed %5")
                         .arg(label)
                         .arg(n)
                         .arg(p.omega_m, 0, 'f', 3)
                         .arg(p.sigma_8, 0, 'f', 3)
                         .arg(p.seed);
  snapshot->title = QStringLiteral("%1 %2x%2, seed %3\nΩm = %4, σ8 = %5")
                        .arg(label)
                        .arg(n)
                        .arg(p.seed)
                        .arg(p.omega_m, 0, 'f', 3)
                        .arg(p.sigma_8, 0, 'f', 3);
  snapshot->image = make_field_image(field);
  snapshot->measured = ds::cut_at_nyquist(ds::power_spectrum_2d(field), n, box_size);
  snapshot->theory.k = snapshot->measured.k;
  for (double k : snapshot->theory.k) snapshot->theory.pk.push_back(projected(k));
  snapshot->theory_label = kind == ds::MockFieldKind::Zeldovich ? QStringLiteral("linear P₂D(k)")
                                                                : QStringLiteral("input P₂D(k)");
  snapshot->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
  return snapshot;
}

std::shared_ptr<ReferenceSpectrum> compute_reference_spectrum(ds::MockFieldKind kind,
                                                              const FieldParameters& p, int n,
                                                              double box_size, int mocks,
                                                              const ds::JobContext& job) {
  if (mocks < 1) throw ds::InvalidArgument("the reference needs at least one mock");
  ds::kDefaultPrior.require_inside(p.omega_m, p.sigma_8);
  ds::Cosmology cosmology;
  cosmology.omega_m = p.omega_m;
  cosmology.sigma_8 = p.sigma_8;
  ds::MockFieldSettings settings;
  settings.kind = kind;
  settings.n = n;
  settings.box_size = box_size;
  const auto generator = ds::make_field_generator(settings, cosmology);
  auto reference = std::make_shared<ReferenceSpectrum>();
  for (int i = 0; i < mocks; ++i) {
    job.check_cancelled();
    const ds::PowerSpectrum pk = ds::cut_at_nyquist(
        ds::power_spectrum_2d(generator->draw(std::uint64_t(i) + 1, job)), n, box_size);
    if (i == 0) {
      reference->spectrum = pk;
    } else {
      for (std::size_t b = 0; b < pk.pk.size(); ++b) reference->spectrum.pk[b] += pk.pk[b];
    }
  }
  for (double& v : reference->spectrum.pk) v /= double(mocks);
  reference->kind = kind;
  reference->omega_m = p.omega_m;
  reference->sigma_8 = p.sigma_8;
  reference->n = n;
  reference->box_size = box_size;
  reference->mocks = mocks;
  const QString what = short_kind_name(kind);
  reference->label = mocks == 1 ? QStringLiteral("%1 mock, seed 1").arg(what)
                                : QStringLiteral("%1 mocks, mean of %2").arg(what).arg(mocks);
  return reference;
}

namespace {
// "DDIM 50" or "ancestral 1000": the sampler in titles and source lines.
QString sampler_label(bool ancestral, int steps) {
  return ancestral ? QStringLiteral("ancestral %1").arg(steps)
                   : QStringLiteral("DDIM %1").arg(steps);
}
}  // namespace

std::shared_ptr<FieldSnapshot> compute_emulated_snapshot(
    std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& p, int steps,
    bool refined, bool ancestral, std::shared_ptr<const ReferenceSpectrum> reference,
    int reference_mocks,
    const std::function<void(std::shared_ptr<FieldImage>, int, int)>& on_denoise,
    const ds::JobContext& job) {
  QElapsedTimer timer;
  timer.start();
  ds::kDefaultPrior.require_inside(p.omega_m, p.sigma_8);
  const ds::DiffusionModel2d& model = *emulator->model;
  const int n = emulator->resolution;
  const double box = emulator->box_size;

  ds::FieldSampleRequest request;
  request.thetas = {p.omega_m, p.sigma_8};
  request.per_theta = 1;
  request.n = n;
  request.seed = p.seed;
  request.fixed_seed = true;  // the same noise at every parameter value: sliders show their effect
  request.physical = true;
  request.sampler.kind =
      ancestral ? ds::DiffusionSamplerKind::Ancestral : ds::DiffusionSamplerKind::Ddim;
  request.sampler.steps = steps;
  if (ancestral) steps = model.schedule.steps();
  request.sampler.eta = 0.0;
  // Min-max models were trained on [-1, 1]: clamping the predicted x0 there keeps the fields of a
  // partly trained model finite and non-negative, so that they can be shown and measured.
  if (model.transform.kind == ds::FieldTransformKind::Log10MinMax) request.sampler.clip_x0 = 1.0;
  // Refined fields keep their trajectory for the scrubber (a few MB at 64^2).
  auto trajectory = refined ? std::make_shared<DenoisingTrajectory>() : nullptr;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  const ds::DenoisingCallback on_step =
      [&model, &on_denoise, &trajectory, last, n,
       contrast = emulator->is_contrast](const ds::DenoisingSnapshot& s) {
        const std::ptrdiff_t pixels = std::ptrdiff_t(n) * n;
        const int stride = (s.total + kMaxDenoisingFrames - 1) / kMaxDenoisingFrames;
        std::shared_ptr<FieldImage> x0_image;
        const auto x0 = [&] {
          if (!x0_image) {
            std::vector<float> x0(s.x0->begin(), s.x0->begin() + pixels);
            model.transform.to_physical(x0);
            x0_image = make_field_image(std::move(x0), n, contrast);
          }
          return x0_image;
        };
        if (trajectory && (s.step % stride == 0 || s.step == s.total)) {
          DenoisingFrame frame;
          frame.step = s.step;
          frame.total = s.total;
          frame.t = s.t;
          frame.noise_level = model.schedule.sqrt_one_minus_alphabar[std::size_t(s.t)];
          frame.x_t = make_field_image(std::vector<float>(s.x->begin(), s.x->begin() + pixels), n,
                                       /*is_contrast=*/false);
          frame.x0 = x0();
          trajectory->frames.push_back(std::move(frame));
        }
        if (!on_denoise) return;
        const auto now = std::chrono::steady_clock::now();
        if (s.step == s.total || now - *last < kDenoisingFrameInterval) return;
        *last = now;
        on_denoise(x0(), s.step, s.total);
      };
  const std::vector<float> values = ds::sample_fields(model, request, on_step, job);

  if (!reference || !reference->matches(emulator->reference_kind, p, n, box))
    reference =
        compute_reference_spectrum(emulator->reference_kind, p, n, box, reference_mocks, job);
  job.check_cancelled();

  // A model that leaves its transform's range gives infinite or NaN pixels (a poorly trained one,
  // or parameters it has not learnt): shown as such, counted, and left out of P(k).
  const int nonfinite =
      int(std::count_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); }));

  auto snapshot = std::make_shared<FieldSnapshot>();
  snapshot->parameters = p;
  snapshot->box_size = box;
  snapshot->emulator = emulator;
  snapshot->sampler_steps = steps;
  snapshot->ancestral = ancestral;
  snapshot->refined = refined;
  snapshot->reference = reference;
  snapshot->nonfinite_pixels = nonfinite;
  snapshot->trajectory = trajectory;
  const QString quality = refined ? QString() : QStringLiteral(" preview");
  const QString trouble =
      nonfinite ? QStringLiteral(", %1 of %2 pixels not finite").arg(nonfinite).arg(n * n)
                : QString();
  snapshot->source =
      QStringLiteral("Emulator %1 %2x%2, %3%4, Omega_m = %5, sigma_8 = %6, seed %7%8")
          .arg(emulator->name)
          .arg(n)
          .arg(sampler_label(ancestral, steps))
          .arg(quality)
          .arg(p.omega_m, 0, 'f', 3)
          .arg(p.sigma_8, 0, 'f', 3)
          .arg(p.seed)
          .arg(trouble);
  snapshot->title = QStringLiteral("Emulator %1 %2x%2, DDIM %3%4, seed %5\nΩm = %6, σ8 = %7")
                        .arg(emulator->name)
                        .arg(n)
                        .arg(steps)
                        .arg(quality)
                        .arg(p.seed)
                        .arg(p.omega_m, 0, 'f', 3)
                        .arg(p.sigma_8, 0, 'f', 3);
  snapshot->image = make_field_image(values, n, emulator->is_contrast);
  if (nonfinite == 0) {
    ds::Field2D field;
    field.n = n;
    field.box_size = box;
    field.kind = emulator->is_contrast ? ds::FieldKind::Contrast : ds::FieldKind::Density;
    field.values.assign(values.begin(), values.end());
    snapshot->measured = ds::cut_at_nyquist(ds::power_spectrum_2d(field), n, field.box_size);
  } else {
    snapshot->title += QStringLiteral("\nno P(k): %1 pixels not finite").arg(nonfinite);
  }
  snapshot->measured_label = QStringLiteral("emulated");
  snapshot->theory = reference->spectrum;
  snapshot->theory_label = reference->label;
  snapshot->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
  return snapshot;
}

FieldWorkspace::FieldWorkspace(JobRunner* runner, QObject* parent)
    : QObject(parent), runner_(runner) {
  qRegisterMetaType<std::shared_ptr<const FieldSnapshot>>();
  qRegisterMetaType<std::shared_ptr<const EmulatorModel>>();
  qRegisterMetaType<std::shared_ptr<const FieldImage>>();
  rest_timer_.setSingleShot(true);
  connect(&rest_timer_, &QTimer::timeout, this, &FieldWorkspace::refineAfterRest);
}

void FieldWorkspace::requestField(const FieldParameters& parameters) {
  parameters_ = parameters;
  pending_ = true;
  pending_refined_ = false;
  // A refinement of an older position is wasted work now: stop it between two sampler steps.
  if (running_job_ && running_refined_) running_job_->cancel();
  if (source_ == FieldSource::Emulator && emulator_)
    rest_timer_.start(schedule_.rest_ms);
  else
    rest_timer_.stop();
  if (!running_) startNext();
}

void FieldWorkspace::refineAfterRest() {
  if (source_ != FieldSource::Emulator || !emulator_) return;
  const auto& s = snapshot_;
  if (s && s->refined && s->emulator == emulator_ && s->parameters == parameters_) return;
  pending_ = true;
  pending_refined_ = true;
  if (!running_) startNext();
}

void FieldWorkspace::setFieldKind(ds::MockFieldKind kind) {
  kind_ = kind;
  source_ = FieldSource::Mock;
  // The user chose a mock while a model was loading: it must not take over when it arrives.
  if (load_job_) {
    ++load_id_;
    load_job_->cancel();
  }
}

void FieldWorkspace::useEmulator() {
  if (!emulator_) {
    loadModel();
    return;
  }
  source_ = FieldSource::Emulator;
  requestField(parameters_);
}

void FieldWorkspace::loadModel(const QString& path) {
  const int id = ++load_id_;
  ++loading_model_;
  const int fallback_n = resolution_;
  const double fallback_box = box_size_;
  Job* job = runner_->start(
      tr("Load model"), [this, path, id, fallback_n, fallback_box](const ds::JobContext& ctx) {
        QString file = path;
        std::shared_ptr<EmulatorModel> loaded;
        QString error;
        try {
          if (file.isEmpty()) file = extract_embedded_model();
          ctx.check_cancelled();
          auto model = load_emulator_model(file, fallback_n, fallback_box, ctx);
          loaded = std::make_shared<EmulatorModel>(*model);
          loaded->embedded = path.isEmpty();
        } catch (const ds::Cancelled&) {
          throw;
        } catch (const std::exception& e) {
          error = QString::fromUtf8(e.what());
        }
        // Failures are published too, so that the window can restore its source selection.
        return JobRunner::Publish([this, id, file, loaded, error] {
          if (id != load_id_) return;  // superseded by a later load
          applied_load_ = id;
          if (!loaded) {
            Q_EMIT modelLoadFailed(file, error);
            return;
          }
          emulator_ = loaded;
          reference_.reset();
          source_ = FieldSource::Emulator;
          Q_EMIT modelLoaded(emulator_);
          requestField(parameters_);
        });
      });
  load_job_ = job;
  // A cancelled load publishes nothing: report it with an empty message, so that the window can
  // restore its source selection without showing an error.
  connect(job, &QObject::destroyed, this, [this, id, path] {
    --loading_model_;
    if (id == load_id_ && applied_load_ != id) Q_EMIT modelLoadFailed(path, QString());
  });
}

void FieldWorkspace::setResolution(int n) {
  ds::require_field_size(n);
  resolution_ = n;
}

void FieldWorkspace::setBoxSize(double box_size) {
  if (!(box_size > 0.0)) throw ds::InvalidArgument("box size must be positive");
  box_size_ = box_size;
}

void FieldWorkspace::startNext() {
  pending_ = false;
  running_ = true;
  Q_EMIT computingChanged(true);
  ++request_id_;
  running_refined_ = false;
  if (source_ == FieldSource::Emulator && emulator_) {
    const bool refined = pending_refined_;
    startEmulatorJob(refined ? schedule_.refined_steps : schedule_.preview_steps, refined);
    return;
  }
  const FieldParameters p = parameters_;
  const ds::MockFieldKind kind = kind_;
  const int n = resolution_;
  const double box = box_size_;
  Job* job = runner_->start(tr("Field"), [this, kind, p, n, box](const ds::JobContext& ctx) {
    auto snapshot = compute_field_snapshot(kind, p, n, box, ctx);
    return JobRunner::Publish([this, snapshot] { publish(snapshot); });
  });
  running_job_ = job;
  connect(job, &QObject::destroyed, this, [this] {
    running_ = false;
    if (pending_) {
      startNext();
    } else {
      Q_EMIT computingChanged(false);
    }
  });
}

void FieldWorkspace::startEmulatorJob(int steps, bool refined) {
  const FieldParameters p = parameters_;
  const auto emulator = emulator_;
  const auto reference = reference_;
  const int mocks = schedule_.reference_mocks;
  const int id = request_id_;
  // Animate the denoising only when the field on screen is not an earlier draw of the same
  // model and noise: then the user waits for a new picture; during a drag the previous field is
  // the better thing to look at.
  const auto& shown = snapshot_;
  const bool animate = !(shown && shown->emulator == emulator && shown->parameters &&
                         shown->parameters->seed == p.seed);
  std::function<void(std::shared_ptr<FieldImage>, int, int)> on_denoise;
  if (animate)
    on_denoise = [this, id](std::shared_ptr<FieldImage> image, int step, int total) {
      JobRunner::post(this, [this, id, image, step, total] {
        if (id != request_id_ || !running_) return;  // a later field is on its way
        Q_EMIT denoisingProgress(image, tr("denoising, step %1 of %2").arg(step).arg(total));
      });
    };
  const bool ancestral = refined && schedule_.ancestral_refinement;
  const QString sampler =
      sampler_label(ancestral, ancestral ? emulator->model->schedule.steps() : steps);
  const QString title =
      refined ? tr("Emulator, %1").arg(sampler) : tr("Emulator preview, %1").arg(sampler);
  JobRunner::Work work = [this, emulator, p, steps, refined, ancestral, reference, mocks,
                          on_denoise](const ds::JobContext& ctx) {
    auto snapshot = compute_emulated_snapshot(emulator, p, steps, refined, ancestral, reference,
                                              mocks, on_denoise, ctx);
    return JobRunner::Publish([this, snapshot] {
      reference_ = snapshot->reference;
      publish(snapshot);
    });
  };
  // A preview answers a slider at once, beside anything; the refined field is the most urgent
  // job of the exclusive lane.
  Job* job = refined ? runner_->startExclusive(title, JobRunner::Urgency::Field, std::move(work))
                     : runner_->start(title, std::move(work));
  running_job_ = job;
  running_refined_ = refined;
  if (refined) Q_EMIT refinementQueued(emulator, p);
  connect(job, &QObject::destroyed, this, [this] {
    running_ = false;
    if (pending_) {
      startNext();
    } else {
      Q_EMIT computingChanged(false);
    }
  });
}

void FieldWorkspace::openField(const QString& path) {
  const double box = box_size_;
  runner_->start(tr("Open field"), [this, path, box](const ds::JobContext& ctx) {
    QElapsedTimer timer;
    timer.start();
    const std::string file = path.toStdString();
    // The first field of any file core reads observations from (.npy [N, N] / [M, N, N], an HDF5
    // dataset, a CAMELS stack); the file's box when it records one, else the workspace's.
    ds::ObservationRequest request;
    request.index = 0;
    request.kind = ds::SampleKind::Fields;
    const ds::ObservedSample sample = ds::read_observation(file, request, ctx);
    ds::Field2D field = sample.field();
    const int n = field.n;
    if (n < 4 || n % 2) throw ds::FileError(file, "field side must be even and at least 4");
    ctx.check_cancelled();
    if (field.box_size <= 0.0) field.box_size = box;
    const bool stack = sample.count > 1;
    if (sample.units.empty()) {
      double mean = 0.0;
      for (double v : field.values) mean += v;
      mean /= double(field.values.size());
      // A field with a positive mean is a density; otherwise treat it as a contrast.
      field.kind = mean > 0.0 ? ds::FieldKind::Density : ds::FieldKind::Contrast;
    }
    auto snapshot = std::make_shared<FieldSnapshot>();
    snapshot->box_size = field.box_size;
    snapshot->source = QFileInfo(path).fileName() + (stack ? QStringLiteral(" [0]") : QString());
    snapshot->title = snapshot->source;
    snapshot->image = make_field_image(field);
    snapshot->measured = ds::cut_at_nyquist(ds::power_spectrum_2d(field), n, field.box_size);
    snapshot->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
    return JobRunner::Publish([this, snapshot] { publish(snapshot); });
  });
}

void FieldWorkspace::publish(std::shared_ptr<FieldSnapshot> snapshot) {
  snapshot->generation = ++generation_;
  snapshot_ = snapshot;
  Q_EMIT snapshotChanged(snapshot_);
}

}  // namespace dsui
