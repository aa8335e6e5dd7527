#pragma once
/// @file foldin.hpp
/// @brief Fold-in: new (or existing) users' factors solved against a trained
/// model's item factors, without retraining.
///
/// A fold-in user's factor (and bias) is what a user half of training would
/// give that user: the same RowSolver, the same regularizer (lambda, l2 or
/// weighted, biases on or off) and, for implicit models, the same
/// confidences and the item side's Gramian w0 V^T V. So a training user
/// folded in from their whole training history against the item factors
/// their trained factor was solved against gets that factor back, bit for
/// bit (after a whole iteration those are the previous iteration's item
/// factors: the final model's items moved once more since; see
/// docs/options.md#fold-in). Always the exact Cholesky solve: a CG-trained
/// model's CG steps warm-start from the user's previous value, which a new
/// user does not have.

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/data/manifest.hpp"
#include "dals/solve/factors.hpp"
#include "dals/solve/solve_params.hpp"

namespace dals {

/// A fold-in file read and mapped onto the model's items.
struct FoldInInput {
  std::vector<std::string> users;  ///< raw user ids as written, in order of first appearance
  /// Rows = users (first_row 0), columns the items' dense ids, increasing;
  /// only items of the model with training ratings. Values as given (a
  /// repeated pair: explicit, the last line's value; implicit, the sum).
  CsrBlock history;
  std::int64_t entries = 0;          ///< lines with an entry
  std::int64_t unknown_entries = 0;  ///< of them, naming an item not in the model (ignored)
};

/// How the items are named and which may be folded in against.
struct FoldInItems {
  const std::vector<std::string>* ids = nullptr;  ///< raw id text of each dense item id
  bool integer_ids = false;                       ///< "042" and "42" then name the same item
  /// Nonzero: the item has training ratings. Others keep their random initial
  /// factors and count as unknown.
  const std::vector<std::uint8_t>* trained = nullptr;
};

/// Reads `path`: one entry a line, `user item value` (fields separated by a
/// comma or by spaces and tabs; further fields, such as a timestamp, are
/// ignored; blank lines and lines starting with '#' are skipped; with
/// `header` the first line is too). Implicit models may leave the value out
/// (one event); their values must be > 0. Error "PATH:LINE: ..." on a
/// malformed line, Error naming the path if it cannot be read.
FoldInInput read_fold_in(const std::string& path, const FoldInItems& items, bool implicit, bool header);

/// One entry of such a file, as read_fold_in parses it (views into the
/// file's text, valid during the call only).
struct RawEntry {
  std::string_view user, item;  ///< raw ids as written
  float value = 1.0f;           ///< 1 where an implicit model's line leaves it out
  std::int64_t line = 0;        ///< 1-based line number
};

/// Parses `path` as read_fold_in does (the same format and errors) and calls
/// `each` on every entry in file order: the parser dals-eval's --test-file
/// and --strong-generalization share with fold-in.
void for_each_entry(const std::string& path, bool implicit, bool header,
                    const std::function<void(const RawEntry&)>& each);

/// A raw id's text as the dataset writes it: with integer ids "042" and
/// "42" are the same id ("42"); other text is kept.
std::string canonical_id(std::string_view text, bool integer_ids);

/// The solve's parameters from a model's hyper-parameters (state.json's
/// "hyperparameters" object as text); Error naming `path` if one is missing
/// or out of range. The solver is Cholesky whatever the training's.
SolveParams fold_in_params(const std::string& hyperparameters, const std::string& path, double rating_spread = 1.0);

/// Solves rows [first, end) of `history` against `items` (every item's
/// factors and biases, the whole table), `mean` the dataset's training
/// mean. Returns a table of end - first rows (first_row 0): factors, then
/// the bias; rows without entries are zero. OpenMP threads over the rows;
/// each row's bits depend on its entries and `items` only. Implicit: the
/// Gramian of `items` is summed over `item_block_first` (the dataset's item
/// blocks' first rows and the items' count, item_block_first()), as the
/// trainer sums it, so that a trained user folds in to the same bits;
/// empty: the table as one block. Rows of `heavy_from` entries or more are
/// solved in parts over those blocks, as the trainer solves its heavy rows
/// (fold_in_heavy_threshold; needs item_block_first).
FactorTable fold_in(const CsrBlock& history, std::int64_t first, std::int64_t end, const FactorTable& items,
                    const SolveParams& params, double mean, std::span<const std::int64_t> item_block_first = {},
                    std::int64_t heavy_from = std::numeric_limits<std::int64_t>::max());

/// The degree from which the model's training solved a user in parts
/// (train/heavy_rows.hpp): `recorded` where state.json records it
/// (SavedState::heavy_users_from >= 0: auto's depends on the training
/// degrees), else from its hyper-parameters (heavy_rows, absent: auto;
/// solver; factors) and the dataset's item blocks, as models before the
/// record were trained.
std::int64_t fold_in_heavy_threshold(const std::string& hyperparameters, const std::string& path,
                                     std::int64_t item_blocks, std::int64_t recorded = -1);

/// The item blocks' first rows of `m`'s training split, then its items.
std::vector<std::int64_t> item_block_first(const Manifest& m);

}  // namespace dals
