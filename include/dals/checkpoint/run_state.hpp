#pragma once
/// @file run_state.hpp
/// @brief state.json: what a model or checkpoint records beside its factors.
///
/// The factor blocks alone do not say how far a run got, with which options,
/// on which data. state.json does, and for a checkpoint it holds everything
/// a resumed run needs to continue bit-identically: the progress (iterations
/// done, and whether the user half of the next one is done too), the
/// hyper-parameters and seed, the dataset's fingerprint and block ranges, the
/// metrics so far and the history of earlier resumes.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/data/manifest.hpp"
#include "dals/train/config.hpp"

namespace dals {

class Trainer;

/// How far a run got, counted in half-iterations: `iterations` done, plus
/// the user half of the next one when `mid`.
struct Progress {
  int iterations = 0;
  bool mid = false;
  int halves() const { return 2 * iterations + (mid ? 1 : 0); }
  /// "iteration 7" or "iteration 7 and the user half of 8"
  std::string describe() const;
  friend bool operator==(const Progress&, const Progress&) = default;
};

/// What a run carries from one process to the next, beside the factors.
struct RunHistory {
  std::vector<std::string> metrics;  ///< one flat JSON record per finished iteration
  std::string resumes = "[]";        ///< JSON array, one object per resume: from, progress, ranks, overrides
};

/// The checksum of every factor block of a model or checkpoint, per side, by
/// block index (write_factor_block's return value).
using BlockChecksums = PerSide<std::vector<std::uint64_t>>;

/// Writes state.json for the trainer's current state. `format` is
/// "dals-model" or "dals-checkpoint"; `blocks` is recorded, so that a block
/// damaged or copied from another checkpoint is caught on reading.
std::string state_json(const Trainer& trainer, const TrainConfig& config, const RunHistory& history, const char* format,
                       const BlockChecksums& blocks);

/// A state.json read back: what resuming a checkpoint and reading a model need.
struct SavedState {
  std::string format;
  Progress progress;
  std::string hyperparameters;  ///< JSON object, as TrainConfig::hyperparameters_json() wrote it
  int factors = 0;              ///< k, from the hyper-parameters
  bool bias = true;             ///< from the hyper-parameters
  std::string fingerprint;
  std::int64_t users = 0, items = 0;
  double mean = 0;           ///< of the dataset's training ratings
  double rating_spread = 1;  ///< the factors' lambda was lambda times this (--lambda-units spread)
  std::vector<std::int64_t> user_block_firsts, item_block_firsts;
  RunHistory history;
  /// What state.json records of its blocks; empty only for a model written
  /// before blocks were recorded (read_model then checks their arrays alone).
  BlockChecksums blocks;
  /// Users dals-recommend --update-model added (added_users.hpp): how many,
  /// and the checksum of MODEL/added_users.h5; 0 and 0 when none.
  std::int64_t added_users = 0;
  std::uint64_t added_users_checksum = 0;
  /// The degree from which training solved users and items in parts
  /// (heavy_rows.hpp; state.json's heavy_rows_from, null: none, as
  /// INT64_MAX); -1 where a model written before the record has none.
  std::int64_t heavy_users_from = -1, heavy_items_from = -1;
};

/// What a reader of state.json accepts.
enum class StateUse {
  read,        ///< read_model: also a model of dals 0.1, without a checksum
  resume,      ///< --resume PATH: a checksum is required, of any format
  checkpoint,  ///< a checkpoint: format dals-checkpoint, checksum and block checksums
};

/// The one parser of state.json, for models and checkpoints alike: checks
/// the format and the checksum (a checkpoint must have one, and the block
/// checksums; only models of dals 0.1 may lack both, and only for
/// StateUse::read), then reads every field. Error naming `path` if the file
/// is malformed or damaged.
SavedState parse_state(const std::string& text, const std::string& path, StateUse use = StateUse::read);

/// The "format" of DIR/state.json ("dals-model", "dals-checkpoint"), or ""
/// if there is no such file or it is not a JSON object with a format. It
/// only says what a directory is (for --force); parse_state says whether it
/// is sound.
std::string state_format(const std::string& dir);

}  // namespace dals
