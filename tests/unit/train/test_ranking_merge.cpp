// merge_top_k: the lists of item ranges, merged, are the lists of all the
// items, bit for bit (what the routed items' ranking relies on).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dals/core/error.hpp"
#include "dals/train/ranking.hpp"

namespace dals {
namespace {

// Rows [first, end) of `all` as a table of their own (a routed side's).
FactorTable rows_between(const FactorTable& all, std::int64_t first, std::int64_t end) {
  FactorTable part(first, end - first, all.k());
  for (std::int64_t i = first; i < end; ++i) std::memcpy(part.row(i), all.row(i), all.stride() * sizeof(float));
  return part;
}

void expect_same_lists(const TopKLists& a, const TopKLists& b) {
  ASSERT_EQ(a.first_row, b.first_row);
  ASSERT_EQ(a.k, b.k);
  ASSERT_EQ(a.count, b.count);
  ASSERT_EQ(a.items, b.items);
  ASSERT_EQ(a.scores.size(), b.scores.size());
  for (std::int64_t u = 0; u < a.rows(); ++u)  // the bits of the listed scores
    EXPECT_EQ(std::memcmp(a.scores.data() + u * a.k, b.scores.data() + u * b.k, a.count[u] * sizeof(float)), 0);
}

TEST(RankingMerge, RangesMergedEqualTheWholeWithTiesAndShortLists) {
  // Factors from {-1, 0, 1}: many equal scores; training entries exclude
  // about a third of the items, some users have almost none left.
  const int k = 3;
  const std::int64_t users_n = 41, items_n = 130;
  std::mt19937 gen(7);
  std::uniform_int_distribution<int> value(-1, 1);
  FactorTable users(users_n, k), items(items_n, k);
  for (std::int64_t i = 0; i < users_n; ++i)
    for (int d = 0; d < k; ++d) users.row(i)[d] = static_cast<float>(value(gen));
  for (std::int64_t i = 0; i < items_n; ++i)
    for (int d = 0; d < k; ++d) items.row(i)[d] = static_cast<float>(value(gen)) * 0.5f;
  std::vector<Triplet> t;
  std::bernoulli_distribution trained(0.3), almost_all(0.97);
  for (std::int64_t u = 0; u < users_n; ++u)
    for (std::int64_t i = 0; i < items_n; ++i)
      if (u % 10 == 3 ? almost_all(gen) : trained(gen)) t.push_back({u, i, 1.f});
  const CsrBlock train = csr_from_triplets(0, users_n, items_n, t);
  RankingOptions options;
  options.user_batch = 5;
  options.item_block = 16;
  // Ranges of every shape: an empty one, a single item, uneven cuts.
  const std::vector<std::vector<std::int64_t>> cuts = {{0, 130}, {0, 64, 130}, {0, 0, 1, 50, 51, 97, 130}};
  for (const int top : {1, 4, 10, 60, 200}) {
    const TopKLists whole = rank_top_k(users, items, train, 0, users_n, top, options);
    for (const auto& cut : cuts) {
      std::vector<TopKLists> parts;
      for (std::size_t c = 0; c + 1 < cut.size(); ++c) {
        const FactorTable part = rows_between(items, cut[c], cut[c + 1]);
        parts.push_back(rank_top_k_of_range(users, part, train, 0, users_n, top, options));
        for (std::int64_t u = 0; u < users_n; ++u)  // a range's list holds its own items only
          for (int j = 0; j < parts.back().count_of(u); ++j) {
            EXPECT_GE(parts.back().items_of(u)[j], cut[c]);
            EXPECT_LT(parts.back().items_of(u)[j], cut[c + 1]);
          }
      }
      SCOPED_TRACE("K = " + std::to_string(top) + ", " + std::to_string(cut.size() - 1) + " ranges");
      expect_same_lists(merge_top_k(parts, top), whole);
      if (parts.size() > 1 && top >= 10) {  // the comparison can fail: a range left out
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(parts.size()) - 1);
        EXPECT_NE(merge_top_k(parts, top).items, whole.items);
      }
    }
  }
}

TEST(RankingMerge, EqualScoresAcrossRangesGoToTheLowerId) {
  FactorTable users(1, 1), items(6, 1);
  users.row(0)[0] = 1.f;
  for (std::int64_t i = 0; i < 6; ++i) items.row(i)[0] = i == 4 ? 2.f : 1.f;
  const CsrBlock train = csr_from_triplets(0, 1, 6, {{0, 1, 1.f}});
  // The later range's parts come first: the order of the parts does not matter.
  const std::vector<TopKLists> parts = {rank_top_k_of_range(users, rows_between(items, 3, 6), train, 0, 1, 4),
                                        rank_top_k_of_range(users, rows_between(items, 0, 3), train, 0, 1, 4)};
  const TopKLists merged = merge_top_k(parts, 4);
  ASSERT_EQ(merged.count_of(0), 4);
  EXPECT_EQ(std::vector<std::int32_t>(merged.items_of(0), merged.items_of(0) + 4),
            (std::vector<std::int32_t>{4, 0, 2, 3}));
  // Fewer candidates than K: all five, then -1.
  const TopKLists all = merge_top_k({rank_top_k_of_range(users, rows_between(items, 0, 3), train, 0, 1, 8),
                                     rank_top_k_of_range(users, rows_between(items, 3, 6), train, 0, 1, 8)},
                                    8);
  EXPECT_EQ(all.count_of(0), 5);
  EXPECT_EQ(all.items_of(0)[5], -1);
}

TEST(RankingMerge, ARangeOutsideTheItemsIsRefused) {
  FactorTable users(1, 1), items(2, 4, 1);
  EXPECT_THROW(rank_top_k_of_range(users, items, csr_from_triplets(0, 1, 5, {}), 0, 1, 2), Error);
  EXPECT_THROW(rank_top_k(users, items, csr_from_triplets(0, 1, 6, {}), 0, 1, 2), Error);  // not every item
}

TEST(RankingMerge, ListsOfOtherUsersAreRefused) {
  FactorTable users(2, 1), items(3, 1);
  const CsrBlock train = csr_from_triplets(0, 2, 3, {});
  EXPECT_THROW(merge_top_k({rank_top_k(users, items, train, 0, 2, 2), rank_top_k(users, items, train, 1, 2, 2)}, 2),
               Error);
  EXPECT_THROW(merge_top_k({rank_top_k(users, items, train, 0, 2, 2)}, 3), Error);
}

}  // namespace
}  // namespace dals
