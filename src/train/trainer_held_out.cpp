// The trainer's held-out measurements and early stopping's memory: the
// ranking metrics of the test split (and popularity's), the error sums over
// the test or the validation split (through a routing plan where the items
// are routed), and the best iteration's factors.
#include <algorithm>
#include <utility>

#include "dals/mpi/route_rows.hpp"
#include "dals/train/evaluation.hpp"
#include "dals/train/ranking_reduce.hpp"
#include "dals/train/trainer.hpp"
#include "ranking_routed.hpp"
#include "trainer_local.hpp"

namespace dals {

bool Trainer::ranking_due() const {
  if (!manifest_.has_test || manifest_.test.ratings == 0) return false;
  return iteration_ == config_.iterations || (config_.eval_every > 0 && iteration_ % config_.eval_every == 0);
}

std::vector<RankingSums> Trainer::popularity_metrics(const std::vector<int>& ks) const {
  // Every item's training entries, from the ranks' item rows.
  const CsrBlock& by_item = local_[Side::items]->ratings;
  // Routed items: the by-user rows' columns are chunk positions; the kept dense ids instead.
  const CsrBlock& by_user = routed_.items ? ranking_train_ : local_[Side::users]->ratings;
  std::vector<std::int64_t> degree(manifest_.items, 0);
  for (std::int64_t r = 0; r < by_item.rows(); ++r) degree[by_item.first_row + r] = by_item.degree(r);
  comm_.allgather_rows(degree.data(), 1, layout(Side::items).first_rows(), layout(Side::items).row_counts());
  const OwnedRange own = layout(Side::users).of(comm_.rank());
  std::vector<std::int64_t> block_first;
  for (int b = own.first_block; b < own.end_block; ++b) block_first.push_back(manifest_.train.user_blocks[b].first);
  const auto mine = popularity_sums_by_block(degree, by_user, test_by_user_, block_first, own.end_row, ks);
  return sum_blocks_over_ranks(comm_, mine, ks);
}

std::vector<RankingSums> Trainer::ranking_metrics(const std::vector<int>& ks) const {
  Moved moved;
  return ranking_metrics(ks, moved);
}

std::vector<RankingSums> Trainer::ranking_metrics(const std::vector<int>& ks, Moved& moved) const {
  // This rank's users in its own blocks, each block's sums in a fixed
  // order, then added over the ranks in block order: the same bits for any
  // P and thread count (ranking.hpp), and for routed items, whose lists
  // are merged from every rank's (ranking_routed.hpp).
  const OwnedRange own = layout(Side::users).of(comm_.rank());
  std::vector<std::int64_t> block_first;
  for (int b = own.first_block; b < own.end_block; ++b) block_first.push_back(manifest_.train.user_blocks[b].first);
  RankingOptions options;
  options.with_item_bias = !params_.implicit && params_.bias;
  if (!routed_.items)
    return sum_blocks_over_ranks(comm_,
                                 ranking_sums_by_block(factors_.users, factors_.items, local_[Side::users]->ratings,
                                                       test_by_user_, block_first, own.end_row, ks, options),
                                 ks);
  const int kmax = *std::max_element(ks.begin(), ks.end());
  const RoutedRanking routed = routed_ranking_sums_by_block(
      comm_, factors_.users, factors_.items, layout(Side::items), ranking_train_, test_by_user_, block_first,
      own.end_row, ks, routed_ranking_users_per_round(config_.exchange_buffer, comm_.size(), params_.k, kmax), options);
  moved.sent += routed.sent;
  moved.received += routed.received;
  moved.seconds += routed.seconds;
  return sum_blocks_over_ranks(comm_, routed.blocks, ks);
}

ErrorSums Trainer::held_out_errors(const CsrBlock& by_user, const RoutePlan& plan, Moved& moved) {
  if (!routed_.items)
    return rating_error_rows(by_user, 0, by_user.rows(), factors_.users, factors_.items, manifest_.mean,
                             known_.users.data(), known_.items.data());
  ErrorSums total;  // the held-out items' rows, chunk by chunk, each with its owner's known flag
  for (int round = 0; round < plan.rounds(); ++round) {
    moved += route(plan, Side::items, round);
    if (round >= static_cast<int>(plan.chunks().size())) continue;
    const RouteChunk& chunk = plan.chunks()[round];
    const ErrorSums part = rating_error_rows(by_user, chunk.row_begin, chunk.row_end, factors_.users, received_,
                                             manifest_.mean, known_.users.data(), chunk.known.data());
    total.squared_error += part.squared_error;
    total.absolute_error += part.absolute_error;
  }
  return total;
}

void Trainer::keep_as_best() {
  best_.iteration = iteration_;
  best_.factors = factors_;
}

std::string Trainer::load_best(const FactorReader& read, int iterations) {
  PerSide<FactorTable> current = factors_;
  const int done = iteration_;
  const bool mid = mid_iteration_;
  const std::string problem = restore(read, iterations, false);
  if (problem.empty()) keep_as_best();
  factors_ = std::move(current);
  set_progress(done, mid);
  return problem;
}

void Trainer::restore_best() {
  if (best_.iteration < 0) return;
  factors_ = best_.factors;
  set_progress(best_.iteration, false);
}

}  // namespace dals
