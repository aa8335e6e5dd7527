#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "dals/checkpoint/trained_rows.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/recommend/eval.hpp"
#include "dals/recommend/eval_metrics.hpp"
#include "dals/recommend/model_input.hpp"
#include "dals/train/evaluation.hpp"
#include "dals/train/layout.hpp"
#include "dals/train/ranking.hpp"
#include "eval_block.hpp"
#include "eval_internal.hpp"

namespace dals {

using eval_detail::BlockEvaluator;
using eval_detail::EvalFacts;
using eval_detail::EvalInput;
using eval_detail::SumLayout;

namespace {

// The cold rows of --cold-start mean: zero factors and bias, so that a cold
// user or item is predicted and ranked as the model would without them.
void zero_cold_rows(EvalInput& in, const OwnedRange& own) {
  const int width = in.tables.users.stride();
  for (std::int64_t u = own.first_row; u < own.end_row; ++u)
    if (!in.user_known(u - own.first_row)) std::fill_n(in.tables.users.row(u), width, 0.f);
  for (std::int64_t j = 0; j < in.tables.items.rows(); ++j)
    if (in.item_degree[j] == 0) std::fill_n(in.tables.items.row(j), width, 0.f);
}

}  // namespace

namespace eval_detail {

std::vector<double> sum_in_order(const Comm& comm, const std::vector<double>& mine, const SumLayout& sl) {
  const std::vector<std::int64_t> counts = comm.allgather(static_cast<std::int64_t>(mine.size()));
  const std::vector<double> all = comm.allgatherv<double>(mine, counts);
  std::vector<double> total(sl.size(), 0.0);
  for (std::size_t b = 0; b * sl.size() < all.size(); ++b)
    for (int i = 0; i < sl.size(); ++i) total[i] += all[b * sl.size() + i];
  return total;
}

void publish_report(const Comm& comm, const EvalConfig& c, const EvalFacts& f, const SumLayout& sl,
                    const std::vector<double>& total, double start) {
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (!c.output.empty()) {
      check_eval_output(c.output, c.force);  // it may have appeared meanwhile
      write_file_atomic(c.output, eval_json(c, f, sl, total));
    }
  });
  if (comm.is_root() && !c.quiet) {
    const std::string table = eval_table(c, f, sl, total);
    std::fwrite(table.data(), 1, table.size(), stdout);
    std::fflush(stdout);
  }
  if (!c.quiet)
    Log::info("evaluated %s on %lld entries in %.1f s%s%s", c.model.c_str(), static_cast<long long>(f.test_ratings),
              MPI_Wtime() - start, c.output.empty() ? "" : "; wrote ", c.output.c_str());
}

}  // namespace eval_detail

void run_eval(const Comm& comm, const EvalConfig& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  const double start = MPI_Wtime();
  Manifest m;
  CheckedModel model;
  const bool split = c.test_file.empty() && c.strong_generalization.empty();
  // Everything that can be refused before the work: the dataset, the model
  // against it, the output (the input file is read next, by every rank).
  run_collectively(comm, [&] {
    m = read_manifest(c.data);
    if (split && !m.has_test)
      throw Error(c.data +
                  ": the dataset has no test split (partition it with --test-fraction, --test-per-user "
                  "or --test-input, or give --test-file)");
    if (comm.size() > m.blocks)
      throw Error(c.data + ": " + std::to_string(comm.size()) + " ranks but the dataset has only " +
                  std::to_string(m.blocks) + (m.blocks == 1 ? " block" : " blocks") + " of users (P must be <= B)");
    model = read_checked_model(c.model, c.data, m);
    if (!c.output.empty() && comm.is_root()) check_eval_output(c.output, c.force);
    if (!c.split_output.empty() && comm.is_root()) check_split_output(c.split_output, c.force);
  });
  if (!c.strong_generalization.empty()) {
    eval_detail::run_strong_generalization(comm, c, m, model, start);
    return;
  }

  // The user blocks as training assigns them; the weight moves boundaries
  // between ranks only, never a sum (those are per block), so 1 will do.
  const SideLayout layout(m.train.user_blocks, comm.size());
  const OwnedRange own = layout.of(comm.rank());
  const SavedState& s = model.state;
  EvalInput in;
  eval_detail::TestFileCounts file;
  if (split) {
    run_collectively(comm, [&] {
      in.tables = PerSide<FactorTable>{FactorTable(m.users, s.factors), FactorTable(m.items, s.factors)};
      in.user_degree = read_factor_blocks_counted(c.model, c.data, m, s, Side::users, own.first_block, own.end_block,
                                                  in.tables.users);
      in.item_degree = read_factor_blocks_counted(c.model, c.data, m, s, Side::items, 0, m.blocks, in.tables.items);
      in.train = read_user_rows(c.data, m, Split::train, own);
      in.test = read_user_rows(c.data, m, Split::test, own);
    });
  } else {
    file = eval_detail::read_test_file_input(comm, c, m, s, model.implicit, own, in);
  }
  // Ids the dataset lacks (--test-file) follow its own: rows up to these.
  const std::int64_t n_items = in.tables.items.rows(), user_end = in.test.first_row + in.test.rows();
  // The model's counts (a --test-file's new rows have none).
  in.item_degree.resize(n_items, 0);
  in.user_degree.resize(in.train.rows(), 0);
  in.item_in_test.assign(n_items, 0);
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
  facts.test_ratings = split ? m.test.ratings : file.pairs;
  facts.source = split ? "the test split of " + c.data : c.test_file + " (ids of " + c.data + ")";
  if (!split) {
    facts.extra_key = "test_file";
    facts.extra = {{"path", c.test_file},
                   {"entries", file.entries},
                   {"pairs", file.pairs},
                   {"users_not_in_dataset", file.new_users},
                   {"items_not_in_dataset", file.new_items},
                   {"entries_of_users_not_in_dataset", file.new_user_entries},
                   {"entries_of_items_not_in_dataset", file.new_item_entries}};
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s: %lld entries; not in the dataset (cold): %lld users (%lld entries), %lld items (%lld "
                  "entries)\n",
                  c.test_file.c_str(), static_cast<long long>(file.entries), static_cast<long long>(file.new_users),
                  static_cast<long long>(file.new_user_entries), static_cast<long long>(file.new_items),
                  static_cast<long long>(file.new_item_entries));
    facts.notes.push_back(line);
  }
  std::vector<std::uint8_t> trained(n_items, 0);
  for (std::int64_t j = 0; j < n_items; ++j) {
    trained[j] = in.item_degree[j] > 0;
    facts.cold_items += !trained[j] && in.item_in_test[j];
    facts.candidate_items += trained[j];
  }
  const bool drop = c.cold_start == "drop";
  if (!drop) {
    zero_cold_rows(in, own);
    facts.candidate_items = n_items;
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

  // One unit of sums per user block, and on the last rank one more for the
  // users the dataset lacks (--test-file): the same units for any P.
  SumLayout sl;
  sl.nk = static_cast<int>(c.ks.size());
  const bool extra = user_end > own.end_row;
  const std::size_t units = static_cast<std::size_t>(own.end_block - own.first_block) + (extra ? 1 : 0);
  std::vector<double> mine(units * sl.size(), 0.0);
  run_collectively(comm, [&] {
    BlockEvaluator evaluator(c, in, sl, model, restricted ? &trained : nullptr);
    for (int b = own.first_block; b < own.end_block; ++b) {
      const BlockInfo& block = m.train.user_blocks[b];
      evaluator.evaluate_block(block.first, block.first + block.rows,
                               mine.data() + static_cast<std::size_t>(b - own.first_block) * sl.size());
    }
    if (extra) evaluator.evaluate_block(own.end_row, user_end, mine.data() + (units - 1) * sl.size());
  });
  eval_detail::publish_report(comm, c, facts, sl, eval_detail::sum_in_order(comm, mine, sl), start);
}

}  // namespace dals
