#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>

#include "dals/core/error.hpp"
#include "dals/recommend/lists.hpp"
#include "dals/train/ranking.hpp"

namespace dals {
namespace {

// k = 1 tables: one factor per row, and the item biases.
FactorTable table(const std::vector<float>& values, const std::vector<float>& biases = {}) {
  FactorTable t(static_cast<std::int64_t>(values.size()), 1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    t.row(i)[0] = values[i];
    if (!biases.empty()) t.row(i)[1] = biases[i];
  }
  return t;
}

CsrBlock rows_of(std::int64_t num_items, const std::vector<std::vector<std::int32_t>>& rows) {
  std::vector<Triplet> t;
  for (std::size_t u = 0; u < rows.size(); ++u)
    for (auto i : rows[u]) t.push_back({static_cast<std::int64_t>(u), i, 1.f});
  return csr_from_triplets(0, static_cast<std::int64_t>(rows.size()), num_items, t);
}

std::string lists_text(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                       const std::vector<std::int64_t>& chosen, const std::vector<std::string>& user_ids,
                       const std::vector<std::string>& item_ids, const ListSpec& spec, ListCounts* counts = nullptr) {
  std::string all;
  const ListCounts c =
      write_lists(users, items, train, chosen, user_ids, item_ids, spec, [&](const std::string& s) { all += s; });
  if (counts) *counts = c;
  return all;
}

TEST(RecommendLists, TiesExclusionRawIdsAndUsersWithoutTrainingData) {
  // Items 0..3 score 2u, 2u, u, 3u for user factor u (k = 1, no biases):
  // items 0 and 1 tie, and the lower id goes first.
  const FactorTable users = table({1.f, 1.f, 1.f});
  const FactorTable items = table({2.f, 2.f, 1.f, 3.f});
  const CsrBlock train = rows_of(4, {{3}, {}, {0, 2}});  // user 1 has no training entries
  const std::vector<std::string> uid{"u10", "u11", "u12"}, iid{"a", "b", "c", "d"};
  ListSpec spec;
  spec.k = 2;
  ListCounts counts;
  EXPECT_EQ(lists_text(users, items, train, {0, 1, 2}, uid, iid, spec, &counts),
            // user 10 rated d (3): excluded; a and b tie, a first. User 11: no list.
            "u10\ta\t2\t1\nu10\tb\t2\t2\nu12\td\t3\t1\nu12\tb\t2\t2\n");
  EXPECT_EQ(counts.users, 2);
  EXPECT_EQ(counts.no_training, 1);
  EXPECT_EQ(counts.lines, 4);

  spec.include_rated = true;
  spec.k = 3;
  EXPECT_EQ(lists_text(users, items, train, {0}, uid, iid, spec), "u10\td\t3\t1\nu10\ta\t2\t2\nu10\tb\t2\t3\n");
  // Fewer candidates than k: the list is shorter (and a huge k costs no memory).
  spec.include_rated = false;
  spec.k = 1000000;
  EXPECT_EQ(lists_text(users, items, train, {2}, uid, iid, spec), "u12\td\t3\t1\nu12\tb\t2\t2\n");
}

TEST(RecommendLists, ItemBiasCountsAndCsvQuotesStringIds) {
  const FactorTable users = table({1.f});
  const FactorTable items = table({1.f, 1.f}, {0.5f, 0.f});
  const CsrBlock one = rows_of(2, {{1}});
  const std::vector<std::string> uid{"x,y"}, iid{"say \"hi\"", "plain"};
  ListSpec spec;
  spec.k = 2;
  spec.include_rated = true;
  spec.separator = ',';
  spec.with_item_bias = true;
  EXPECT_EQ(lists_text(users, items, one, {0}, uid, iid, spec),
            "\"x,y\",\"say \"\"hi\"\"\",1.5,1\n\"x,y\",plain,1,2\n");
  spec.with_item_bias = false;  // implicit: the tie goes to the lower id
  EXPECT_EQ(lists_text(users, items, one, {0}, uid, iid, spec), "\"x,y\",\"say \"\"hi\"\"\",1,1\n\"x,y\",plain,1,2\n");
}

// Brute force: every item scored with item_score, rated ones dropped, sorted
// by score (higher first), then lower id.
std::string brute_force(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                        const std::vector<std::int64_t>& chosen, const ListSpec& spec) {
  std::string out;
  char line[96];
  for (const std::int64_t u : chosen) {
    const std::int64_t row = u - train.first_row;
    if (train.degree(row) == 0) continue;
    std::vector<std::int32_t> candidates;
    for (std::int32_t i = 0; i < items.rows(); ++i)
      if (spec.include_rated || !std::binary_search(train.indices.begin() + train.indptr[row],
                                                    train.indices.begin() + train.indptr[row + 1], i))
        candidates.push_back(i);
    std::vector<float> score(items.rows());
    for (const auto i : candidates) score[i] = item_score(users, items, u, i, spec.with_item_bias);
    std::stable_sort(candidates.begin(), candidates.end(), [&](auto a, auto b) { return score[a] > score[b]; });
    for (int r = 0; r < std::min<int>(spec.k, static_cast<int>(candidates.size())); ++r) {
      std::snprintf(line, sizeof line, "%lld\t%d\t%.9g\t%d\n", static_cast<long long>(u), candidates[r],
                    static_cast<double>(score[candidates[r]]), r + 1);
      out += line;
    }
  }
  return out;
}

TEST(RecommendLists, EqualsBruteForceForAnyThreadCountAndUserSubset) {
  const int k = 5, m = 300, n = 257;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  FactorTable users(m, k), items(n, k);
  for (std::int64_t i = 0; i < m; ++i)
    for (int d = 0; d < k; ++d) users.row(i)[d] = normal(rng);
  for (std::int64_t i = 0; i < n; ++i)
    for (int d = 0; d <= k; ++d) items.row(i)[d] = normal(rng);
  // Ties: item 11 a copy of item 10 (same factors and bias).
  std::copy(items.row(10), items.row(10) + k + 1, items.row(11));
  // Rows 100..299 of the users (a rank's share), some without entries.
  std::vector<Triplet> t;
  for (std::int64_t u = 100; u < m; ++u)
    if (u % 17 != 0)
      for (std::int32_t i = 0; i < n; ++i)
        if ((u * 31 + i * 7) % 11 == 0) t.push_back({u, i, 1.f});
  const CsrBlock train = csr_from_triplets(100, 200, n, t);
  std::vector<std::string> uid(200), iid(n);
  for (int r = 0; r < 200; ++r) uid[r] = std::to_string(100 + r);
  for (int i = 0; i < n; ++i) iid[i] = std::to_string(i);
  std::vector<std::int64_t> all(200), some{100, 101, 102, 150, 153, 154, 155, 299};
  std::iota(all.begin(), all.end(), 100);
  for (const bool include_rated : {false, true})
    for (const bool bias : {false, true}) {
      ListSpec spec;
      spec.k = 7;
      spec.include_rated = include_rated;
      spec.with_item_bias = bias;
      for (const auto* chosen : {&all, &some}) {
        const std::string expected = brute_force(users, items, train, *chosen, spec);
        ASSERT_FALSE(expected.empty());
        for (const int threads : {1, 2}) {
          omp_set_num_threads(threads);
          EXPECT_EQ(lists_text(users, items, train, *chosen, uid, iid, spec), expected)
              << "threads " << threads << " include_rated " << include_rated << " bias " << bias;
        }
      }
    }
  omp_set_num_threads(1);
}

TEST(RecommendLists, RefusesUsersOutsideTheRowsOrOutOfOrder) {
  const FactorTable users = table({1.f, 1.f});
  const FactorTable items = table({1.f});
  const CsrBlock train = rows_of(1, {{0}, {0}});
  const std::vector<std::string> uid{"a", "b"}, iid{"x"};
  EXPECT_THROW(lists_text(users, items, train, {1, 0}, uid, iid, ListSpec{}), Error);
  EXPECT_THROW(lists_text(users, items, train, {2}, uid, iid, ListSpec{}), Error);
}

}  // namespace
}  // namespace dals
