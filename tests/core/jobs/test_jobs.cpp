#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "diffuscope/infer/mcmc/hmc.h"
#include "diffuscope/infer/mcmc/targets.h"
#include "diffuscope/jobs/job.h"
#include "diffuscope/mock/gaussian_field.h"

TEST(Jobs, CancellationTokenIsSharedBetweenCopies) {
  ds::CancellationToken token;
  ds::CancellationToken copy = token;
  EXPECT_FALSE(copy.requested());
  token.request();
  EXPECT_TRUE(copy.requested());
  ds::JobContext job({}, copy);
  EXPECT_THROW(job.check_cancelled(), ds::Cancelled);
}

TEST(Jobs, FieldGenerationReportsProgressAndStopsWhenCancelled) {
  std::vector<ds::Progress> seen;
  ds::JobContext job([&](const ds::Progress& p) { seen.push_back(p); }, ds::CancellationToken());
  ds::gaussian_random_field_2d([](double) { return 1.0; }, 32, 25.0, 1, job);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen.back().done, seen.back().total);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].done, seen[i - 1].done);

  ds::CancellationToken cancel;
  cancel.request();
  EXPECT_THROW(ds::gaussian_random_field_2d([](double) { return 1.0; }, 32, 25.0, 1,
                                            ds::JobContext({}, cancel)),
               ds::Cancelled);
}

TEST(Jobs, ACancellationScopeReachesDefaultContextsOnItsThreadOnly) {
  ds::CancellationToken token;
  EXPECT_FALSE(ds::JobContext().cancelled());
  {
    const ds::CancellationScope scope(token);
    EXPECT_FALSE(ds::JobContext().cancelled());
    token.request();
    EXPECT_TRUE(ds::JobContext().cancelled());
    EXPECT_THROW(ds::JobContext().check_cancelled(), ds::Cancelled);
    bool elsewhere = true;
    std::thread([&] { elsewhere = ds::JobContext().cancelled(); }).join();
    EXPECT_FALSE(elsewhere);  // another thread is outside the scope
    {
      const ds::CancellationScope inner{ds::CancellationToken()};
      EXPECT_FALSE(ds::JobContext().cancelled());  // the innermost scope counts
    }
    EXPECT_TRUE(ds::JobContext().cancelled());
  }
  EXPECT_FALSE(ds::JobContext().cancelled());
  EXPECT_EQ(ds::CancellationScope::current(), nullptr);
}

namespace {
// A Gaussian whose evaluation checks a default JobContext (as a likelihood's network chunks do)
// and requests `token` after `limit` evaluations, from whatever thread evaluates it.
class CancellingGaussian : public ds::GaussianTarget {
 public:
  CancellingGaussian(ds::CancellationToken token, int limit)
      : GaussianTarget({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}), token_(std::move(token)), limit_(limit) {}
  void evaluate(const std::vector<double>& thetas, std::size_t batch, std::vector<double>& values,
                std::vector<double>* gradients) const override {
    if (ds::CancellationScope::current() == nullptr) ++outside_scope_;
    ds::JobContext().check_cancelled();
    if (++calls_ == limit_) token_.request();
    GaussianTarget::evaluate(thetas, batch, values, gradients);
  }
  int calls() const { return calls_; }
  int outside_scope() const { return outside_scope_; }

 private:
  ds::CancellationToken token_;
  int limit_;
  mutable std::atomic<int> calls_{0}, outside_scope_{0};
};
}  // namespace

TEST(Jobs, LockstepChainsEvaluateInsideTheJobsCancellationScope) {
  // The sampler is handed no context: the job's scope alone stops it, and every evaluation of
  // the batched density, on whichever thread the chain executor makes it, sees that scope.
  ds::CancellationToken token;
  const CancellingGaussian density(token, 30);
  ds::HmcSettings s;
  s.run.chains = 4;
  s.run.warmup = 100;
  s.run.draws = 400;
  s.run.starts = {{0.1, 0.1}};
  s.step_size = 0.3;
  s.leapfrog_steps = 5;
  const ds::CancellationScope scope(token);
  EXPECT_THROW(ds::sample_hmc(density, s), ds::Cancelled);
  EXPECT_LE(density.calls(), 31);  // stopped at the evaluation after the request
  EXPECT_EQ(density.outside_scope(), 0) << "a thread evaluated the density outside the job's scope";
}
