#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "dals/core/error.hpp"
#include "dals/train/ranking.hpp"

namespace dals {
namespace {

// k = 1 factor tables with the given values (users' biases zero).
FactorTable table(const std::vector<float>& values, const std::vector<float>& biases = {}) {
  FactorTable t(static_cast<std::int64_t>(values.size()), 1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    t.row(i)[0] = values[i];
    if (!biases.empty()) t.row(i)[1] = biases[i];
  }
  return t;
}

// By-user entries from one sorted item list per user.
CsrBlock rows_of(std::int64_t num_items, const std::vector<std::vector<std::int32_t>>& rows) {
  std::vector<Triplet> t;
  for (std::size_t u = 0; u < rows.size(); ++u)
    for (auto i : rows[u]) t.push_back({static_cast<std::int64_t>(u), i, 1.f});
  return csr_from_triplets(0, static_cast<std::int64_t>(rows.size()), num_items, t);
}

std::vector<std::int32_t> list_of(const TopKLists& lists, std::int64_t user) {
  return {lists.items_of(user), lists.items_of(user) + lists.count_of(user)};
}

double discount(int rank) { return 1.0 / std::log2(rank + 1.0); }  // 1-based rank

TEST(Ranking, TiesGoToTheLowerItemIdAndTrainingItemsAreExcluded) {
  const FactorTable users = table({1.f, 1.f});
  const FactorTable items = table({2.f, 3.f, 3.f, 1.f, 3.f});  // scores 2 3 3 1 3
  const CsrBlock train = rows_of(5, {{}, {2}});
  const TopKLists lists = rank_top_k(users, items, train, 0, 2, 4);
  EXPECT_EQ(list_of(lists, 0), (std::vector<std::int32_t>{1, 2, 4, 0}));
  EXPECT_EQ(list_of(lists, 1), (std::vector<std::int32_t>{1, 4, 0, 3}));  // item 2 was trained on
  EXPECT_EQ(lists.scores_of(0)[0], 3.f);
  EXPECT_EQ(lists.scores_of(0)[3], 2.f);
}

TEST(Ranking, KLargerThanTheCandidatesGivesShorterLists) {
  const FactorTable users = table({1.f});
  const FactorTable items = table({5.f, 4.f, 3.f, 2.f, 1.f});
  const TopKLists lists = rank_top_k(users, items, rows_of(5, {{0, 3}}), 0, 1, 10);
  EXPECT_EQ(lists.count_of(0), 3);
  EXPECT_EQ(list_of(lists, 0), (std::vector<std::int32_t>{1, 2, 4}));
  EXPECT_EQ(lists.items_of(0)[3], -1);
}

TEST(Ranking, OnlyCandidateItemsAreRanked) {
  const FactorTable users = table({1.f});
  const FactorTable items = table({5.f, 4.f, 3.f, 2.f, 1.f});
  const std::vector<std::uint8_t> candidates = {1, 0, 1, 0, 1};  // items 1 and 3: no training ratings
  RankingOptions options;
  options.candidates = &candidates;
  const TopKLists lists = rank_top_k(users, items, rows_of(5, {{0}}), 0, 1, 3, options);
  EXPECT_EQ(list_of(lists, 0), (std::vector<std::int32_t>{2, 4}));  // item 0 was trained on
  EXPECT_EQ(lists.count_of(0), 2);
}

TEST(Ranking, ItemBiasIsAddedOnlyWhenAsked) {
  const FactorTable users = table({1.f});
  const FactorTable items = table({1.f, 2.f}, {1.5f, 0.f});
  const CsrBlock train = rows_of(2, {{}});
  EXPECT_EQ(list_of(rank_top_k(users, items, train, 0, 1, 2), 0), (std::vector<std::int32_t>{1, 0}));
  RankingOptions biased;
  biased.with_item_bias = true;
  const TopKLists lists = rank_top_k(users, items, train, 0, 1, 2, biased);
  EXPECT_EQ(list_of(lists, 0), (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(lists.scores_of(0)[0], 2.5f);
}

TEST(Ranking, BadRangesAndShapesAreErrors) {
  const FactorTable users = table({1.f, 1.f});
  const FactorTable items = table({1.f, 2.f});
  const CsrBlock train = rows_of(2, {{}, {}});
  EXPECT_THROW(rank_top_k(users, items, train, 0, 3, 1), Error);
  EXPECT_THROW(rank_top_k(users, items, train, 0, 1, 0), Error);
  EXPECT_THROW(rank_top_k(users, table({1.f}), train, 0, 1, 1), Error);
  EXPECT_THROW(ranking_sums_by_block(users, items, train, rows_of(3, {{}, {}}), {0}, 2, {1}), Error);
}

// Scores 6 5 4 3 2 1 for items 0..5, so each ranking is read off by hand.
TEST(RankingMetrics, HandComputedPrecisionRecallAndNdcg) {
  const FactorTable users = table({1.f, 1.f, 1.f, 1.f, 1.f});
  const FactorTable items = table({6.f, 5.f, 4.f, 3.f, 2.f, 1.f});
  const CsrBlock train = rows_of(6, {{1}, {}, {}, {0, 1, 2, 3}, {0}});
  const CsrBlock test = rows_of(6, {{2, 5}, {0}, {}, {5}, {0, 1}});
  const auto sums = ranking_sums_by_block(users, items, train, test, {0}, 5, {1, 3});
  ASSERT_EQ(sums.size(), 1u);
  // K = 3. user 0: list 0 2 3, hit at rank 2 of 2 test items. user 1: list
  // 0 1 2, hit at rank 1. user 2: no test items, skipped. user 3: list 4 5
  // (two candidates), hit at rank 2. user 4: list 1 2 3, hit at rank 1; its
  // test item 0 is a training item: never a hit, still in |test_u|.
  const RankingSums& k3 = sums[0][1];
  EXPECT_EQ(k3.k, 3);
  EXPECT_EQ(k3.users, 4);
  EXPECT_DOUBLE_EQ(k3.precision, 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(k3.recall, 0.5 + 1.0 + 1.0 + 0.5);
  const double idcg2 = discount(1) + discount(2);
  EXPECT_NEAR(k3.ndcg, discount(2) / idcg2 + 1.0 + discount(2) + 1.0 / idcg2, 1e-15);
  EXPECT_NEAR(discount(2) / idcg2, 0.386852807234542, 1e-12);  // the NDCG of user 0 by hand
  // K = 1: the lists' first items 0, 0, 4, 1: hits for users 1 and 4.
  const RankingSums& k1 = sums[0][0];
  EXPECT_EQ(k1.users, 4);
  EXPECT_DOUBLE_EQ(k1.precision, 2.0);
  EXPECT_DOUBLE_EQ(k1.recall, 1.0 + 0.5);
  EXPECT_DOUBLE_EQ(k1.ndcg, 2.0);
}

TEST(RankingMetrics, OneUsersValuesAndRecallDenominator) {
  const std::int32_t list[] = {7, 3, 9};
  const std::int32_t test[] = {3, 4, 5, 9};
  const RankingSums s = user_ranking_metrics(list, 3, 3, test, 4);
  EXPECT_DOUBLE_EQ(s.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.recall, 2.0 / 4.0);  // hits over all test items, not over min(K, |test|)
  EXPECT_DOUBLE_EQ(s.ndcg, (discount(2) + discount(3)) / (discount(1) + discount(2) + discount(3)));
}

TEST(Popularity, OrderAndHandComputedMetrics) {
  EXPECT_EQ(popularity_order({1, 3, 1, 1, 0}), (std::vector<std::int32_t>{1, 0, 2, 3, 4}));
  const CsrBlock train = rows_of(5, {{0, 1}, {1, 2}, {1, 3}, {}});
  const CsrBlock test = rows_of(5, {{3}, {}, {0}, {2, 4}});
  std::vector<std::int64_t> degree(5, 0);
  for (auto i : train.indices) ++degree[i];
  const TopKLists lists = popular_top_k(popularity_order(degree), degree, train, 0, 4, 3);
  EXPECT_EQ(list_of(lists, 0), (std::vector<std::int32_t>{2, 3, 4}));
  EXPECT_EQ(list_of(lists, 3), (std::vector<std::int32_t>{1, 0, 2}));
  const auto sums = popularity_sums_by_block(degree, train, test, {0}, 4, {2, 3});
  // K = 2: user 0: 2 3, hit at 2. user 2: 0 2, hit at 1. user 3: 1 0, none.
  EXPECT_EQ(sums[0][0].users, 3);
  EXPECT_DOUBLE_EQ(sums[0][0].precision, 1.0);
  EXPECT_DOUBLE_EQ(sums[0][0].recall, 2.0);
  EXPECT_DOUBLE_EQ(sums[0][0].ndcg, discount(2) + 1.0);
  // K = 3: user 3's list 1 0 2 hits at 3 of its 2 test items.
  EXPECT_DOUBLE_EQ(sums[0][1].precision, 1.0);
  EXPECT_DOUBLE_EQ(sums[0][1].recall, 2.5);
  EXPECT_NEAR(sums[0][1].ndcg, discount(2) + 1.0 + discount(3) / (discount(1) + discount(2)), 1e-15);
}

// Random model and entries: each user's row has about `density` of the items.
struct RankingProblem {
  FactorTable users, items;
  CsrBlock train, test;
};

RankingProblem random_problem(std::int64_t m, std::int64_t n, int k, double density, std::uint32_t seed, bool coarse) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int> small(-1, 1);
  RankingProblem p{FactorTable(m, k), FactorTable(n, k), {}, {}};
  // coarse: entries in {-1, 0, 1}, so exact ties are everywhere.
  for (auto* t : {&p.users, &p.items})
    for (std::int64_t i = 0; i < t->rows(); ++i)
      for (int d = 0; d <= k; ++d) t->row(i)[d] = coarse ? static_cast<float>(small(gen)) : normal(gen);
  std::bernoulli_distribution pick(density);
  std::vector<Triplet> train, test;
  for (std::int64_t u = 0; u < m; ++u)
    for (std::int64_t i = 0; i < n; ++i) {
      if (pick(gen)) train.push_back({u, i, 1.f});
      if (pick(gen)) test.push_back({u, i, 1.f});  // may also be a training item
    }
  p.train = csr_from_triplets(0, m, n, train);
  p.test = csr_from_triplets(0, m, n, test);
  return p;
}

// The brute-force reference: every candidate's score, fully sorted.
std::vector<std::int32_t> reference_top_k(const RankingProblem& p, std::int64_t u, int k, bool bias) {
  std::vector<std::pair<float, std::int32_t>> all;
  const auto* seen = p.train.indices.data();
  for (std::int32_t i = 0; i < p.items.rows(); ++i) {
    if (std::binary_search(seen + p.train.indptr[u], seen + p.train.indptr[u + 1], i)) continue;
    all.push_back({item_score(p.users, p.items, u, i, bias), i});
  }
  std::sort(all.begin(), all.end(),
            [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  std::vector<std::int32_t> out;
  for (std::size_t r = 0; r < all.size() && static_cast<int>(r) < k; ++r) out.push_back(all[r].second);
  return out;
}

TEST(Ranking, TopKMatchesAFullSortOnRandomData) {
  for (const bool coarse : {false, true})
    for (const int k : {1, 5, 16, 33, 64}) {
      const RankingProblem p = random_problem(23, 301, k, 0.1, 17 + k, coarse);
      RankingOptions options;
      options.with_item_bias = coarse;
      options.user_batch = 6;
      options.item_block = 50;
      for (const int K : {1, 7, 300}) {
        const TopKLists lists = rank_top_k(p.users, p.items, p.train, 0, 23, K, options);
        for (std::int64_t u = 0; u < 23; ++u) {
          ASSERT_EQ(list_of(lists, u), reference_top_k(p, u, K, coarse)) << "k=" << k << " K=" << K << " u=" << u;
          for (int r = 0; r < lists.count_of(u); ++r)
            ASSERT_EQ(lists.scores_of(u)[r], item_score(p.users, p.items, u, lists.items_of(u)[r], coarse));
        }
      }
    }
}

// The score is defined as one fused multiply-add per factor, in order, from
// zero (plus the item bias): the panel kernel gives those bits for every
// k (whole panels or not), and they are within a float sum's rounding bound
// of the product in double.
TEST(Ranking, ScoresAreOneFmaChainPerPair) {
  for (int k = 1; k <= 70; k += 3)
    for (const bool bias : {false, true}) {
      const RankingProblem p = random_problem(9, 37, k, 0.0, 100 + k, false);
      RankingOptions options;
      options.with_item_bias = bias;
      const TopKLists lists = rank_top_k(p.users, p.items, p.train, 0, 9, 37, options);
      for (std::int64_t u = 0; u < 9; ++u)
        for (int r = 0; r < 37; ++r) {
          const std::int32_t i = lists.items_of(u)[r];
          const float* x = p.users.row(u);
          const float* y = p.items.row(i);
          float chain = 0.f;
          double exact = 0, magnitude = 0;
          for (int d = 0; d < k; ++d) {
            chain = std::fma(x[d], y[d], chain);
            exact += static_cast<double>(x[d]) * y[d], magnitude += std::abs(static_cast<double>(x[d]) * y[d]);
          }
          if (bias) chain = p.items.bias(i) + chain;
          EXPECT_EQ(lists.scores_of(u)[r], chain) << "k=" << k;
          EXPECT_EQ(item_score(p.users, p.items, u, i, bias), chain) << "k=" << k;
          if (!bias) {
            EXPECT_NEAR(chain, exact, 2.0 * (k + 1) * std::ldexp(1.0, -24) * magnitude) << "k=" << k;
          }
        }
    }
}

bool same_bits(const std::vector<std::vector<RankingSums>>& a, const std::vector<std::vector<RankingSums>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < a[i].size(); ++j) {
      const RankingSums &x = a[i][j], &y = b[i][j];
      if (x.k != y.k || x.users != y.users || std::memcmp(&x.precision, &y.precision, sizeof(double)) ||
          std::memcmp(&x.recall, &y.recall, sizeof(double)) || std::memcmp(&x.ndcg, &y.ndcg, sizeof(double)))
        return false;
    }
  return true;
}

CsrBlock rows_from(const CsrBlock& all, std::int64_t first) {
  std::vector<Triplet> t;
  for (const auto& e : csr_to_triplets(all))
    if (e.row >= first) t.push_back(e);
  return csr_from_triplets(first, all.rows() - first, all.num_cols, t);
}

// Bit-identical sums for 1 and 2 threads, any user batch and item block, and
// for a "rank" holding only the later blocks, as a distributed caller sums.
TEST(RankingMetrics, SumsAreTheSameBitsForAnyThreadsBatchesAndOwners) {
  const RankingProblem p = random_problem(700, 211, 37, 0.05, 3, false);
  const std::vector<std::int64_t> blocks = {0, 100, 450};
  const std::vector<int> ks = {1, 10, 20};
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto reference = ranking_sums_by_block(p.users, p.items, p.train, p.test, blocks, 700, ks);
  const auto popular_reference =
      popularity_sums_by_block(std::vector<std::int64_t>(211, 1), p.train, p.test, blocks, 700, ks);
  const TopKLists lists = rank_top_k(p.users, p.items, p.train, 0, 700, 20);
  EXPECT_GT(reference[2][1].users, 200);
  omp_set_num_threads(2);
  for (const auto& [batch, block] : std::vector<std::pair<int, int>>{{64, 1024}, {1, 7}, {3, 211}, {5, 100}}) {
    RankingOptions options;
    options.user_batch = batch;
    options.item_block = block;
    EXPECT_TRUE(
        same_bits(ranking_sums_by_block(p.users, p.items, p.train, p.test, blocks, 700, ks, options), reference))
        << batch << " x " << block;
    const TopKLists again = rank_top_k(p.users, p.items, p.train, 0, 700, 20, options);
    EXPECT_EQ(again.items, lists.items);
    EXPECT_EQ(std::memcmp(again.scores.data(), lists.scores.data(), lists.scores.size() * sizeof(float)), 0);
  }
  EXPECT_TRUE(same_bits(popularity_sums_by_block(std::vector<std::int64_t>(211, 1), p.train, p.test, blocks, 700, ks),
                        popular_reference));
  // A rank owning blocks 1 and 2 only gets those blocks' bits.
  const auto later =
      ranking_sums_by_block(p.users, p.items, rows_from(p.train, 100), rows_from(p.test, 100), {100, 450}, 700, ks);
  EXPECT_TRUE(same_bits(later, {reference[1], reference[2]}));
  // ... also from a user table of its own rows only (routed users).
  FactorTable own_users(100, 600, p.users.k());
  for (std::int64_t u = 100; u < 700; ++u)
    std::copy(p.users.row(u), p.users.row(u) + p.users.stride(), own_users.row(u));
  const auto routed =
      ranking_sums_by_block(own_users, p.items, rows_from(p.train, 100), rows_from(p.test, 100), {100, 450}, 700, ks);
  EXPECT_TRUE(same_bits(routed, {reference[1], reference[2]}));
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace dals
