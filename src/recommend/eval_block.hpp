#pragma once
// Private to src/recommend/: what dals-eval holds per rank and how it ranks
// and scores a range of users (the test split, --test-file and
// --strong-generalization alike).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/recommend/eval.hpp"
#include "dals/recommend/eval_metrics.hpp"
#include "dals/recommend/model_input.hpp"
#include "dals/solve/factors.hpp"
#include "dals/train/evaluation.hpp"
#include "dals/train/ranking.hpp"
#include "eval_internal.hpp"

namespace dals::eval_detail {

// Users ranked by one rank_top_k call at most, and the (user, item) pairs
// their lists hold: the lists are all the ranking holds at once.
constexpr std::int64_t kChunkUsers = 256;
constexpr std::int64_t kChunkPairs = std::int64_t{1} << 22;

// What one rank holds: its users' training (or fold-in) and test (or scored)
// ratings and factors, every item factor, and the items' training counts
// over all ranks. Users are the rows of `train` and `test` (the same rows).
// `item_degree` and `user_degree` are the model's training ratings
// (trained_rows.hpp): every item, and the users by row of `train` (empty:
// `train`'s own degrees, the fold-in entries of --strong-generalization).
struct EvalInput {
  PerSide<FactorTable> tables;
  CsrBlock train, test;
  std::vector<std::int64_t> item_degree, user_degree;
  std::vector<std::uint8_t> item_in_test;
  bool user_known(std::int64_t r) const { return user_degree.empty() ? train.degree(r) > 0 : user_degree[r] > 0; }
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
      const bool user_known = in_.user_known(r);
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

// What --test-file held (eval_test_file.cpp); the same on every rank.
struct TestFileCounts {
  std::int64_t entries = 0;    // lines with an entry
  std::int64_t pairs = 0;      // distinct (user, item) pairs: the test entries
  std::int64_t new_users = 0;  // ids the dataset does not have
  std::int64_t new_items = 0;
  std::int64_t new_user_entries = 0;  // entries naming such a user
  std::int64_t new_item_entries = 0;  // ... or such an item
};

// Collective: reads c.test_file (every rank the whole file) and fills `in`
// for the user blocks `own`. Ids the dataset lacks get dense ids after its
// own, in order of first appearance: the tables gain zero rows for them
// (no training ratings: cold), and the last rank owns the new users as one
// more range [m.users, m.users + new_users) (its train and test rows follow
// its blocks'). A repeated (user, item) pair keeps its last line's value.
TestFileCounts read_test_file_input(const Comm& comm, const EvalConfig& c, const Manifest& m, const SavedState& s,
                                    bool implicit, const OwnedRange& own, EvalInput& in);

}  // namespace dals::eval_detail
