// dals-eval's per-user metrics (recommend/eval_metrics.hpp) against values
// worked out by hand on tiny lists.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dals/recommend/eval_metrics.hpp"
#include "dals/train/ranking.hpp"

namespace dals {
namespace {

TopKMetrics at(const std::vector<std::int32_t>& list, int k, const std::vector<std::int32_t>& relevant) {
  return user_top_k_metrics(list.data(), static_cast<std::int64_t>(list.size()), k, relevant.data(),
                            static_cast<std::int64_t>(relevant.size()));
}

bool auc_of(const std::vector<std::int32_t>& list, const std::vector<std::int32_t>& relevant, double& auc) {
  return user_auc(list.data(), static_cast<std::int64_t>(list.size()), relevant.data(),
                  static_cast<std::int64_t>(relevant.size()), auc);
}

// List 3 1 4 0 2; relevant 1, 2 and 7 (7 not ranked: a training item).
const std::vector<std::int32_t> kList = {3, 1, 4, 0, 2};
const std::vector<std::int32_t> kRelevant = {1, 2, 7};

TEST(EvalMetrics, OneHitInTheFirstThree) {
  const TopKMetrics m = at(kList, 3, kRelevant);
  EXPECT_DOUBLE_EQ(m.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall, 1.0 / 3);  // 7 counts in |R| though it can never be a hit
  EXPECT_DOUBLE_EQ(m.average_precision, (1.0 / 2) / 3);
  EXPECT_DOUBLE_EQ(m.ndcg, (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0) + 1 / std::log2(4.0)));
}

TEST(EvalMetrics, TwoHitsInTheFirstFive) {
  const TopKMetrics m = at(kList, 5, kRelevant);
  EXPECT_DOUBLE_EQ(m.precision, 2.0 / 5);
  EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.average_precision, (1.0 / 2 + 2.0 / 5) / 3);  // min(K, |R|) = 3
  EXPECT_NEAR(m.ndcg, (1 / std::log2(3.0) + 1 / std::log2(6.0)) / (1 + 1 / std::log2(3.0) + 1 / std::log2(4.0)), 1e-15);
}

TEST(EvalMetrics, FewerRelevantItemsThanK) {
  // One relevant item, ranked first, K = 10 and a list of three: precision
  // still divides by K (Spark's rule), AP and NDCG by min(K, |R|) = 1.
  const TopKMetrics m = at({0, 5, 6}, 10, {0});
  EXPECT_DOUBLE_EQ(m.precision, 0.1);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.average_precision, 1.0);
  EXPECT_DOUBLE_EQ(m.ndcg, 1.0);
  // Two relevant, one ranked second: AP = (1/2) / 2.
  const TopKMetrics two = at({5, 0, 6}, 10, {0, 9});
  EXPECT_DOUBLE_EQ(two.average_precision, 0.25);
  EXPECT_DOUBLE_EQ(two.recall, 0.5);
  EXPECT_DOUBLE_EQ(two.precision, 0.1);
}

TEST(EvalMetrics, NoHitIsZeroEverywhere) {
  const TopKMetrics m = at({4, 5}, 2, {1});
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.recall, 0.0);
  EXPECT_EQ(m.average_precision, 0.0);
  EXPECT_EQ(m.ndcg, 0.0);
}

TEST(EvalMetrics, PerfectListIsOne) {
  const TopKMetrics m = at({2, 1, 0}, 2, {1, 2});
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.average_precision, 1.0);
  EXPECT_DOUBLE_EQ(m.ndcg, 1.0);
}

TEST(EvalMetrics, AucCountsOrderedPairs) {
  double auc = -1;
  // Relevant 1 (rank 2) is above 4 and 0; relevant 2 (last) above none: 2 of 2 x 3 pairs.
  ASSERT_TRUE(auc_of(kList, kRelevant, auc));
  EXPECT_DOUBLE_EQ(auc, 2.0 / 6);
  ASSERT_TRUE(auc_of({0, 5, 6}, {0}, auc));
  EXPECT_DOUBLE_EQ(auc, 1.0);
  ASSERT_TRUE(auc_of({5, 6, 0}, {0}, auc));
  EXPECT_DOUBLE_EQ(auc, 0.0);
  ASSERT_TRUE(auc_of({5, 0, 6, 1}, {0, 1}, auc));  // 0 above 6, 1 above none: 1 of 4
  EXPECT_DOUBLE_EQ(auc, 0.25);
}

TEST(EvalMetrics, AucUndefinedWithoutBothKinds) {
  double auc = 0.5;
  EXPECT_FALSE(auc_of({1, 2}, {1, 2}, auc));  // nothing non-relevant
  EXPECT_FALSE(auc_of({3, 4}, {1, 2}, auc));  // no relevant item ranked
  EXPECT_FALSE(auc_of({}, {1}, auc));
  EXPECT_EQ(auc, 0.5);
}

TEST(EvalMetrics, TiesRankTheLowerIdFirst) {
  // Items 0 and 1 have the same factors, so the same score; item 2 scores
  // less. The ranking puts 0 before 1 (lower id), so relevant item 1 is
  // second: a tie is a lost pair, never half of one.
  FactorTable users(1, 1), items(3, 1);
  users.row(0)[0] = 1.f;
  items.row(0)[0] = 2.f;
  items.row(1)[0] = 2.f;
  items.row(2)[0] = 1.f;
  CsrBlock train;
  train.num_cols = 3;
  train.indptr = {0, 0};
  const TopKLists lists = rank_top_k(users, items, train, 0, 1, 3);
  ASSERT_EQ(lists.count_of(0), 3);
  const std::vector<std::int32_t> list(lists.items_of(0), lists.items_of(0) + 3);
  EXPECT_EQ(list, (std::vector<std::int32_t>{0, 1, 2}));
  const TopKMetrics m = at(list, 2, {1});
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  EXPECT_DOUBLE_EQ(m.average_precision, 0.5);
  EXPECT_DOUBLE_EQ(m.ndcg, 1 / std::log2(3.0));
  double auc = 0;
  ASSERT_TRUE(auc_of(list, {1}, auc));
  EXPECT_DOUBLE_EQ(auc, 0.5);  // above 2, below its tie 0
}

}  // namespace
}  // namespace dals
