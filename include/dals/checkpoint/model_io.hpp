#pragma once
/// @file model_io.hpp
/// @brief Model (and checkpoint) directories: factor blocks + state.json.
///
///     MODEL/state.json                iteration, hyper-parameters, dataset
///                                     fingerprint and block ranges, metrics
///     MODEL/users/block-00007.h5      factors (rows x k float32), biases (rows),
///                                     training_ratings (rows, int64)
///     MODEL/items/block-00007.h5
///     MODEL/metrics.jsonl             one JSON record per iteration
///     MODEL/COMPLETE                  written last, after every block is on disk
///
/// The directory is built under MODEL.tmp and renamed into place
/// (StagedDir), so a reader sees a complete model or none.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/core/types.hpp"
#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/solve/factors.hpp"
#include "dals/train/layout.hpp"

namespace dals {

/// The block files' per-row count of the training ratings the solves used
/// (the dataset's training ratings less --validation-fraction's): a row
/// with 0 kept its random initial factors.
inline constexpr const char* kTrainingRatings = "training_ratings";

/// Writes rows [first, first + rows) of `table` as one factor block file,
/// with `training_ratings` (one count per row). Returns the block's checksum
/// (of its factors, biases and counts, as read_factor_block computes it),
/// which state.json records.
std::uint64_t write_factor_block(const std::string& path, const FactorTable& table, std::int64_t first,
                                 std::int64_t rows, const std::vector<std::int64_t>& training_ratings);

/// Reads a factor block into rows [first, first + rows) of `table`, checking
/// its id range, rank k, its arrays' checksums and its training_ratings
/// (rows of them, each >= 0) when it has them. Returns the block's checksum.
/// `training_ratings`, if given, is set to the block's counts, or to nullopt
/// for a block written before they existed.
std::uint64_t read_factor_block(const std::string& path, std::int64_t first, std::int64_t rows, FactorTable& table,
                                std::optional<std::vector<std::int64_t>>* training_ratings = nullptr);

/// Error naming `path` unless the block checksum read equals the one
/// state.json recorded (a block of another checkpoint passes its own checks).
void check_block_checksum(const std::string& path, std::uint64_t recorded, std::uint64_t read);

/// "MODEL/users/block-00007.h5"
std::string factor_block_path(const std::string& model_dir, Side side, int block);

/// A model, for StagedDir's --force rule: state.json says "format":
/// "dals-model" (state_format; a damaged model whose state.json still says
/// so may be replaced, a checkpoint or anything else may not).
OutputKind model_output_kind();

/// A checkpoint directory of --checkpoint-dir: state.json says
/// "dals-checkpoint", or the directory holds nothing but a checkpoint's own
/// entries (state.json, COMPLETE, users/, items/): a damaged checkpoint of
/// the same progress, which resuming skipped, is rewritten in place.
OutputKind checkpoint_output_kind();

/// One side's training ratings per row for a run of rows: counts[id - first].
/// A rank holds those of the rows it writes (its own blocks), no more.
struct RowCounts {
  std::int64_t first = 0;
  std::span<const std::int64_t> counts;
};

/// The factors a model or checkpoint directory holds, as the ranks hold
/// them in memory: the manifest's blocks, who owns which, the tables, and
/// the training ratings of the rank's own rows.
struct FactorView {
  const Manifest& manifest;
  const PerSide<SideLayout>& layouts;
  const PerSide<FactorTable>& tables;
  const PerSide<RowCounts>& training_ratings;
};

/// Rank 0: creates users/ and items/ in `dir`, a StagedDir's fresh staging
/// directory. Call inside run_collectively.
void create_factor_subdirs(const std::string& dir);

/// Collective: the one way a model or a checkpoint reaches the disk. Each
/// rank writes the blocks it owns into `out.staging()` (where rank 0 made
/// the sub-directories with create_factor_subdirs) and fsyncs them; then
/// rank 0 writes state.json and COMPLETE, fsyncs, and publishes `out`
/// (StagedDir::publish: an existing destination is replaced only as its
/// --force rule allows). A failure on any rank is agreed (AgreedFailure)
/// before anything is renamed, so the destination is never half-written.
/// `make_state` makes state.json on rank 0 from every block's checksum
/// (gathered from their writers). Returns the bytes of factor data this
/// rank wrote.
std::int64_t publish_factor_dir(const Comm& comm, StagedDir& out, const FactorView& factors,
                                const std::function<std::string(const BlockChecksums&)>& make_state);

/// Reads, from a model or checkpoint directory, the factor blocks that
/// `rank` owns on both sides into its rows of `tables` (checking id ranges,
/// k, the arrays' checksums and each block's checksum against `recorded`,
/// what state.json holds). Error naming the file on any problem. Returns
/// the bytes of factor data read.
std::int64_t read_owned_blocks(const std::string& dir, const Manifest& manifest, const PerSide<SideLayout>& layouts,
                               int rank, PerSide<FactorTable>& tables, const BlockChecksums& recorded);

/// A model read back whole (for tools and tests; one process).
struct Model {
  std::string state_json;
  double mean = 0;
  bool bias = true;
  PerSide<FactorTable> tables;
  /// Every row's training ratings, from the blocks; nullopt for a side
  /// whose blocks predate them (some block without the array).
  PerSide<std::optional<std::vector<std::int64_t>>> training_ratings;
  /// The users fold-in added (added_users.hpp; none for most models).
  AddedUsers added;
};

/// Reads MODEL/state.json, every factor block and the added users (of
/// either id type); Error naming the file on any problem (missing COMPLETE,
/// bad checksum, wrong shape).
Model read_model(const std::string& model_dir);

}  // namespace dals
