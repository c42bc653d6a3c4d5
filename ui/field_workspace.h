// View-model of the field slice: owns the slider cosmology, asks the job runner for new fields
// and their statistics, and publishes immutable snapshots that the views draw.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"
#include "diffuscope/stats/power_spectrum_2d.h"
#include "ui/emulator/emulator_model.h"
#include "ui/field_view/field_image.h"

namespace dsui {

class Job;
class JobRunner;

// Where generated fields come from: a built-in mock simulator or a trained diffusion model.
enum class FieldSource { Mock, Emulator };

// The P(k) an emulated field is judged against: the mean over a few mocks of the kind the model
// imitates, at the same parameters, resolution and box. Depends on neither seed nor sampler, so a
// preview and its refined field share one.
struct ReferenceSpectrum {
  ds::MockFieldKind kind = ds::MockFieldKind::Zeldovich;
  double omega_m = 0.0, sigma_8 = 0.0, box_size = 0.0;
  int n = 0;
  int mocks = 0;
  ds::PowerSpectrum spectrum;
  QString label;  // for the legend
  bool matches(ds::MockFieldKind k, const FieldParameters& p, int size, double box) const {
    return kind == k && omega_m == p.omega_m && sigma_8 == p.sigma_8 && n == size &&
           box_size == box;
  }
};

// How the emulator trades speed for quality: a quick DDIM run while a slider moves, a refined one
// once the sliders have rested for `rest_ms`: DDIM with refined_steps, or the ancestral sampler
// (all T steps of the schedule, ~1000 network calls) whose P(k) is faithful where DDIM's is
// smoothed (assets/models/README.md).
struct EmulatorSchedule {
  int preview_steps = 10;
  int refined_steps = 50;
  int rest_ms = 300;
  int reference_mocks = 4;  // mocks averaged into the reference P(k)
  bool ancestral_refinement = false;
};

// The reverse diffusion of a refined emulated field, step by step, for the scrubber: the state x_t
// the sampler holds after each step (model space, noise included) and the clean field the network
// predicts from it (physical units). The stored frames are all DDIM steps, or every k-th ancestral
// step (at most kMaxDenoisingFrames).
struct DenoisingFrame {
  int step = 0;                           // 1 .. total
  int total = 0;                          // sampler steps
  std::int64_t t = 0;                     // code step the network saw
  double noise_level = 0.0;               // sqrt(1 - alphabar_t): the noise fraction of x_t
  std::shared_ptr<const FieldImage> x_t;  // model space
  std::shared_ptr<const FieldImage> x0;   // predicted clean field, physical units
};
inline constexpr int kMaxDenoisingFrames = 100;
struct DenoisingTrajectory {
  std::vector<DenoisingFrame> frames;  // in sampling order (noisiest first)
};

struct FieldSnapshot {
  int generation = 0;                         // increases with every published snapshot
  std::optional<FieldParameters> parameters;  // empty for a field opened from a file
  QString source;         // one line: "GRF 256x256, Omega_m = ..., ..." or a file name
  QString title;          // the same in a short multi-line form, for plot titles
  double box_size = 0.0;  // Mpc/h
  std::shared_ptr<const FieldImage> image;
  ds::PowerSpectrum measured;  // of the displayed field, cut at Nyquist
  QString measured_label;      // for the legend; empty: "measured"
  ds::PowerSpectrum theory;    // linear P_2D at the measured k (generated fields only)
  QString theory_label;        // what `theory` means for this kind of field, for the legend
  double compute_ms = 0.0;
  // Emulated fields: the model, the DDIM steps it took (0 for mocks and files) and whether this
  // is the refined field drawn once the sliders rested (false: the quick preview). `theory` is
  // then the mean P(k) of mocks at the same parameters (`reference`).
  std::shared_ptr<const EmulatorModel> emulator;
  int sampler_steps = 0;
  bool ancestral = false;  // drawn by the ancestral sampler (sampler_steps = T) rather than DDIM
  bool refined = false;
  int nonfinite_pixels = 0;  // outside the model's transform range; `measured` is then empty
  std::shared_ptr<const ReferenceSpectrum> reference;
  std::shared_ptr<const DenoisingTrajectory> trajectory;  // refined emulated fields only
};

class FieldWorkspace : public QObject {
  Q_OBJECT
 public:
  FieldWorkspace(JobRunner* runner, QObject* parent = nullptr);

  // Each request computes on a worker. While one computes, later requests collapse into the
  // latest, which starts when the running one is published: dragging a slider streams fields
  // at the rate they can be made, and the last position always wins.
  // With the emulator as source, each request first gives a preview (schedule().preview_steps)
  // with the seed of `parameters` held fixed, so that moving a slider shows that parameter's
  // effect on the same noise; once no request came for rest_ms a refined field follows. A new
  // request cancels a running refinement.
  void requestField(const FieldParameters& parameters);
  void setResolution(int n);  // 16..512 (mocks; the emulator draws at its model's resolution)
  // Selects a mock simulator as the source (the emulator stays loaded; a model still loading is
  // abandoned).
  void setFieldKind(ds::MockFieldKind kind);
  ds::MockFieldKind fieldKind() const { return kind_; }
  FieldSource source() const { return source_; }
  int resolution() const { return resolution_; }
  void setBoxSize(double box_size);
  double boxSize() const { return box_size_; }
  FieldParameters parameters() const { return parameters_; }

  // Opens an .npy file holding one field [N, N] or a stack [M, N, N] (the first is shown).
  void openField(const QString& path);

  // Loads a model file on a worker (empty path: the embedded default model) and, when it loads,
  // makes it the source and requests a field. On failure modelLoadFailed is emitted and the
  // source stays what it was. A later call supersedes one still loading.
  void loadModel(const QString& path = QString());
  // Makes the loaded emulator the source; without one, loads the embedded model first.
  void useEmulator();
  std::shared_ptr<const EmulatorModel> emulator() const { return emulator_; }
  bool isLoadingModel() const { return loading_model_ > 0; }
  void setEmulatorSchedule(const EmulatorSchedule& schedule) { schedule_ = schedule; }
  const EmulatorSchedule& emulatorSchedule() const { return schedule_; }

  std::shared_ptr<const FieldSnapshot> snapshot() const { return snapshot_; }
  // A field is being made or queued, including a refinement still waiting for the sliders to rest.
  bool isComputing() const { return running_ || pending_ || rest_timer_.isActive(); }

 Q_SIGNALS:
  void snapshotChanged(std::shared_ptr<const dsui::FieldSnapshot> snapshot);
  void computingChanged(bool computing);
  void modelLoaded(std::shared_ptr<const dsui::EmulatorModel> model);
  // message is empty when the user cancelled the load (no error to show).
  void modelLoadFailed(const QString& path, const QString& message);
  // The x_0 the network predicts while a field is being denoised, when the field on screen is
  // not an earlier one of the same model and seed (a new seed or model, not a slider drag).
  void denoisingProgress(std::shared_ptr<const dsui::FieldImage> image, const QString& status);
  // The sliders rested and the refined field of this emulator and position is queued: work that
  // follows it (the ensemble) can queue now, ahead of less urgent work in the exclusive lane.
  void refinementQueued(std::shared_ptr<const dsui::EmulatorModel> emulator,
                        const dsui::FieldParameters& parameters);

 private:
  void startNext();
  void startEmulatorJob(int steps, bool refined);
  void refineAfterRest();
  void publish(std::shared_ptr<FieldSnapshot> snapshot);

  JobRunner* runner_;
  FieldParameters parameters_;
  int resolution_ = 256;
  ds::MockFieldKind kind_ = ds::MockFieldKind::Grf;
  FieldSource source_ = FieldSource::Mock;
  double box_size_ = ds::kDefaultFieldBoxSize;
  bool running_ = false;
  bool pending_ = false;
  bool pending_refined_ = false;  // the queued emulator request is the refinement
  QPointer<Job> running_job_;
  bool running_refined_ = false;
  int request_id_ = 0;  // of the running job; stale denoising frames are dropped
  int generation_ = 0;
  std::shared_ptr<const FieldSnapshot> snapshot_;

  std::shared_ptr<const EmulatorModel> emulator_;
  EmulatorSchedule schedule_;
  QTimer rest_timer_;
  int loading_model_ = 0;   // load jobs in flight
  QPointer<Job> load_job_;  // the latest
  int load_id_ = 0;         // the latest load request; older ones are ignored when they finish
  int applied_load_ = 0;    // the last load whose outcome (model or error) was published
  std::shared_ptr<const ReferenceSpectrum> reference_;  // of the last emulated snapshot
};

// The pure computation behind a snapshot (also used by tests and benchmarks of the UI path).
std::shared_ptr<FieldSnapshot> compute_field_snapshot(ds::MockFieldKind kind,
                                                      const FieldParameters& parameters, int n,
                                                      double box_size, const ds::JobContext& job);

// The reference spectrum of emulated fields: the mean P(k) of `mocks` mocks of `kind` (seeds 1 ..
// mocks) at the parameters, side n and box, cut at Nyquist.
std::shared_ptr<ReferenceSpectrum> compute_reference_spectrum(ds::MockFieldKind kind,
                                                              const FieldParameters& parameters,
                                                              int n, double box_size, int mocks,
                                                              const ds::JobContext& job);

// A field drawn by the emulator with DDIM (`steps`, eta = 0), or with the ancestral sampler (all T
// steps; `steps` unused) when `ancestral`, at the model's resolution, fixed seed parameters.seed;
// its P(k) and the reference (`reference` when it matches, else computed here). `on_denoise`
// receives the predicted x_0 in physical units after each step (may be empty).
std::shared_ptr<FieldSnapshot> compute_emulated_snapshot(
    std::shared_ptr<const EmulatorModel> emulator, const FieldParameters& parameters, int steps,
    bool refined, bool ancestral, std::shared_ptr<const ReferenceSpectrum> reference,
    int reference_mocks,
    const std::function<void(std::shared_ptr<FieldImage>, int step, int total)>& on_denoise,
    const ds::JobContext& job);

}  // namespace dsui

Q_DECLARE_METATYPE(std::shared_ptr<const dsui::FieldSnapshot>)
Q_DECLARE_METATYPE(std::shared_ptr<const dsui::EmulatorModel>)
Q_DECLARE_METATYPE(std::shared_ptr<const dsui::FieldImage>)
