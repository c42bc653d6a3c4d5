#include "ui/field_workspace.h"

#include <QElapsedTimer>
#include <QFileInfo>

#include "diffuscope/data/npy.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/field_set.h"
#include "diffuscope/mock/gaussian_field.h"
#include "ui/jobs/job_runner.h"

namespace dsui {

namespace {

std::shared_ptr<FieldImage> to_image(const ds::Field2D& field) {
  auto image = std::make_shared<FieldImage>();
  image->n = field.n;
  image->is_contrast = field.kind == ds::FieldKind::Contrast;
  image->values.assign(field.values.begin(), field.values.end());
  PrecomputeDisplayRanges(*image);
  return image;
}

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
  snapshot->image = to_image(field);
  snapshot->measured = ds::cut_at_nyquist(ds::power_spectrum_2d(field), n, box_size);
  snapshot->theory.k = snapshot->measured.k;
  for (double k : snapshot->theory.k) snapshot->theory.pk.push_back(projected(k));
  snapshot->theory_label = kind == ds::MockFieldKind::Zeldovich ? QStringLiteral("linear P₂D(k)")
                                                                : QStringLiteral("input P₂D(k)");
  snapshot->compute_ms = double(timer.nsecsElapsed()) * 1e-6;
  return snapshot;
}

FieldWorkspace::FieldWorkspace(JobRunner* runner, QObject* parent)
    : QObject(parent), runner_(runner) {
  qRegisterMetaType<std::shared_ptr<const FieldSnapshot>>();
}

void FieldWorkspace::requestField(const FieldParameters& parameters) {
  parameters_ = parameters;
  pending_ = true;
  if (!running_) startNext();
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
  const FieldParameters p = parameters_;
  const ds::MockFieldKind kind = kind_;
  const int n = resolution_;
  const double box = box_size_;
  Job* job = runner_->start(tr("Field"), [this, kind, p, n, box](const ds::JobContext& ctx) {
    auto snapshot = compute_field_snapshot(kind, p, n, box, ctx);
    return JobRunner::Publish([this, snapshot] { publish(snapshot); });
  });
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
    const ds::NpyArray array = ds::read_npy(file);
    const auto& s = array.shape;
    const bool single = s.size() == 2, stack = s.size() == 3;
    if (!(single || stack) || s[s.size() - 1] != s[s.size() - 2])
      throw ds::FileError(file, "expected a square field [N, N] or a stack [M, N, N]");
    const int n = int(s.back());
    if (n < 4 || n % 2) throw ds::FileError(file, "field side must be even and at least 4");
    ctx.check_cancelled();
    ds::Field2D field;
    field.n = n;
    field.box_size = box;
    field.values.assign(array.data.begin(), array.data.begin() + std::ptrdiff_t(n) * n);
    double mean = 0.0;
    for (double v : field.values) mean += v;
    mean /= double(field.values.size());
    // A field with a positive mean is a density; otherwise treat it as a contrast.
    field.kind = mean > 0.0 ? ds::FieldKind::Density : ds::FieldKind::Contrast;
    auto snapshot = std::make_shared<FieldSnapshot>();
    snapshot->box_size = box;
    snapshot->source = QFileInfo(path).fileName() + (stack ? QStringLiteral(" [0]") : QString());
    snapshot->title = snapshot->source;
    snapshot->image = to_image(field);
    snapshot->measured = ds::cut_at_nyquist(ds::power_spectrum_2d(field), n, box);
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
