#pragma once
// The ranking metrics where the items are routed (each rank holds only its
// own item rows): a distributed top-K whose lists, and so whose metric
// sums, are the same bits as ranking_sums_by_block's over every item
// (ranking.hpp). Private to src/train/.
//
// In rounds, every rank in each: each rank sends a batch of its own test
// users (at most users_per_round) to every rank, each user's factor row
// and its training items within that rank's item range; every rank ranks
// the users it receives against its own items (rank_top_k's kernel over a
// range); the partial lists go back to the users' owner, which merges them
// (merge_top_k's merge) into the exact global list and sums the metrics in
// sums_by_block's order. A round moves, to and from each other rank, per
// user: (k + 1 + its training items in the range) words out and 1 + 2 K
// words back (routed_ranking_bytes); it holds those and nothing that grows
// with the numbers of users or items.
#include <cstdint>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/solve/factors.hpp"
#include "dals/train/layout.hpp"
#include "dals/train/ranking.hpp"

namespace dals {

// Words a user's row takes on the way out (k factors, the count of its
// excluded items; each excluded item one more word) and its list back.
inline std::int64_t routed_ranking_row_words(int k) { return k + 1; }
inline std::int64_t routed_ranking_list_words(int kmax) { return 1 + 2 * static_cast<std::int64_t>(kmax); }

// Users of one rank per round for a buffer of `buffer_bytes` (--exchange-buffer):
// the round's received rows and lists of all P ranks' batches fit it.
std::int64_t routed_ranking_users_per_round(std::int64_t buffer_bytes, int ranks, int k, int kmax);

// The own users' training items as dense item ids, kept at load for the
// users with test entries (the solves' copy is rewritten into routed chunk
// positions): indptr over every row of `train`, indices of test users only.
CsrBlock training_items_of_test_users(const CsrBlock& train, const CsrBlock& test);

// What training_items_of_test_users' result holds (the memory model): 0
// for an empty one (no routed ranking).
inline std::int64_t ranking_exclusion_bytes(const CsrBlock& b) {
  return b.rows() > 0 || b.nnz() > 0 ? static_cast<std::int64_t>(b.indptr.size() * 8 + b.indices.size() * 4) : 0;
}

struct RoutedRanking {
  std::vector<std::vector<RankingSums>> blocks;  // as ranking_sums_by_block
  std::int64_t sent = 0, received = 0;           // bytes to and from other ranks
  double seconds = 0;                            // in the collectives
};

// Collective. `users`: holds this rank's users (replicated or routed);
// `items`: this rank's item rows [items.first_row(), items.end_row()), laid
// out over the ranks by `item_layout`; `train`: training_items_of_test_users;
// `test`: the own users' test entries; blocks and ks as ranking_sums_by_block.
RoutedRanking routed_ranking_sums_by_block(const Comm& comm, const FactorTable& users, const FactorTable& items,
                                           const SideLayout& item_layout, const CsrBlock& train, const CsrBlock& test,
                                           const std::vector<std::int64_t>& block_first, std::int64_t end,
                                           const std::vector<int>& ks, std::int64_t users_per_round,
                                           const RankingOptions& options = {});

}  // namespace dals
