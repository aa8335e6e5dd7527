// Ranking metrics at whatever rank count the test runs with (1-4): each rank
// ranks only its own blocks' users, and the totals over ranks have the bits
// of one process ranking every block.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dals/train/ranking_reduce.hpp"

namespace dals {
namespace {

// Rows [first, first + rows) of `all`, as a rank holds them.
CsrBlock rows_of(const std::vector<Triplet>& all, std::int64_t first, std::int64_t rows, std::int64_t n) {
  std::vector<Triplet> t;
  for (const auto& e : all)
    if (e.row >= first && e.row < first + rows) t.push_back(e);
  return csr_from_triplets(first, rows, n, t);
}

bool same_bits(const RankingSums& a, const RankingSums& b) {
  return a.k == b.k && a.users == b.users && std::memcmp(&a.precision, &b.precision, sizeof(double)) == 0 &&
         std::memcmp(&a.recall, &b.recall, sizeof(double)) == 0 && std::memcmp(&a.ndcg, &b.ndcg, sizeof(double)) == 0;
}

TEST(Ranking, TotalsOverRanksHaveTheBitsOfOneProcess) {
  Comm comm;
  const std::int64_t m = 600, n = 150, block_rows = 50, blocks = m / block_rows;
  const int k = 20;
  // The same model and entries on every rank (a fixed seed).
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.f, 1.f);
  FactorTable users(m, k), items(n, k);
  for (auto* t : {&users, &items})
    for (std::int64_t i = 0; i < t->rows(); ++i)
      for (int d = 0; d < k; ++d) t->row(i)[d] = normal(gen);
  std::bernoulli_distribution pick(0.08);
  std::vector<Triplet> train, test;
  std::vector<std::int64_t> degree(n, 0);
  for (std::int64_t u = 0; u < m; ++u)
    for (std::int64_t i = 0; i < n; ++i) {
      if (pick(gen)) train.push_back({u, i, 1.f}), ++degree[i];
      if (pick(gen)) test.push_back({u, i, 1.f});
    }
  const std::vector<int> ks = {5, 10, 40};

  // One process: every block.
  std::vector<std::int64_t> all_starts;
  for (std::int64_t b = 0; b < blocks; ++b) all_starts.push_back(b * block_rows);
  const CsrBlock all_train = rows_of(train, 0, m, n), all_test = rows_of(test, 0, m, n);
  std::vector<RankingSums> model_ref(ks.size()), popular_ref(ks.size());
  const auto model_blocks = ranking_sums_by_block(users, items, all_train, all_test, all_starts, m, ks);
  const auto popular_blocks = popularity_sums_by_block(degree, all_train, all_test, all_starts, m, ks);
  for (std::int64_t b = 0; b < blocks; ++b)
    for (std::size_t j = 0; j < ks.size(); ++j)
      model_ref[j] += model_blocks[b][j], popular_ref[j] += popular_blocks[b][j];

  // This rank: a contiguous run of blocks (rank r of P: blocks [r B / P, (r + 1) B / P)).
  const std::int64_t b0 = comm.rank() * blocks / comm.size(), b1 = (comm.rank() + 1) * blocks / comm.size();
  const std::int64_t first = b0 * block_rows, end = b1 * block_rows;
  std::vector<std::int64_t> starts;
  for (std::int64_t b = b0; b < b1; ++b) starts.push_back(b * block_rows);
  const CsrBlock my_train = rows_of(train, first, end - first, n), my_test = rows_of(test, first, end - first, n);
  const auto model =
      sum_blocks_over_ranks(comm, ranking_sums_by_block(users, items, my_train, my_test, starts, end, ks), ks);
  const auto popular =
      sum_blocks_over_ranks(comm, popularity_sums_by_block(degree, my_train, my_test, starts, end, ks), ks);
  ASSERT_EQ(model.size(), ks.size());
  EXPECT_GT(model[0].users, 500);
  for (std::size_t j = 0; j < ks.size(); ++j) {
    EXPECT_TRUE(same_bits(model[j], model_ref[j])) << "K = " << ks[j];
    EXPECT_TRUE(same_bits(popular[j], popular_ref[j])) << "K = " << ks[j];
  }
  // The model (random, but of the entries' own users) and popularity differ.
  EXPECT_NE(model[1].ndcg, popular[1].ndcg);
}

}  // namespace
}  // namespace dals
