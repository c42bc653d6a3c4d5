// Training of point-cloud variational diffusion models (reference/point-cloud.md, "Training"):
// the same request, summary, checkpoint format (train/model_file.h), progress, Ctrl-C and
// --resume behaviour as train_field_model, with the VDM loss (antithetic times, diffusion +
// latent + reconstruction per point), signed-axis-permutation and periodic-translation
// augmentation, AdamW with warm-up + cosine decay, element-wise gradient clipping, EMA. The
// schedule (gamma.b, gamma.w) is trained jointly with the network.
#pragma once

#include "diffuscope/train/trainer.h"

namespace ds {

// request.data / data_path: a Points dataset [M, N, F] with params [M, >= 2] (Omega_m, sigma_8
// first). The config's "network" object (PointNetConfig JSON) chooses the score network.
// Validation (every validate_every steps): the mean per-point ELBO loss of held-out clouds.
TrainSummary train_point_model(const TrainRequest& request, const JobContext& job = {},
                               const TrainLog& log = {});

}  // namespace ds
