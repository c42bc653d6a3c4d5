// The inside of PointCloudModel (private to core): the torch module and what the facade knows
// about it, plus the pieces the point trainer shares with the loader (building a model from its
// configuration, the /config document, copying weights in by name).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "diffuscope/data/model_file.h"
#include "diffuscope/pointcloud/point_model.h"
#include "pointcloud/vdm.h"

namespace ds {

struct PointCloudModel::Impl {
  pointcloud::Vdm vdm{nullptr};
  PointModelInfo info;
  Device device = Device::Cpu;

  // The facade around a built model (PointCloudModel's constructor is private to it and to Impl).
  static PointCloudModel wrap(std::unique_ptr<Impl> impl) {
    return PointCloudModel(std::move(impl));
  }
};

namespace pointcloud {

// The model file's /config object (point_model.h) without "training" and "data", which the
// trainer adds: format, modality "points", network, transform, gamma, parameters, version.
std::string point_model_config_json(const PointNetConfig& network, const PointTransform& transform,
                                    double gamma0 = 14.0, double gamma1 = -8.0,
                                    const std::vector<std::string>& parameter_names = {"Omega_m",
                                                                                       "sigma_8"});

// A VDM around make_point_network(network) with the schedule (gamma0, gamma1), on `device`,
// trainable (requires_grad, training mode; the caller seeds torch first). The network's
// geometry (box_size, position_mean, position_std) is taken from `transform`, whose feature count
// must equal network.n_features. info gets architecture, network, transform, parameter count and
// the schedule; path and config_json are left to the caller. InvalidArgument for a bad config.
std::unique_ptr<PointCloudModel::Impl> build_point_model(PointNetConfig network,
                                                         const PointTransform& transform,
                                                         double gamma0 = 14.0, double gamma1 = -8.0,
                                                         Device device = Device::Cpu);

// Copies `weights` (named as VdmImpl::named_parameters()) into the model and refreshes
// info.gamma0/gamma1. FileError naming `path` for a missing, mis-shaped, unexpected or
// non-finite weight.
void load_point_model_weights(PointCloudModel::Impl& impl, const std::vector<NamedArray>& weights,
                              const std::string& path);

// The model a checkpoint read from `path` describes: /config parsed (modality "points"), built,
// its /weights (or /ema when `ema`) loaded; in eval mode with frozen weights; info complete.
// FileError naming `path` for anything wrong with the file.
std::unique_ptr<PointCloudModel::Impl> point_model_from_checkpoint(
    const ModelCheckpoint& checkpoint, const std::string& path, Device device = Device::Cpu,
    bool ema = false);

}  // namespace pointcloud
}  // namespace ds
