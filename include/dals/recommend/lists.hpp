#pragma once
/// @file lists.hpp
/// @brief One rank's top-K lists as text lines with raw ids.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/solve/factors.hpp"

namespace dals {

/// What is ranked and how it is written.
struct ListSpec {
  int k = 10;
  /// Explicit models: score = b_item + u . v. The mean and the user's bias
  /// are the same for every item of a user, so they change no order and are
  /// left out of the score written too. Implicit models: u . v.
  bool with_item_bias = false;
  bool include_rated = false;  ///< false: a user's training items are never ranked
  char separator = '\t';       ///< '\t' (tsv) or ',' (csv, string ids quoted as needed)
  /// Items that may be recommended (one entry per item, nonzero: yes); null: all.
  const std::vector<std::uint8_t>* candidates = nullptr;
  /// Where given, a user without entries in `train` gets this list (dense
  /// item ids and their scores, best first; fold-in's popularity fallback)
  /// instead of none; counted in ListCounts::fallback.
  const std::vector<std::pair<std::int32_t, float>>* fallback = nullptr;
  /// Where given, the users' training ratings as the model records them, by
  /// row of `train`: a user with 0 has random factors (no list, or the
  /// fallback) even with entries in `train` (all held out for validation).
  const std::vector<std::int64_t>* user_ratings = nullptr;
};

/// What write_lists did.
struct ListCounts {
  std::int64_t users = 0;        ///< users given a list
  std::int64_t no_training = 0;  ///< chosen users with no training entries: no list (random factors)
  std::int64_t fallback = 0;     ///< chosen users without entries given spec.fallback
  std::int64_t lines = 0;
};

/// A chunk of lists as columns, one entry per (user, item) line, users in
/// the order given and each user's items best first.
struct ListRows {
  std::vector<std::int64_t> user;  ///< dense user id
  std::vector<std::int32_t> item;  ///< dense item id
  std::vector<float> score;
  std::vector<std::int32_t> rank;  ///< 1 is the best
  std::size_t size() const { return user.size(); }
  void clear();
  /// Appends `other`'s lines.
  void append(const ListRows& other);
};

/// Ranks the users `chosen` (as write_lists) and passes their lines, in that
/// order, to `sink` a chunk at a time as columns of dense ids.
ListCounts rank_lists(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                      const std::vector<std::int64_t>& chosen, const ListSpec& spec,
                      const std::function<void(const ListRows&)>& sink);

/// Ranks the users `chosen` (dense ids, strictly increasing, within the rows
/// of `train`, which is by user) and passes their lines, in that order, to
/// `sink` a chunk at a time: "user SEP item SEP score SEP rank\n", raw ids,
/// score with 9 significant digits (the float exactly), rank 1 the best.
/// `user_ids[d - train.first_row]` and `item_ids[i]` are the raw ids as text.
/// Memory: one chunk of users' lists and text at a time.
ListCounts write_lists(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                       const std::vector<std::int64_t>& chosen, const std::vector<std::string>& user_ids,
                       const std::vector<std::string>& item_ids, const ListSpec& spec,
                       const std::function<void(const std::string&)>& sink);

}  // namespace dals
