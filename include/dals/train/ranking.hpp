#pragma once
/// @file ranking.hpp
/// @brief Top-K items per user and the ranking metrics of held-out entries
/// (precision@K, recall@K, NDCG@K), for a model and for the popularity baseline.
///
/// Ranking. A user's candidates are all items except the user's training
/// entries. score(u, i) = u . v_i over the k factors, plus the item's bias
/// when `with_item_bias` (explicit models; the user's bias and the mean are
/// the same for every item of a user and do not change the order).
/// Order: higher score first; equal scores: lower dense item id first. A NaN
/// score (never from a checked model) ranks below every number.
///
/// Determinism. A score is defined as one chain of fused multiply-adds,
/// s = fma(u_d, v_d, s) for d = 0 .. k-1 from s = 0 (then b_item + s), each
/// correctly rounded by IEEE 754: every kernel computes exactly this chain per
/// pair, whichever batch, block, panel or thread it lands in, with AVX-512
/// or without (a portable build); item_score() is the same chain for one pair. So the
/// lists are the same bits for any thread count, user batch and item block.
/// (Not OpenBLAS's sgemm, which sums in an order of its own kernel's, chosen
/// by CPU at run time: its bits differ from the chain, and may differ between
/// nodes; tests/tools/bench_ranking.cpp counts them. Nor evaluation.cpp's
/// factor_dot, whose sixteen running sums need a horizontal sum per pair:
/// the chain is three times faster to rank by, and differs from it only in
/// rounding.) Metric sums are taken in a fixed order that is a function of
/// the block boundaries only (ranking_sums_by_block), so the same dataset
/// blocks give the same bits for any P and thread count.
///
/// Memory. Per thread: a score buffer of user_batch x item_block floats and
/// the block's items transposed, item_block x k floats (64 x 1024 x 4 B =
/// 256 KiB each by default, k = 64), plus the lists of the batch
/// (user_batch x K (score, item) pairs); independent of the numbers of users
/// and items. The output of rank_top_k is (end - first) x K pairs; the
/// metric functions keep only one sum per chunk of kRankingChunk users.

#include <cstdint>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

/// How items are scored, and the work sizes (which change speed, never bits).
struct RankingOptions {
  bool with_item_bias = false;  ///< score = b_item + u . v (explicit models); implicit models have no biases
  int user_batch = 64;          ///< users scored together against one item block
  int item_block = 1024;        ///< items per block: user_batch x item_block floats of scores per thread
  /// Where given (one entry per item), only items with a nonzero entry are
  /// ranked: dals-recommend leaves out items without training ratings,
  /// whose factors are still their random initial values. Room for later
  /// (issue 17): extra excluded items.
  const std::vector<std::uint8_t>* candidates = nullptr;
};

/// Top-K lists of users [first_row, first_row + rows), best first.
struct TopKLists {
  std::int64_t first_row = 0;
  int k = 0;
  std::vector<std::int32_t> items;  ///< rows x k dense item ids; -1 past count
  std::vector<float> scores;        ///< rows x k scores, same layout
  std::vector<std::int32_t> count;  ///< per user: min(k, candidate items)

  std::int64_t rows() const { return static_cast<std::int64_t>(count.size()); }
  const std::int32_t* items_of(std::int64_t user) const { return items.data() + (user - first_row) * k; }
  const float* scores_of(std::int64_t user) const { return scores.data() + (user - first_row) * k; }
  int count_of(std::int64_t user) const { return count[user - first_row]; }
};

/// The score of one (user, item) pair, bit for bit what rank_top_k ranks by.
float item_score(const FactorTable& users, const FactorTable& items, std::int64_t user, std::int64_t item,
                 bool with_item_bias);

/// Top-`k` items of users [first, end) (global dense ids; train.first_row <=
/// first <= end <= train.first_row + train.rows()), excluding each user's
/// entries in `train` (by user). OpenMP over batches of options.user_batch
/// users (single-threaded when called inside a parallel region).
/// Throws Error if the tables, `train` and the range disagree.
TopKLists rank_top_k(const FactorTable& users, const FactorTable& items, const CsrBlock& train, std::int64_t first,
                     std::int64_t end, int k, const RankingOptions& options = {});

/// The same over a range of the items only: the item table's rows
/// [items.first_row(), items.end_row()) (a routed side's rows, whose lists
/// merge_top_k joins into rank_top_k's of every item).
TopKLists rank_top_k_of_range(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                              std::int64_t first, std::int64_t end, int k, const RankingOptions& options = {});

/// The lists of the same users over disjoint item sets (e.g. rank_top_k of
/// consecutive item ranges), joined: per user the best `k` (<= each part's
/// k) of all parts' candidates in the ranking order. Since that order is a
/// strict total order on (score, item), the top-k of the union is the top-k
/// of the parts' top-ks: the lists are the same bits as one ranking of all
/// the parts' items. Throws Error if the parts hold different users.
TopKLists merge_top_k(const std::vector<TopKLists>& parts, int k);

/// Items by number of training entries, most first; ties: lower id first.
/// `item_degree[i]` is item i's number of training entries (over all ranks).
std::vector<std::int32_t> popularity_order(const std::vector<std::int64_t>& item_degree);

/// The popularity baseline's top-`k` of users [first, end): `order`
/// (popularity_order) without each user's training items. Scores are the
/// item degrees (as floats: for display only, the order is `order`'s).
TopKLists popular_top_k(const std::vector<std::int32_t>& order, const std::vector<std::int64_t>& item_degree,
                        const CsrBlock& train, std::int64_t first, std::int64_t end, int k);

/// Sums over evaluated users (those with at least one test entry); divide
/// by `users` for the means. precision = hits / K, recall = hits / |test_u|,
/// ndcg = DCG / IDCG with binary relevance: DCG = sum over hits at rank r
/// (1-based) of 1 / log2(r + 1), IDCG = the same over ranks 1..min(K, |test_u|).
/// A test item that is also a training item can never be a hit (it is not
/// ranked) but counts in |test_u|. Precision divides by K even where a user
/// has fewer than K candidates.
struct RankingSums {
  int k = 0;
  std::int64_t users = 0;
  double precision = 0;
  double recall = 0;
  double ndcg = 0;
  /// Adds another range's sums: callers add blocks in block order.
  RankingSums& operator+=(const RankingSums& other);
};

/// One user's metrics at `k` (<= lists.k; the first k of its list), with
/// `test_items` (sorted, |test_items| = test_count > 0) its held-out items.
RankingSums user_ranking_metrics(const std::int32_t* list, int list_count, int k, const std::int32_t* test_items,
                                 std::int64_t test_count);

/// Users per summing chunk: a block's sums are the sums of its chunks of
/// kRankingChunk users (counted from the block's first row), added in
/// order, each chunk summed over its users in row order.
constexpr std::int64_t kRankingChunk = 256;

/// Ranking metrics of the model for each K in `ks` (one ranking at max K,
/// each K on its prefix), over users [block_first[0], end): result[b][j] is
/// block b's sums at ks[j], block b being [block_first[b], block_first[b + 1])
/// (the last one ends at `end`). `train` and `test` are by user and hold the
/// same rows; the range must lie within them. Blocks are what a distributed
/// caller sums in block order: the same bits for any P and thread count.
std::vector<std::vector<RankingSums>> ranking_sums_by_block(const FactorTable& users, const FactorTable& items,
                                                            const CsrBlock& train, const CsrBlock& test,
                                                            const std::vector<std::int64_t>& block_first,
                                                            std::int64_t end, const std::vector<int>& ks,
                                                            const RankingOptions& options = {});

/// The same for the popularity baseline (popularity_order of `item_degree`).
std::vector<std::vector<RankingSums>> popularity_sums_by_block(const std::vector<std::int64_t>& item_degree,
                                                               const CsrBlock& train, const CsrBlock& test,
                                                               const std::vector<std::int64_t>& block_first,
                                                               std::int64_t end, const std::vector<int>& ks);

}  // namespace dals
