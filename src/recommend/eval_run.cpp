#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/recommend/eval.hpp"
#include "dals/recommend/eval_metrics.hpp"
#include "dals/recommend/model_input.hpp"
#include "dals/train/evaluation.hpp"
#include "dals/train/layout.hpp"
#include "dals/train/ranking.hpp"
#include "eval_internal.hpp"

namespace dals {

using eval_detail::EvalFacts;
using eval_detail::SumLayout;

namespace {

// Users ranked by one rank_top_k call at most, and the (user, item) pairs
// their lists hold: the lists are all the ranking holds at once.
constexpr std::int64_t kChunkUsers = 256;
constexpr std::int64_t kChunkPairs = std::int64_t{1} << 22;

// What one rank holds: its user blocks' training and test ratings and user
// factors, every item factor, and the items' training counts over all ranks.
struct EvalInput {
  PerSide<FactorTable> tables;
  CsrBlock train, test;
  std::vector<std::int64_t> item_degree;
  std::vector<std::uint8_t> item_in_test;
};

// A block's users, ranked in runs of consecutive dense ids, their metrics
// added into `sums` in dense id order (whatever the runs or the threads).
class BlockEvaluator {
 public:
  BlockEvaluator(const EvalConfig& c, const EvalInput& in, const SumLayout& layout, const CheckedModel& model,
                 const std::vector<std::uint8_t>* candidates)
      : c_(c), in_(in), layout_(layout), drop_(c.cold_start == "drop"), candidates_(candidates) {
    options_.with_item_bias = !model.implicit && model.state.bias;
    options_.candidates = candidates;
    const std::int64_t n = in.tables.items.rows();
    // The AUC needs each user's whole list; the top-K metrics its first K.
    list_ = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(n, c.no_auc ? c.ks.back() : n)));
    chunk_ = std::clamp<std::int64_t>(kChunkPairs / list_, 1, kChunkUsers);
    popular_order_ = popularity_order(in.item_degree);
    explicit_ = !model.implicit;
    mean_ = model.state.mean;
  }

  void evaluate_block(std::int64_t first, std::int64_t end, double* sums) {
    std::vector<std::int64_t> ranked;  // users with relevant items, in order
    std::vector<std::vector<std::int32_t>> relevant;
    for (std::int64_t u = first; u < end; ++u) {
      const std::int64_t r = u - in_.test.first_row;
      const bool user_known = in_.train.degree(r) > 0;
      if (!user_known && in_.test.degree(r) > 0) sums[SumLayout::kColdUsers] += 1;
      std::vector<std::int32_t> rel;
      for (std::int64_t p = in_.test.indptr[r]; p < in_.test.indptr[r + 1]; ++p) {
        const std::int32_t j = in_.test.indices[p];
        const bool item_known = in_.item_degree[j] > 0;
        const bool cold = !user_known || !item_known;
        if (cold) sums[SumLayout::kColdRatings] += 1;
        if (cold && drop_) continue;
        rel.push_back(j);
        if (explicit_) add_rating(u, j, in_.test.values[p], user_known, item_known, sums);
      }
      if (rel.empty() || (drop_ && !user_known)) continue;
      ranked.push_back(u);
      relevant.push_back(std::move(rel));
    }
    std::size_t i = 0;
    while (i < ranked.size()) {
      std::size_t e = i + 1;
      while (e < ranked.size() && ranked[e] == ranked[e - 1] + 1 && static_cast<std::int64_t>(e - i) < chunk_) ++e;
      const std::int64_t lo = ranked[i], hi = ranked[e - 1] + 1;
      const TopKLists model = rank_top_k(in_.tables.users, in_.tables.items, in_.train, lo, hi, list_, options_);
      const TopKLists popular = popular_top_k(popular_order_, in_.item_degree, in_.train, lo, hi, list_);
      for (std::size_t j = i; j < e; ++j) {
        add_user(model, ranked[j], relevant[j], 0, sums);
        add_user(popular, ranked[j], relevant[j], 1, sums);
      }
      i = e;
    }
  }

 private:
  void add_rating(std::int64_t u, std::int32_t j, float value, bool user_known, bool item_known, double* sums) const {
    const FactorTable& users = in_.tables.users;
    const FactorTable& items = in_.tables.items;
    // The model's prediction is dals-train's own (train/evaluation.hpp).
    const double model = predict(users, items, u, j, mean_, user_known, item_known);
    const double bias = mean_ + (user_known ? users.bias(u) : 0.0) + (item_known ? items.bias(j) : 0.0);
    const double errors[3] = {value - model, value - bias, value - mean_};
    sums[SumLayout::kRatings] += 1;
    for (int m = 0; m < 3; ++m) {
      sums[SumLayout::kModelSse + 2 * m] += errors[m] * errors[m];
      sums[SumLayout::kModelSae + 2 * m] += std::fabs(errors[m]);
    }
  }

  // One user's metrics of one method's lists.
  void add_user(const TopKLists& lists, std::int64_t u, const std::vector<std::int32_t>& relevant, int which,
                double* sums) {
    const std::int32_t* list = lists.items_of(u);
    std::int64_t count = lists.count_of(u);
    if (which == 1 && candidates_ != nullptr) {
      // Popularity ranks every item; the items that are not candidates (fewer
      // training ratings than --min-item-ratings, or none) are all at its end
      // (it orders by that count), so leaving them out
      // keeps every prefix a prefix of the candidates' own order.
      filtered_.clear();
      for (std::int64_t p = 0; p < count; ++p)
        if ((*candidates_)[list[p]]) filtered_.push_back(list[p]);
      list = filtered_.data();
      count = static_cast<std::int64_t>(filtered_.size());
    }
    const std::int64_t nrel = static_cast<std::int64_t>(relevant.size());
    double* s = sums + layout_.method(which);
    s[0] += 1;
    double auc = 0;
    if (!c_.no_auc && user_auc(list, count, relevant.data(), nrel, auc)) {
      s[1] += 1;
      s[2] += auc;
    }
    for (int j = 0; j < layout_.nk; ++j) {
      const TopKMetrics m = user_top_k_metrics(list, count, c_.ks[j], relevant.data(), nrel);
      double* at = sums + layout_.at(which, j);
      at[0] += m.precision;
      at[1] += m.recall;
      at[2] += m.average_precision;
      at[3] += m.ndcg;
    }
  }

  const EvalConfig& c_;
  const EvalInput& in_;
  const SumLayout& layout_;
  bool drop_;
  const std::vector<std::uint8_t>* candidates_;
  RankingOptions options_;
  int list_ = 1;
  std::int64_t chunk_ = 1;
  std::vector<std::int32_t> popular_order_;
  std::vector<std::int32_t> filtered_;
  bool explicit_ = true;
  double mean_ = 0;
};

// The cold rows of --cold-start mean: zero factors and bias, so that a cold
// user or item is predicted and ranked as the model would without them.
void zero_cold_rows(EvalInput& in, const OwnedRange& own) {
  const int width = in.tables.users.stride();
  for (std::int64_t u = own.first_row; u < own.end_row; ++u)
    if (in.train.degree(u - own.first_row) == 0) std::fill_n(in.tables.users.row(u), width, 0.f);
  for (std::int64_t j = 0; j < in.tables.items.rows(); ++j)
    if (in.item_degree[j] == 0) std::fill_n(in.tables.items.row(j), width, 0.f);
}

}  // namespace

void run_eval(const Comm& comm, const EvalConfig& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  const double start = MPI_Wtime();
  Manifest m;
  CheckedModel model;
  // Everything that can be refused before the work: the dataset, the model
  // against it, the output.
  run_collectively(comm, [&] {
    m = read_manifest(c.data);
    if (!m.has_test)
      throw Error(c.data +
                  ": the dataset has no test split (partition it with --test-fraction, --test-per-user "
                  "or --test-input)");
    if (comm.size() > m.blocks)
      throw Error(c.data + ": " + std::to_string(comm.size()) + " ranks but the dataset has only " +
                  std::to_string(m.blocks) + (m.blocks == 1 ? " block" : " blocks") + " of users (P must be <= B)");
    model = read_checked_model(c.model, c.data, m);
    if (!c.output.empty() && comm.is_root()) check_eval_output(c.output, c.force);
  });

  // The user blocks as training assigns them; the weight moves boundaries
  // between ranks only, never a sum (those are per block), so 1 will do.
  const SideLayout layout(m.train.user_blocks, comm.size());
  const OwnedRange own = layout.of(comm.rank());
  const SavedState& s = model.state;
  EvalInput in;
  run_collectively(comm, [&] {
    in.tables = PerSide<FactorTable>{FactorTable(m.users, s.factors), FactorTable(m.items, s.factors)};
    read_factor_blocks(c.model, m, s, Side::users, own.first_block, own.end_block, in.tables.users);
    read_factor_blocks(c.model, m, s, Side::items, 0, m.blocks, in.tables.items);
    in.train = read_user_rows(c.data, m, Split::train, own);
    in.test = read_user_rows(c.data, m, Split::test, own);
  });
  in.item_degree.assign(m.items, 0);
  for (const std::int32_t j : in.train.indices) ++in.item_degree[j];
  comm.allreduce_inplace(std::span<std::int64_t>(in.item_degree), MPI_SUM);
  in.item_in_test.assign(m.items, 0);
  for (const std::int32_t j : in.test.indices) in.item_in_test[j] = 1;
  comm.allreduce_inplace(std::span<std::uint8_t>(in.item_in_test), MPI_MAX);

  EvalFacts facts;
  facts.model = c.model;
  facts.data = c.data;
  facts.fingerprint = m.fingerprint;
  facts.implicit = model.implicit;
  facts.bias = s.bias;
  facts.iterations = s.progress.iterations;
  facts.factors = s.factors;
  facts.test_ratings = m.test.ratings;
  std::vector<std::uint8_t> trained(m.items, 0);
  for (std::int64_t j = 0; j < m.items; ++j) {
    trained[j] = in.item_degree[j] > 0;
    facts.cold_items += !trained[j] && in.item_in_test[j];
    facts.candidate_items += trained[j];
  }
  const bool drop = c.cold_start == "drop";
  if (!drop) {
    zero_cold_rows(in, own);
    facts.candidate_items = m.items;
  }
  // --min-item-ratings: the candidates of both rankings are the items with
  // at least that many training ratings (and, dropping cold rows, at least 1).
  const bool restricted = drop || c.min_item_ratings > 0;
  if (c.min_item_ratings > 0) {
    const std::int64_t least = drop ? std::max(1, c.min_item_ratings) : c.min_item_ratings;
    facts.candidate_items = 0;
    for (std::int64_t j = 0; j < m.items; ++j) {
      trained[j] = in.item_degree[j] >= least;
      facts.candidate_items += trained[j];
    }
  }

  SumLayout sl;
  sl.nk = static_cast<int>(c.ks.size());
  std::vector<double> mine(static_cast<std::size_t>(own.end_block - own.first_block) * sl.size(), 0.0);
  run_collectively(comm, [&] {
    BlockEvaluator evaluator(c, in, sl, model, restricted ? &trained : nullptr);
    for (int b = own.first_block; b < own.end_block; ++b) {
      const BlockInfo& block = m.train.user_blocks[b];
      evaluator.evaluate_block(block.first, block.first + block.rows,
                               mine.data() + static_cast<std::size_t>(b - own.first_block) * sl.size());
    }
  });
  // Every block's sums on every rank, added in block order: the same bits
  // for any P.
  const std::vector<std::int64_t> counts = comm.allgather(static_cast<std::int64_t>(mine.size()));
  const std::vector<double> all = comm.allgatherv<double>(mine, counts);
  std::vector<double> total(sl.size(), 0.0);
  for (std::size_t b = 0; b * sl.size() < all.size(); ++b)
    for (int i = 0; i < sl.size(); ++i) total[i] += all[b * sl.size() + i];

  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (!c.output.empty()) {
      check_eval_output(c.output, c.force);  // it may have appeared meanwhile
      write_file_atomic(c.output, eval_detail::eval_json(c, facts, sl, total));
    }
  });
  if (comm.is_root() && !c.quiet) {
    const std::string table = eval_detail::eval_table(c, facts, sl, total);
    std::fwrite(table.data(), 1, table.size(), stdout);
    std::fflush(stdout);
  }
  if (!c.quiet)
    Log::info("evaluated %s on %lld test entries in %.1f s%s%s", c.model.c_str(),
              static_cast<long long>(m.test.ratings), MPI_Wtime() - start, c.output.empty() ? "" : "; wrote ",
              c.output.c_str());
}

}  // namespace dals
