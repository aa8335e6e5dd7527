#pragma once
/// @file recommend.hpp
/// @brief dals-recommend: the top-K items of users from a trained model.
///
///     OUT/part-00000.tsv        rank 0's users, in dense id order; one line
///     OUT/part-00001.tsv        per (user, item): user item score rank
///     ...                       (raw ids; rank 1 is the best); .csv, or
///                               .h5 columns (lists_h5.hpp) with --format
///     OUT/recommendations.tsv   --merge: the parts in rank order, one file
///     OUT/recommendations.json  format "dals-recommendations", k, the
///                               model, its dataset fingerprint, the counts
///
/// Ranks own the dataset's user blocks as training does (SideLayout), read
/// only those blocks' training ratings (to exclude rated items) and user
/// factors, held as a table of those rows alone, and every item factor (as a
/// training rank does). The lists are
/// rank_top_k's (train/ranking.hpp): the same bits for any P and thread
/// count, so the parts concatenated in rank order are the same file for any
/// P. The directory is published as a whole (StagedDir), and --force replaces
/// only an earlier dals-recommend output.
///
/// Two more modes write the same kind of directory: --fold-in FILE (lists,
/// and with --fold-in-factors factors-RRRRR.tsv, for the users of FILE
/// solved against the model's items: foldin.hpp) and --similar-items /
/// --similar-users (each row's top-K rows of its side by cosine: similar.hpp).

#include <string>

#include "dals/core/option_table.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {

struct RecommendConfig {
  std::string model;           ///< model directory (dals-train --output)
  std::string data;            ///< the dataset it was trained on
  std::string output;          ///< directory to write
  std::string users;           ///< file of raw user ids, one per line; "" = every user
  int k = 10;                  ///< items per user
  bool include_rated = false;  ///< keep each user's training items among the candidates
  std::string format = "tsv";  ///< tsv, csv or hdf5 (part-RRRRR.h5: lists_h5.hpp)
  bool merge = false;          ///< rank 0 concatenates the parts into one recommendations.EXT
  /// Items with fewer training ratings are never listed; "auto": kAutoMinItemRatings
  /// for explicit models, 0 for implicit ones.
  std::string min_item_ratings_text = "auto";
  int min_item_ratings = -1;    ///< parsed; -1 = auto
  std::string exclude_items;    ///< file of raw item ids never listed; "" = none
  std::string candidate_items;  ///< file of raw item ids, the only ones listed; "" = every item
  bool force = false;           ///< replace an earlier dals-recommend output
  int threads = 0;              ///< OpenMP threads per rank; 0 = OMP_NUM_THREADS, else all cores
  bool quiet = false;           ///< no summary line
  // Fold-in (foldin.hpp): lists for the users of a file of entries.
  std::string fold_in;           ///< file of `user item value` lines; "" = no fold-in
  bool fold_in_header = false;   ///< its first line is a header
  bool fold_in_factors = false;  ///< also write the solved factors (factors-RRRRR.tsv)
  std::string update_model;      ///< write the model with the fold-in users of the dataset updated here
  // Similar items or users (similar.hpp): top-K by cosine of the factors.
  bool similar_items = false;
  bool similar_users = false;
  std::string items;  ///< --similar-items: file of raw item ids; "" = every item
};

/// --min-item-ratings auto for an explicit model (README: measured on ml-latest-small).
inline constexpr int kAutoMinItemRatings = 20;

/// The --min-item-ratings in effect for a model of this kind.
inline int min_item_ratings_for(const RecommendConfig& c, bool implicit) {
  return c.min_item_ratings >= 0 ? c.min_item_ratings : implicit ? 0 : kAutoMinItemRatings;
}

const OptionTable<RecommendConfig>& recommend_options();

/// Parses and checks the command line (UsageError on a bad one).
ParseOutcome parse_recommend_config(int argc, const char* const* argv, RecommendConfig& config, std::string& text);

/// An output of dals-recommend, for StagedDir's --force rule: it holds a
/// recommendations.json whose format is "dals-recommendations".
OutputKind recommendations_output_kind();

/// Collective: the whole tool after parsing. Error (agreed) on a model that
/// does not match the dataset, a bad users file or an output that may not
/// be written; nothing is published then.
void run_recommend(const Comm& comm, const RecommendConfig& config);

}  // namespace dals
