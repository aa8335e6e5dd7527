#pragma once
/// @file checkpoint.hpp
/// @brief Checkpoint directories: names, the periodic writer, pruning.
///
///     CKPT/iter-000012/        after 12 iterations
///     CKPT/iter-000012.5/      after 12 iterations and the user half of the
///                              13th (written when a run is stopped between halves)
///         state.json  users/block-*.h5  items/block-*.h5  COMPLETE
///     CKPT/iter-000013.tmp/    being written; renamed into place once COMPLETE
///
/// A checkpoint has the shape of a model (model_io.hpp) and is written by the
/// same code: blocks by their owners, fsync, then state.json and COMPLETE by
/// rank 0, then one rename. Files are per block, not per rank, so any
/// P' <= B can resume what P ranks wrote. One run at a time per directory.

#include <optional>
#include <string>
#include <vector>

#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"

namespace dals {

class Trainer;
struct ResumeOutcome;

/// The training ratings of `trainer`'s own rows on `rank`, as FactorView
/// takes them (views of the trainer's counts).
PerSide<RowCounts> own_training_ratings(const Trainer& trainer, int rank);

/// "iter-000012" or "iter-000012.5".
std::string checkpoint_name(const Progress& progress);

/// The progress a checkpoint directory name stands for; nullopt for any
/// other name (".tmp" directories being written, ".deleting" ones, files).
std::optional<Progress> parse_checkpoint_name(const std::string& name);

struct CheckpointEntry {
  std::string path;
  Progress progress;
};

/// The checkpoint directories under `root`, newest first, complete or not
/// (a missing `root` has none). Error if `root` exists but cannot be listed.
std::vector<CheckpointEntry> list_checkpoints(const std::string& root);

/// Writes a training run's checkpoints into --checkpoint-dir and keeps the
/// newest --keep-checkpoints of them.
class Checkpointer {
 public:
  Checkpointer(const Comm& comm, const TrainConfig& config);

  bool enabled() const { return !config_.checkpoint_dir.empty(); }

  /// Whether the schedule asks for a checkpoint after `iterations_done`
  /// iterations: every --checkpoint-every, and after the last one.
  bool due(int iterations_done) const;

  /// Collective: writes the trainer's current state (a no-op if the last
  /// checkpoint written or resumed from holds this very progress), then
  /// deletes complete checkpoints older than the newest K. A failure on any
  /// rank (disk full, read-only) removes the partial directory and is thrown
  /// as AgreedFailure; existing checkpoints are never touched by a failed
  /// write. Returns the checkpoint's path.
  std::string write(const Trainer& trainer, const RunHistory& history);

  /// What resuming found: the checkpoint resumed from (if it is one of this
  /// directory, it need not be written again) and the ones it skipped as
  /// damaged, which pruning leaves alone and does not count as kept.
  void resumed_from(const ResumeOutcome& resumed);

  /// --early-stopping: the checkpoint after `iterations` (the best so far)
  /// is never pruned, and does not count as one of the newest kept.
  void keep_best(int iterations) { best_ = Progress{iterations, false}; }

  /// The slowest checkpoint write so far, in seconds (0 before the first).
  double slowest_write_seconds() const { return slowest_seconds_; }

 private:
  void prune(const Progress& newest) const;
  bool known_good(const CheckpointEntry& c) const;

  const Comm& comm_;
  const TrainConfig& config_;
  std::optional<Progress> last_;
  std::optional<Progress> resumed_;  ///< the progress the run resumed from
  std::optional<Progress> best_;     ///< early stopping's best, kept whatever its age
  std::vector<Progress> written_;    ///< by this run (and the one it loaded)
  std::vector<std::string> bad_;     ///< checkpoints resuming skipped
  double slowest_seconds_ = 0;
};

}  // namespace dals
