#pragma once
// What every mode of dals-recommend (top-K, fold-in, similar items) reads
// and writes alike. Private to src/recommend/.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/data/csr.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/recommend/foldin.hpp"
#include "dals/recommend/recommend.hpp"
#include "dals/solve/factors.hpp"
#include "dals/train/layout.hpp"

namespace dals::recommend_internal {

inline constexpr const char* kFormat = "dals-recommendations";
inline constexpr const char* kManifestName = "recommendations.json";

// What the model says about itself, checked against the dataset.
struct ModelInfo {
  SavedState state;
  bool implicit = false;
};

/// Error unless c.model is a complete model (or checkpoint) of c.data.
ModelInfo read_checked_model(const RecommendConfig& c, const Manifest& m);

// The rows this rank owns: training ratings by user (for the exclusion),
// user factors, raw user ids; and every item factor and raw item id.
// `ratings`: the model's training ratings per row (trained_rows.hpp): the
// rank's own users (by id - own.first_row) and every item.
struct RankInput {
  PerSide<FactorTable> tables;
  CsrBlock train;
  std::vector<std::string> user_ids, item_ids;
  PerSide<std::vector<std::int64_t>> ratings;
};

/// This rank's rows (own = the user blocks it owns), and every item factor.
RankInput read_rank_input(const RecommendConfig& c, const Manifest& m, const SavedState& s, const OwnedRange& own);

/// The same rows for users' top-K lists, held compactly: the user table has
/// only the rank's own rows and `train` is rebased, both indexed by the
/// local id u - own.first_row (train.first_row is 0). Memory: the rank's
/// users and every item, not every user.
RankInput read_rank_input_own_users(const RecommendConfig& c, const Manifest& m, const SavedState& s,
                                    const OwnedRange& own);

/// Reads blocks [first_block, end_block) of one side's factors from c.model
/// into `table` (checked against state.json's block checksums).
void read_factor_blocks(const RecommendConfig& c, const Manifest& m, const SavedState& s, Side side, int first_block,
                        int end_block, FactorTable& table);

/// One raw id per line of `path` (blank lines and a trailing \r ignored),
/// looked up in the dataset `data`: the dense ids found, sorted and without
/// repeats; `lines` and `unknown` count the ids and those not found, and
/// `missing`, where given, gets those ids' texts (in file order).
std::vector<std::int64_t> read_id_file(const std::string& path, const std::string& data, Side side, std::int64_t& lines,
                                       std::int64_t& unknown, std::vector<std::string>* missing = nullptr);

/// "part-00003.tsv" ("part-00003.h5" for format hdf5).
std::string part_name(int rank, const std::string& format);

/// The file extension of a --format: "tsv", "csv" or "h5".
std::string format_extension(const std::string& format);

/// True if the dataset's id maps of `side` hold string ids (block 0's
/// id_type; dals-partition writes one type per side).
bool string_ids(const std::string& data, Side side);

/// --merge (rank 0, after every rank wrote its part): concatenates
/// DIR/PREFIX-00000.EXT .. DIR/PREFIX-{parts-1}.EXT in rank order into
/// DIR/NAME.EXT and removes them. Text is copied a buffer at a time; HDF5
/// parts are read whole (list files: lists_h5.hpp), so the merged file is
/// held in memory once.
void merge_parts(const std::string& dir, const std::string& prefix, int parts, const std::string& format,
                 const std::string& name);

/// Creates `path` and has `fill` write it through the sink it is given;
/// Error naming the path if it cannot be created or written.
void write_part(const std::string& path,
                const std::function<void(const std::function<void(const std::string&)>&)>& fill);

/// What --update-model did with the fold-in users.
struct UpdateCounts {
  std::int64_t updated = 0;        ///< users of the dataset given their fold-in factors
  std::int64_t kept = 0;           ///< users of the dataset or added ones without a known item: factors kept
  std::int64_t added = 0;          ///< new users appended to the model's added users
  std::int64_t added_updated = 0;  ///< added users of the model given their new fold-in factors
  std::int64_t not_added = 0;      ///< new users without a known item: nothing to add
};

/// Collective (update_model.cpp): publishes `model_out` (created by rank 0)
/// as c.model with the rows of the fold-in users that are users of the
/// dataset replaced by their rows of `solved` (this rank's contiguous share
/// of fold.users), and the others added or updated in MODEL/added_users.h5
/// (c.model's added users carried over; added_users.hpp); `state_text` is
/// c.model's state.json (`saved`, parsed), re-sealed with the new block
/// checksums, the added users' record and a "fold_in" record. `in` holds
/// this rank's user rows and every item row, as read_rank_input read them.
UpdateCounts write_updated_model(const Comm& comm, const RecommendConfig& c, StagedDir& model_out, const Manifest& m,
                                 const SavedState& saved, const std::string& state_text, RankInput& in,
                                 const FoldInInput& fold, const FactorTable& solved);

struct ItemFilter;  // item_filter.hpp

/// The modes after run_recommend's checks (the output created, the item
/// filter read): fold-in (run_foldin.cpp) and similar items or users
/// (run_similar.cpp).
void run_fold_in(const Comm& comm, const RecommendConfig& c, StagedDir& out, const Manifest& m, const ModelInfo& model,
                 const ItemFilter& filter);
void run_similar(const Comm& comm, const RecommendConfig& c, StagedDir& out, const Manifest& m, const ModelInfo& model,
                 const ItemFilter& filter);

}  // namespace dals::recommend_internal
