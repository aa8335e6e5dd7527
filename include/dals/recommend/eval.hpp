#pragma once
/// @file eval.hpp
/// @brief dals-eval: a trained model against its dataset's test split, a
/// ratings file mapped with the dataset's ids (--test-file), or held-out
/// users folded in (--strong-generalization, eval_strong.cpp).
///
/// Explicit models: RMSE and MAE of the model's predictions on the test
/// ratings, beside the bias-only prediction (mu + b_i + c_j, the model's own
/// biases) and the global mean mu. Every model: precision, recall, MAP and
/// NDCG at each K and the per-user AUC (eval_metrics.hpp), beside the
/// popularity baseline (items by training count). Every test entry of a user
/// is relevant; a user's candidates are the items with training ratings
/// less the user's own training items, ranked as dals-recommend ranks them
/// (train/ranking.hpp: the same order, ties to the lower item id).
///
/// Cold start (Spark's coldStartStrategy): a test entry whose user or item
/// has no training ratings is "cold". drop: left out of every metric (and a
/// user without training ratings is not ranked). mean: kept, the cold rows'
/// factors and biases taken as zero, so a rating is predicted by mu plus the
/// known side's bias (as dals-train's test RMSE does), items without training
/// ratings become candidates scored 0 (the model ranks them as it would
/// predict them), and a cold user is ranked by the item biases alone.
///
/// --test-file: the file's entries replace the test split; ids the dataset
/// lacks get dense ids after its own (zero rows: cold), their users owned by
/// the last rank as one more unit of sums. --strong-generalization: see
/// eval_strong.cpp (held-out users in chunks of 256, ranks owning whole
/// chunks, sums added in chunk order).
///
/// Distribution: ranks own the user blocks as training does (SideLayout),
/// read those blocks' training and test ratings and user factors and every
/// item factor. Sums are made per user block (users in dense id order) and
/// added in block order over ranks, so the JSON is the same bytes for any P
/// and thread count. Memory per rank: the item factors, its user blocks, and
/// the model's and popularity's lists of at most 2^22 (user, item) pairs
/// each at a time (16 bytes a pair while rank_top_k builds one, 8 after).

#include <cstdint>
#include <string>
#include <vector>

#include "dals/core/option_table.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {

struct EvalConfig {
  std::string model;                  ///< model directory (dals-train --output)
  std::string data;                   ///< the dataset it was trained on
  std::string k_text = "10";          ///< --k: comma-separated cut-offs
  std::vector<int> ks;                ///< parsed, ascending, without repeats
  std::string output;                 ///< JSON file to write ("" = the table only)
  bool force = false;                 ///< replace an earlier dals-eval output
  std::string cold_start = "drop";    ///< drop or mean
  std::string test_file;              ///< --test-file: held-out ratings with raw ids instead of the test split
  bool test_header = false;           ///< the --test-file or --strong-generalization file starts with a header
  std::string strong_generalization;  ///< --strong-generalization: held-out users' entries
  double fold_in_fraction = 0.8;      ///< of each held-out user's entries, the share folded in
  std::uint64_t seed = 1;             ///< seed of the fold-in / scored split's hash
  std::string split_output;           ///< TSV of that split ("" = none)
  int min_item_ratings = 0;           ///< candidates: items with at least this many training ratings
  bool no_auc = false;                ///< skip the AUC (it ranks every candidate of every user)
  int threads = 0;                    ///< OpenMP threads per rank; 0 = OMP_NUM_THREADS, else all cores
  bool quiet = false;                 ///< no table
};

const OptionTable<EvalConfig>& eval_options();

/// The first line of a --split-output file: what --force may replace.
inline constexpr const char* kSplitHeader = "# dals-eval strong-generalization split: user item value part";

/// Parses and checks the command line (UsageError on a bad one).
ParseOutcome parse_eval_config(int argc, const char* const* argv, EvalConfig& config, std::string& text);

/// Error unless `path` may be written as dals-eval's --output: absent, or
/// with `force` a dals-eval output (a JSON object whose "format" is
/// "dals-eval"); its directory must exist.
void check_eval_output(const std::string& path, bool force);

/// The same for --split-output: with `force`, a file that starts with
/// kSplitHeader.
void check_split_output(const std::string& path, bool force);

/// Collective: the whole tool after parsing. Error (agreed, every rank) on a
/// model that does not match the dataset, a dataset without a test split or
/// an output that may not be written; nothing is written then.
void run_eval(const Comm& comm, const EvalConfig& config);

}  // namespace dals
