// dals-eval --strong-generalization: the protocol of Liang et al. 2018
// (VAE-CF) and Rendle et al. 2022 (iALS revisited). Held-out users, not in
// training, are given with all their entries; each user's entries are split
// into a fold-in part and a scored part; the user is folded in on the first
// (foldin.hpp: the model's own solve and regularization) and ranked (the
// fold-in items excluded) and, for explicit models, predicted on the second.
//
// The split: entries of items the model does not know (not in the dataset,
// or without training ratings) are left out first (counted), as those
// papers keep only the training items. A user's n remaining entries are
// ordered by key_hash(seed, key of the raw user id, key of the raw item id)
// (rng.hpp, id_keys.hpp), ties to the lower item id; the first
// floor((1 - f) n) are scored, the rest folded in. So exactly
// n - floor(0.2 n) are folded in at f = 0.8 (Liang et al.'s proportion);
// a user with fewer than 1 / (1 - f) entries has nothing to score and is
// not evaluated. The split depends on the raw ids and the seed only.
//
// Distribution: users in file order, in chunks of kChunkUsers; ranks own
// contiguous runs of whole chunks and sum per chunk, added in chunk order:
// the same bits for any P (a folded-in row's bits depend on its entries and
// the item factors only).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "dals/checkpoint/trained_rows.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/rng.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/data/inspect.hpp"
#include "dals/recommend/foldin.hpp"
#include "dals/train/layout.hpp"
#include "eval_block.hpp"

namespace dals::eval_detail {

namespace {

// The fold-in and scored parts of users [first, end) of `history`, each a
// block of end - first rows from row 0.
struct SplitRows {
  CsrBlock fold, scored;
};

SplitRows split_users(const FoldInInput& in, const std::vector<std::string>& item_ids, const EvalConfig& c,
                      std::int64_t first, std::int64_t end) {
  SplitRows out;
  for (CsrBlock* b : {&out.fold, &out.scored}) {
    b->num_cols = in.history.num_cols;
    b->indptr.assign(1, 0);
  }
  std::vector<std::pair<std::uint64_t, std::int64_t>> order;  // (hash, entry)
  std::vector<std::int64_t> scored;
  for (std::int64_t r = first; r < end; ++r) {
    const std::uint64_t user_key = raw_id_key(in.users[r], c.seed);
    order.clear();
    for (std::int64_t p = in.history.indptr[r]; p < in.history.indptr[r + 1]; ++p)
      order.emplace_back(key_hash(c.seed, user_key, raw_id_key(item_ids[in.history.indices[p]], c.seed)), p);
    // Entries are in item order, so equal hashes fall to the lower item.
    std::sort(order.begin(), order.end());
    const auto n = static_cast<std::int64_t>(order.size());
    // The epsilon keeps 0.2 * 5 at 1 where 1 - 0.8 is 0.19999999999999996.
    const auto n_scored = static_cast<std::int64_t>(std::floor((1.0 - c.fold_in_fraction) * n + 1e-9));
    scored.clear();
    for (std::int64_t q = 0; q < n_scored; ++q) scored.push_back(order[q].second);
    std::sort(scored.begin(), scored.end());
    std::size_t next = 0;
    for (std::int64_t p = in.history.indptr[r]; p < in.history.indptr[r + 1]; ++p) {
      const bool is_scored = next < scored.size() && scored[next] == p;
      next += is_scored;
      CsrBlock& b = is_scored ? out.scored : out.fold;
      b.indices.push_back(in.history.indices[p]);
      b.values.push_back(in.history.values[p]);
    }
    out.fold.indptr.push_back(out.fold.nnz());
    out.scored.indptr.push_back(out.scored.nnz());
  }
  return out;
}

// --split-output: every user's entries with their part, in file order of
// users and item order within a user.
std::string split_text(const FoldInInput& in, const std::vector<std::string>& item_ids, const EvalConfig& c) {
  const SplitRows all = split_users(in, item_ids, c, 0, static_cast<std::int64_t>(in.users.size()));
  std::string text = std::string(kSplitHeader) + "\n";
  char value[32];
  for (std::size_t r = 0; r < in.users.size(); ++r)
    for (const auto* part : {&all.fold, &all.scored})
      for (std::int64_t p = part->indptr[r]; p < part->indptr[r + 1]; ++p) {
        std::snprintf(value, sizeof value, "%.9g", static_cast<double>(part->values[p]));
        text += in.users[r] + '\t' + item_ids[part->indices[p]] + '\t' + value + '\t' +
                (part == &all.fold ? "fold-in" : "scored") + '\n';
      }
  return text;
}

}  // namespace

void run_strong_generalization(const Comm& comm, const EvalConfig& c, const Manifest& m, const CheckedModel& model,
                               double start) {
  const SavedState& s = model.state;
  SolveParams params;
  EvalInput in;
  std::vector<std::string> item_ids;
  run_collectively(comm, [&] {
    params = fold_in_params(s.hyperparameters, c.model + "/state.json", s.rating_spread);
    in.tables.items = FactorTable(m.items, s.factors);
    in.item_degree = read_factor_blocks_counted(c.model, c.data, m, s, Side::items, 0, m.blocks, in.tables.items);
    item_ids = raw_id_texts(c.data, m, Side::items);
  });
  std::vector<std::uint8_t> trained(m.items, 0);
  for (std::int64_t j = 0; j < m.items; ++j) trained[j] = in.item_degree[j] > 0;

  FoldInInput fold;
  run_collectively(comm, [&] {
    FoldInItems items;
    items.ids = &item_ids;
    items.trained = &trained;
    items.integer_ids = m.items > 0 && id_block_type(ids_path(c.data, Side::items, 0)) != "string";
    fold = read_fold_in(c.strong_generalization, items, model.implicit, c.test_header);
  });
  const auto users = static_cast<std::int64_t>(fold.users.size());
  const std::int64_t chunks = (users + kChunkUsers - 1) / kChunkUsers;
  const std::int64_t first_chunk = chunks * comm.rank() / comm.size();
  const std::int64_t end_chunk = chunks * (comm.rank() + 1) / comm.size();
  const std::int64_t first = std::min(users, first_chunk * kChunkUsers);
  const std::int64_t end = std::min(users, end_chunk * kChunkUsers);

  SplitRows parts = split_users(fold, item_ids, c, first, end);
  const std::int64_t heavy_from =
      fold_in_heavy_threshold(s.hyperparameters, c.model + "/state.json",
                              static_cast<std::int64_t>(m.train.item_blocks.size()), s.heavy_users_from);
  in.tables.users =
      fold_in(parts.fold, 0, end - first, in.tables.items, params, m.mean, item_block_first(m), heavy_from);
  in.train = std::move(parts.fold);
  in.test = std::move(parts.scored);
  in.item_in_test.assign(m.items, 0);
  for (const std::int32_t j : in.test.indices) in.item_in_test[j] = 1;

  SumLayout sl;
  sl.nk = static_cast<int>(c.ks.size());
  std::vector<double> mine(static_cast<std::size_t>(end_chunk - first_chunk) * sl.size(), 0.0);
  // Rows are this rank's users from row 0 (the folded-in table's rows).
  run_collectively(comm, [&] {
    BlockEvaluator evaluator(c, in, sl, model, &trained);
    for (std::int64_t q = first_chunk; q < end_chunk; ++q) {
      const std::int64_t lo = q * kChunkUsers - first, hi = std::min(users, (q + 1) * kChunkUsers) - first;
      evaluator.evaluate_block(lo, hi, mine.data() + static_cast<std::size_t>(q - first_chunk) * sl.size());
    }
  });
  std::int64_t sizes[4] = {in.train.nnz(), in.test.nnz(), 0, 0};
  for (std::int64_t r = 0; r < in.test.rows(); ++r) {
    sizes[2] += in.test.degree(r) > 0;
    sizes[3] += in.train.degree(r) > 0;
  }
  comm.allreduce_inplace(std::span<std::int64_t>(sizes, 4), MPI_SUM);

  EvalFacts facts;
  facts.model = c.model;
  facts.data = c.data;
  facts.fingerprint = m.fingerprint;
  facts.implicit = model.implicit;
  facts.bias = s.bias;
  facts.iterations = s.progress.iterations;
  facts.factors = s.factors;
  facts.test_ratings = sizes[1];
  facts.candidate_items = std::count(trained.begin(), trained.end(), std::uint8_t{1});
  facts.cold_line = false;
  char what[64];
  std::snprintf(what, sizeof what, "%g", c.fold_in_fraction);
  facts.source = "the held-out users of " + c.strong_generalization + " (fold-in fraction " + what + ", seed " +
                 std::to_string(c.seed) + ")";
  facts.extra_key = "strong_generalization";
  facts.extra = {{"path", c.strong_generalization},
                 {"fold_in_fraction", c.fold_in_fraction},
                 {"seed", c.seed},
                 {"split", "per user: floor((1 - fraction) n) entries of least key_hash(seed, user, item) scored"},
                 {"entries", fold.entries},
                 {"entries_of_unknown_items", fold.unknown_entries},
                 {"users", users},
                 {"users_scored", sizes[2]},
                 {"fold_in_entries", sizes[0]},
                 {"scored_entries", sizes[1]}};
  char line[512];
  std::snprintf(line, sizeof line,
                "held-out users: %lld (%lld with entries to score), %lld entries (%lld of items the model does not "
                "know, left out): %lld folded in, %lld scored\n",
                static_cast<long long>(users), static_cast<long long>(sizes[2]), static_cast<long long>(fold.entries),
                static_cast<long long>(fold.unknown_entries), static_cast<long long>(sizes[0]),
                static_cast<long long>(sizes[1]));
  facts.notes.push_back(line);
  run_collectively(comm, [&] {
    if (c.split_output.empty() || !comm.is_root()) return;
    check_split_output(c.split_output, c.force);  // it may have appeared meanwhile
    write_file_atomic(c.split_output, split_text(fold, item_ids, c));
  });
  publish_report(comm, c, facts, sl, sum_in_order(comm, mine, sl), start);
}

}  // namespace dals::eval_detail
