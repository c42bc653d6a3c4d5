// The bench's FLOP counter (bench/diffusion_bench.h: count_network_flops): convolutions, transposed
// convolutions, matrix products and their backward passes counted from their shapes, exactly;
// nothing else counted; a network's count is linear in the batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "bench/diffusion_bench.h"
#include "nets/unet.h"

namespace {

TEST(FlopCount, ConvolutionsAndProductsAreCountedFromTheirShapes) {
  torch::InferenceMode inference;
  const auto x = torch::randn({2, 3, 10, 12}), w = torch::randn({5, 3, 3, 3});
  // Output 2 x 5 x 8 x 10 (no padding), each element 3 x 3 x 3 multiply-adds.
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::conv2d(x, w); }),
                   2.0 * 2 * 5 * 8 * 10 * 3 * 3 * 3);
  // Stride 2, padding 1: 5 x 6 output pixels.
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::conv2d(x, w, {}, 2, 1); }),
                   2.0 * 2 * 5 * 5 * 6 * 3 * 3 * 3);
  // Groups: 4 -> 6 channels in 2 groups, weight [6, 2, 1, 1].
  const auto xg = torch::randn({1, 4, 7, 7}), wg = torch::randn({6, 2, 1, 1});
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::conv2d(xg, wg, c10::nullopt, torch::IntArrayRef{1}, torch::IntArrayRef{0}, torch::IntArrayRef{1}, 2); }),
                   2.0 * 1 * 6 * 7 * 7 * 2);
  // Transposed: weight [C_in 3, C_out 4, 4, 4]; every input element feeds 4 x 4 x 4 outputs.
  const auto wt = torch::randn({3, 4, 4, 4});
  EXPECT_DOUBLE_EQ(
      ds::count_network_flops([&] { torch::conv_transpose2d(x, wt, {}, 2, 1); }),
      2.0 * (2 * 3 * 10 * 12) * 4 * 4 * 4);
  const auto a = torch::randn({7, 11}), b = torch::randn({11, 13});
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::mm(a, b); }), 2.0 * 7 * 11 * 13);
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::addmm(torch::zeros({7, 13}), a, b); }),
                   2.0 * 7 * 11 * 13);
  const auto p = torch::randn({4, 7, 11}), q = torch::randn({4, 11, 13});
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::bmm(p, q); }), 2.0 * 4 * 7 * 11 * 13);
  // matmul of 4-D tensors runs as one bmm.
  const auto p4 = torch::randn({2, 3, 7, 11}), q4 = torch::randn({2, 3, 11, 13});
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { torch::matmul(p4, q4); }),
                   2.0 * 6 * 7 * 11 * 13);
  // Element-wise work is not counted.
  EXPECT_DOUBLE_EQ(ds::count_network_flops([&] { (x * x + x).relu().sum(); }), 0.0);
}

TEST(FlopCount, BackwardCountsEachGradientItComputes) {
  const auto x = torch::randn({2, 3, 10, 12}, torch::requires_grad());
  const auto w = torch::randn({5, 3, 3, 3}, torch::requires_grad());
  const double forward = 2.0 * 2 * 5 * 8 * 10 * 3 * 3 * 3;
  // Gradients of the input and the weight: twice the forward, plus the forward itself.
  EXPECT_DOUBLE_EQ(
      ds::count_network_flops([&] { torch::conv2d(x, w).sum().backward(); }), 3.0 * forward);
  // Only the weight's gradient.
  const auto x_fixed = x.detach();
  EXPECT_DOUBLE_EQ(
      ds::count_network_flops([&] { torch::conv2d(x_fixed, w).sum().backward(); }),
      2.0 * forward);
}

TEST(FlopCount, AUnetsCountIsLinearInTheBatch) {
  ds::UnetConfig c;
  c.dim = 16;
  c.dim_mults = {1, 2, 4};
  ds::nets::ConditionalUnet net(c);
  torch::InferenceMode inference;
  const auto run = [&](std::int64_t batch) {
    return ds::count_network_flops([&] {
      net->forward(torch::randn({batch, 1, 32, 32}), torch::full({batch}, 10, torch::kInt64),
                   torch::full({batch, 2}, 0.5f));
    });
  };
  const double one = run(1), three = run(3);
  EXPECT_GT(one, 1e6);
  EXPECT_NEAR(three, 3.0 * one, 1e-9 * three);
}

}  // namespace
