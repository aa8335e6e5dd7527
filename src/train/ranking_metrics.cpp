// Ranking metrics of held-out entries and the popularity baseline
// (ranking.hpp); the model's ranking itself is in ranking.cpp.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "dals/core/error.hpp"
#include "dals/train/ranking.hpp"
#include "ranking_internal.hpp"

namespace dals {
namespace ranking_detail {

void PopularRanker::rank(const std::int64_t* user_ids, std::int64_t n, int k, Candidate* out,
                         std::int32_t* count) const {
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t r = user_ids[j] - train_.first_row;
    const std::int32_t* seen = train_.indices.data() + train_.indptr[r];
    const std::int32_t* seen_end = train_.indices.data() + train_.indptr[r + 1];
    // The global order minus this user's items: at most k + |train_u| steps.
    int c = 0;
    for (std::size_t p = 0; p < order_.size() && c < k; ++p) {
      const std::int32_t item = order_[p];
      if (std::binary_search(seen, seen_end, item)) continue;
      out[j * k + c++] = {static_cast<float>(degree_[item]), item};
    }
    count[j] = c;
  }
}

namespace {

// The sums of every chunk of kRankingChunk users of each block, ranked by a
// per-thread ranker, then each block's chunks added in order: a function of
// the block boundaries alone, whatever the thread count or schedule.
template <class MakeRanker>
std::vector<std::vector<RankingSums>> sums_by_block(const CsrBlock& train, const CsrBlock& test,
                                                    const std::vector<std::int64_t>& block_first, std::int64_t end,
                                                    const std::vector<int>& ks, MakeRanker make_ranker) {
  require(!ks.empty(), "ranking metrics: no K given");
  require(!block_first.empty(), "ranking metrics: no user blocks given");
  const int kmax = *std::max_element(ks.begin(), ks.end());
  check_user_range(train, block_first.front(), end, *std::min_element(ks.begin(), ks.end()), "ranking metrics");
  require(test.first_row == train.first_row && test.rows() == train.rows() && test.num_cols == train.num_cols,
          "ranking metrics: the test entries hold users [" + std::to_string(test.first_row) + ", " +
              std::to_string(test.first_row + test.rows()) + ") of " + std::to_string(test.num_cols) +
              " items, the training entries [" + std::to_string(train.first_row) + ", " +
              std::to_string(train.first_row + train.rows()) + ") of " + std::to_string(train.num_cols));
  struct Chunk {
    std::size_t block;
    std::int64_t first, end;
  };
  std::vector<Chunk> chunks;
  for (std::size_t b = 0; b < block_first.size(); ++b) {
    const std::int64_t block_end = b + 1 < block_first.size() ? block_first[b + 1] : end;
    require(block_first[b] <= block_end, "ranking metrics: block boundaries are not increasing at block " +
                                             std::to_string(b) + " (" + std::to_string(block_first[b]) + ")");
    for (std::int64_t c = block_first[b]; c < block_end; c += kRankingChunk)
      chunks.push_back({b, c, std::min(block_end, c + kRankingChunk)});
  }
  const std::size_t nk = ks.size();
  std::vector<RankingSums> chunk_sums(chunks.size() * nk);
#pragma omp parallel
  {
    auto ranker = make_ranker();
    std::vector<std::int64_t> ids;
    std::vector<Candidate> lists;
    std::vector<std::int32_t> counts, items(kmax);
#pragma omp for schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      ids.clear();  // users without test entries are neither ranked nor counted
      for (std::int64_t u = chunks[c].first; u < chunks[c].end; ++u)
        if (test.degree(u - test.first_row) > 0) ids.push_back(u);
      lists.resize(ids.size() * kmax);
      counts.resize(ids.size());
      ranker.rank(ids.data(), static_cast<std::int64_t>(ids.size()), kmax, lists.data(), counts.data());
      RankingSums* sums = chunk_sums.data() + c * nk;
      for (std::size_t j = 0; j < nk; ++j) sums[j].k = ks[j];
      for (std::size_t i = 0; i < ids.size(); ++i) {
        for (int p = 0; p < counts[i]; ++p) items[p] = lists[i * kmax + p].item;
        const std::int64_t r = ids[i] - test.first_row;
        const std::int32_t* held_out = test.indices.data() + test.indptr[r];
        for (std::size_t j = 0; j < nk; ++j)
          sums[j] += user_ranking_metrics(items.data(), counts[i], ks[j], held_out, test.degree(r));
      }
    }
  }
  std::vector<std::vector<RankingSums>> out(block_first.size(), std::vector<RankingSums>(nk));
  for (std::size_t b = 0; b < out.size(); ++b)
    for (std::size_t j = 0; j < nk; ++j) out[b][j].k = ks[j];
  for (std::size_t c = 0; c < chunks.size(); ++c)
    for (std::size_t j = 0; j < nk; ++j) out[chunks[c].block][j] += chunk_sums[c * nk + j];
  return out;
}

}  // namespace
}  // namespace ranking_detail

RankingSums& RankingSums::operator+=(const RankingSums& other) {
  if (k == 0) k = other.k;
  users += other.users;
  precision += other.precision;
  recall += other.recall;
  ndcg += other.ndcg;
  return *this;
}

RankingSums user_ranking_metrics(const std::int32_t* list, int list_count, int k, const std::int32_t* test_items,
                                 std::int64_t test_count) {
  RankingSums s;
  s.k = k;
  s.users = 1;
  std::int64_t hits = 0;
  double dcg = 0, idcg = 0;
  const int ranked = std::min(k, list_count);
  for (int r = 0; r < ranked; ++r) {
    if (std::binary_search(test_items, test_items + test_count, list[r])) {
      ++hits;
      dcg += 1.0 / std::log2(r + 2.0);  // rank r + 1, 1-based
    }
  }
  for (std::int64_t r = 0; r < std::min<std::int64_t>(k, test_count); ++r) idcg += 1.0 / std::log2(r + 2.0);
  s.precision = static_cast<double>(hits) / k;
  s.recall = static_cast<double>(hits) / test_count;
  s.ndcg = dcg / idcg;
  return s;
}

std::vector<std::int32_t> popularity_order(const std::vector<std::int64_t>& item_degree) {
  std::vector<std::int32_t> order(item_degree.size());
  std::iota(order.begin(), order.end(), 0);
  // stable_sort on degree keeps equal degrees in id order.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t a, std::int32_t b) { return item_degree[a] > item_degree[b]; });
  return order;
}

std::vector<std::vector<RankingSums>> ranking_sums_by_block(const FactorTable& users, const FactorTable& items,
                                                            const CsrBlock& train, const CsrBlock& test,
                                                            const std::vector<std::int64_t>& block_first,
                                                            std::int64_t end, const std::vector<int>& ks,
                                                            const RankingOptions& options) {
  ranking_detail::check_model(users, items, train, options, true);
  return ranking_detail::sums_by_block(train, test, block_first, end, ks,
                                       [&] { return ranking_detail::ModelRanker(users, items, train, options); });
}

std::vector<std::vector<RankingSums>> popularity_sums_by_block(const std::vector<std::int64_t>& item_degree,
                                                               const CsrBlock& train, const CsrBlock& test,
                                                               const std::vector<std::int64_t>& block_first,
                                                               std::int64_t end, const std::vector<int>& ks) {
  require(static_cast<std::int64_t>(item_degree.size()) == train.num_cols,
          "popularity metrics: " + std::to_string(item_degree.size()) + " item degrees for " +
              std::to_string(train.num_cols) + " items");
  const std::vector<std::int32_t> order = popularity_order(item_degree);
  return ranking_detail::sums_by_block(train, test, block_first, end, ks,
                                       [&] { return ranking_detail::PopularRanker(order, item_degree, train); });
}

}  // namespace dals
