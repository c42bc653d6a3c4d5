// Golden test: the Diffusion-HMC network loaded from a checkpoint made with the authors' PyTorch
// code (shared/testdata/dhmc_tiny, README there) gives the outputs their code gave.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "diffuscope/data/npy.h"
#include "diffuscope/nets/score_net.h"
#include "diffuscope/runtime.h"

namespace {

const std::string kDir = std::string(DS_TESTDATA_DIR) + "/dhmc_tiny/";

std::vector<float> as_float(const ds::NpyArray& a) {
  return {a.data.begin(), a.data.end()};
}

TEST(DhmcReproduction, CheckpointReproducesAuthorsEpsToOneInTenToTheFive) {
  const auto net = ds::ScoreNet2d::load_pytorch_checkpoint(kDir + "checkpoint_tiny.pt");
  const auto x = ds::read_npy(kDir + "x.npy");
  const auto t = ds::read_npy(kDir + "t.npy");
  const auto theta = ds::read_npy(kDir + "theta_normalized.npy");
  const auto expected = ds::read_npy(kDir + "eps_expected.npy");
  ASSERT_EQ(x.shape, (std::vector<std::size_t>{4, 1, 32, 32}));
  ASSERT_EQ(expected.shape, x.shape);
  const std::vector<std::int64_t> steps(t.data.begin(), t.data.end());
  ASSERT_EQ(steps, (std::vector<std::int64_t>{0, 19, 500, 999}));

  // One thread reproduces PyTorch's CPU result bit for bit here; more threads split reductions
  // (GroupNorm statistics, matrix products) differently, which moves the last bits.
  for (int threads : {1, 2}) {
    ds::set_thread_count(threads);
    const auto eps = net.predict_noise(as_float(x), steps, as_float(theta), 4, 32);
    ASSERT_EQ(eps.size(), expected.size());
    double max_error = 0.0, max_value = 0.0;
    std::size_t worst = 0;
    for (std::size_t i = 0; i < eps.size(); ++i) {
      const double error = std::abs(eps[i] - expected.data[i]);
      if (error > max_error) max_error = error, worst = i;
      max_value = std::max(max_value, std::abs(expected.data[i]));
    }
    std::printf("dhmc_tiny, %d thread(s): max |eps - eps_expected| = %.3g (max |eps| = %.3g)\n",
                threads, max_error, max_value);
    EXPECT_LT(max_error, 1e-5) << threads << " threads, worst element " << worst << ": got "
                               << eps[worst] << ", expected " << expected.data[worst];
  }
  ds::set_thread_count(0);
}

TEST(DhmcReproduction, EmaWeightsAreRefusedWhenAbsent) {
  EXPECT_THROW(ds::ScoreNet2d::load_pytorch_checkpoint(kDir + "checkpoint_tiny.pt", true),
               ds::FileError);
}

}  // namespace
