// One handle for every model Diffuscope reads (DESIGN.md, "one modality-agnostic interface"):
// a 2D field model (DDPM + U-Net: Diffuscope HDF5, Diffusion-HMC .pt checkpoint, TorchScript) or
// a halo point-cloud model (variational diffusion model + GNN/transformer: Diffuscope HDF5). Read
// this header to learn what a model can do:
//
//   auto model = ds::Model::load("halos1000.h5");
//   model->description()   what it is: modality, sample size, box, parameters and prior,
//                          transform, schedule, the data it was trained on, the mocks it imitates
//   model->sample(...)     draw fields or clouds at (Omega_m, sigma_8) as a Dataset
//   model->likelihood(...) its variational bound on an observation as a LogDensity
//                          (the truncated VLB of a field, the ELBO of a cloud)
//
// The CLI, the GUI and the benches see models through this class; the two implementations
// (model/field_model.cpp, model/cloud_model.cpp) are the only code that knows which kind it holds.
// Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diffuscope/data/dataset.h"
#include "diffuscope/data/field.h"
#include "diffuscope/density/log_density.h"
#include "diffuscope/infer/grids/grid_scan.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/registries.h"

namespace ds {

struct DiffusionModel2d;
class PointCloudModel;

enum class Modality { Field2d, PointCloud };

struct ModelDescription {
  std::string path;
  Modality modality = Modality::Field2d;
  std::string kind;    // "2D field model" | "point-cloud model"
  std::string format;  // "Diffuscope model (HDF5)" | "TorchScript module" | "PyTorch checkpoint"
  std::string architecture;            // one line
  std::int64_t trainable_numbers = 0;  // the network's (and a learned schedule's) parameters
  std::string weights;                 // the weight set read ("ema" / "model_ema_state_dict" ...)
  bool has_ema = false;                // the file also holds EMA weights
  std::int64_t training_steps = -1;    // -1 when the file does not say

  // One sample. Fields: `channels` maps of resolution x resolution pixels (resolution: the
  // training size when the file records it, else 0); any side that is a multiple of
  // `downsampling` works. Clouds: `points` points (the training count, 0 when not recorded) of
  // the `features` named.
  int resolution = 0;
  int downsampling = 1;
  int channels = 1;
  int points = 0;
  std::vector<std::string> features;
  double box_size = 0.0;  // Mpc/h; 0 when the file does not say
  std::string size;       // one line: "64x64 pixels, 25 Mpc/h", "1000 halos, 7 features (...)"

  // The conditioning parameters and the box the model was trained over (the prior).
  std::vector<std::string> parameter_names;
  std::vector<double> prior_lo, prior_hi;

  // For people, one line each: the data transform, the noise schedule, the training data
  // ("not recorded in the file" when absent).
  std::string transform, schedule, training_data;
  // The mocks the model imitates: a MockFieldKind name ("grf", "lognormal", "zeldovich") for a
  // field model trained on our mocks, "" otherwise (CAMELS and unknown data); for a point-cloud
  // model the generator of its training clouds when recorded.
  std::string mock_kind;
  bool contrast = false;  // fields: samples are density contrasts (affine transform), not densities

  std::string default_sampler;  // "ddim" | "ancestral"
  int default_steps = 0;        // 50 | 100
  std::string likelihood;       // "truncated VLB" | "ELBO"
  std::string config_json;      // the file's own configuration, as recorded
};

// What `sample` draws. The settings one kind does not take are refused by the other with an
// InvalidArgument naming the CLI flag ("--res is for 2D field models; M is a point-cloud model").
struct ModelSampleSettings {
  std::string sampler;  // "": the kind's default (ddim | ancestral); fields: ancestral, ddim,
                        // ode; clouds: ancestral, ode
  int steps = 0;        // 0: the kind's default (50 | 100)
  std::uint64_t seed = 0;
  std::optional<int> resolution;     // fields (--res): pixels per side; default: the model's
                                     // training size, else 64
  std::optional<int> points;         // clouds (--n-points): default the training count, else 5000
  std::optional<double> eta, clip;   // fields (--eta, --clip): DDIM stochasticity, x0 clamp
  std::optional<std::size_t> batch;  // fields (--batch): fields per network call (default 16)
  std::optional<double> box_size;    // fields (--box-size): the box recorded with them (default:
                                     // the model's, else 25 Mpc/h)
  bool model_space = false;          // fields (--model-space): skip the inverse transform
};

struct ModelSamples {
  // count samples at theta: fields [count, N, N] (or [count, C, N, N] for C > 1 channels, which
  // an HDF5 dataset cannot hold), clouds [count, points, F]; params, names, box, units, seed and
  // generator (the model file's name) filled in.
  Dataset data;
  std::string summary;  // "8 field(s) 64x64 (ddim, physical units)", "2 cloud(s) of ..."
};

// The observation a likelihood scores and the settings of the bound.
struct LikelihoodSettings {
  // The observation: a field (.npy in model space, or physical with `physical`; an HDF5 dataset,
  // physical) for a field model, a cloud (.npy [N, F] / [M, N, F] or an HDF5 Points dataset,
  // physical) for a point-cloud model; index -1: the only one of the file.
  std::string observation;
  bool observation_is_cloud = false;  // named as a cloud (--cloud): refused by a field model
  long index = -1;
  bool physical = false;     // fields (--physical)
  double added_noise = 0.0;  // fields (--add-noise): N(0, sigma) on log10 of the field
  std::uint64_t seed = 0;    // of the bound's noise and of the added noise (separate streams)
  // The truncated VLB of a field model:
  int t_max = 20;
  VlbNoiseMode noise = VlbNoiseMode::Fresh;
  std::size_t chunk = 0;  // network rows per call; 0: automatic
  // Both: noise draws per evaluation (0: 1 for the VLB, 8 for the ELBO).
  int draws = 0;
  // The ELBO of a point-cloud model: Riemann steps S.
  int elbo_steps = 50;
};

// An observation held in memory (the app's Inference workspace): a 2D field in physical units
// (Field2D: positive densities or contrasts) or a cloud [n_points, features] in physical units.
struct ObservationData {
  const Field2D* field = nullptr;                   // fields
  std::shared_ptr<const std::vector<float>> cloud;  // clouds
  std::int64_t n_points = 0;
  int features = 0;
  std::string origin;  // names the observation in errors
};

struct ModelLikelihood {
  std::shared_ptr<const LogDensity> likelihood;  // log L(theta), no prior
  std::shared_ptr<const LogDensity> posterior;   // log L + the flat prior on kDefaultPrior's box
  GridScanProvenance provenance;                 // model, observation file and index, settings
  std::string description;  // one line: the bound, its settings, the observation and the model
  std::string name;         // short, for a grid summary: "20 terms", "ELBO, S = 50, K = 8"
};

// `model check`: samples at every cosmology of a held-out mock set against those mocks.
struct ModelCheckSettings {
  int samples = 16;     // generated per cosmology
  std::string sampler;  // "": the kind's default
  int steps = 50;
  double clip = 0.0;  // fields: x0 clamp (see ModelSampleSettings)
  std::uint64_t seed = 0;
};

struct ModelCheck {
  std::string sampler;  // the sampler used
  std::string text;     // the table for people: '#' comment lines, a header, one row per cosmology
  std::string rows_json;  // the rows as a JSON array (the kind's own statistics)
};

class Model {
 public:
  // Any model file: a Diffuscope HDF5 model (fields or clouds), a Diffusion-HMC PyTorch checkpoint
  // or a TorchScript module. ema selects the EMA weights of a training checkpoint (FileError when
  // it has none). Throws FileError naming the path and the problem.
  static std::shared_ptr<const Model> load(const std::string& path, Device device = Device::Cpu,
                                           bool ema = false);

  virtual ~Model() = default;
  virtual const ModelDescription& description() const = 0;
  Modality modality() const { return description().modality; }

  // `model info`: the kind's description for people (lines) and as JSON (its own keys).
  virtual std::string info_text() const = 0;
  virtual std::string info_json() const = 0;

  // count samples at theta (P raw values) in physical units (fields: unless model_space).
  // Throws InvalidArgument for settings the kind does not take, theta outside the prior box
  // (clouds) or a size the network cannot take; Cancelled between steps; InvalidArgument when a
  // field leaves the transform's range (non-finite in physical units) rather than return it.
  virtual ModelSamples sample(const std::vector<double>& theta, int count,
                              const ModelSampleSettings& settings,
                              const JobContext& job = {}) const = 0;

  // The model's bound on the observation as a log-likelihood of (Omega_m, sigma_8). Throws
  // FileError naming the observation file (missing, wrong kind, shape, features, index) and
  // InvalidArgument for settings the kind does not take.
  virtual ModelLikelihood likelihood(const LikelihoodSettings& settings) const = 0;

  // The same bound on an observation in memory, without the prior. Uses the settings' bound
  // (t_max, noise, draws, seed, chunk; elbo_steps) and observation noise (added_noise); ignores
  // the file fields. Throws InvalidArgument naming `origin` for an observation of the other kind,
  // a size or feature count the model cannot take, or values its transform cannot take.
  virtual std::shared_ptr<const LogDensity> likelihood(
      const ObservationData& observation, const LikelihoodSettings& settings) const = 0;

  // The kind's emulator statistics against a mock set with >= 3 samples per cosmology: P(k) and
  // its reduced chi^2 for fields, kNN-CDFs and the 2PCF for clouds (Diffusion-HMC eq. 10 and its
  // point-cloud analogue), each next to the mocks' own leave-one-out value. mocks_path names the
  // set in the text.
  virtual ModelCheck check(const Dataset& mocks, const std::string& mocks_path,
                           const ModelCheckSettings& settings,
                           const JobContext& job = {}) const = 0;

  // The implementation, for code that needs one kind's own machinery (the field view's
  // denoising animation, trainers, checks): nullptr for the other kind.
  virtual std::shared_ptr<const DiffusionModel2d> field_model() const { return nullptr; }
  virtual std::shared_ptr<const PointCloudModel> point_model() const { return nullptr; }
};

// The modality of a model file without loading its weights: PointCloud for a Diffuscope
// point-cloud model, Field2d for anything else (loading then says what is wrong with it).
Modality model_modality(const std::string& path);

// The modality of a file that looks like a model (a Diffuscope HDF5 model, or a .pt / .pth / .ts /
// .zip PyTorch archive, which only field models come as), nullopt for anything else (a dataset,
// a chain or grid file, an image): what File > Open and drag-and-drop route by. Never throws.
std::optional<Modality> recognise_model_file(const std::string& path);

// One cloud of a file, physical units [n_points, F].
struct ObservedCloud {
  std::vector<float> values;
  std::int64_t n_points = 0;
  std::size_t index = 0;  // cloud of the file
};

// A cloud from .npy ([N, F] or [M, N, F], physical units) or an HDF5 Points dataset; index -1:
// the only cloud of the file. Throws FileError naming the path and the problem (missing, 2D
// fields, wrong rank, F differing from `features`, index out of range).
ObservedCloud read_observed_cloud(const std::string& path, long index, int features);

}  // namespace ds
