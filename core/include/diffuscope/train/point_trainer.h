// Training of point-cloud variational diffusion models (reference/point-cloud.md, "Training"):
// the same request, summary, checkpoint format (data/model_file.h), progress, Ctrl-C and
// --resume behaviour as train_field_model, with the VDM loss (antithetic times, diffusion +
// latent + reconstruction per point), signed-axis-permutation and periodic-translation
// augmentation, AdamW with warm-up + cosine decay, element-wise gradient clipping, EMA. The
// schedule (gamma.b, gamma.w) is trained jointly with the network.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "diffuscope/random.h"
#include "diffuscope/train/trainer.h"

namespace ds {

// One element of the 48 signed axis permutations of the cube: output axis d takes input axis
// axes[d], mirrored (x -> L - x, v -> -v) when flip[d]. index in [0, 48): 6 permutations x 8 sign
// patterns; 0 is the identity.
struct SignedAxisPermutation {
  std::array<int, 3> axes{0, 1, 2};
  std::array<bool, 3> flip{false, false, false};
  static SignedAxisPermutation from_index(int index);
};

// The augmentation of one batch: one symmetry for all clouds, a translation per cloud (Mpc/h,
// each component in [0, box)).
struct PointAugmentation {
  SignedAxisPermutation symmetry;
  std::vector<std::array<double, 3>> shifts;  // [clouds]
  static PointAugmentation draw(Rng& rng, std::size_t clouds, double box);
};

// In place on physical clouds [clouds, n, features] (positions in [0, box) first, velocities
// 3..5 when features >= 6): the symmetry on positions and velocities, then the translation of
// each cloud's positions, wrapped into [0, box). Periodic pairwise distances are preserved.
void augment_point_clouds(std::vector<float>& clouds, std::int64_t n, int features, double box,
                          const PointAugmentation& augmentation);

// request.data / data_path: a Points dataset [M, N, F] with params [M, >= 2] (Omega_m, sigma_8
// first). The config's "network" object (PointNetConfig JSON) chooses the score network.
// Validation (every validate_every steps): the mean per-point VDM loss of (up to
// validation_fields) held-out clouds with the EMA weights and fixed noise; TrainSummary's
// ValidationPoint holds it in reduced_chi2 (its spread over the clouds in spread).
// Step s draws its symmetry and antithetic offset from Rng(seed, s), and each cloud its shift and
// noise from its position in the epoch order (train/distributed.h): with the same thread count on
// CPU, an interrupted and resumed run ends with bit-identical weights, EMA and Adam moments, and
// N data-parallel ranks with batch B train on what one process with batch N x B does.
TrainSummary train_point_model(const TrainRequest& request, const JobContext& job = {},
                               const TrainLog& log = {});

}  // namespace ds
