#include <gtest/gtest.h>

#include <vector>

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
