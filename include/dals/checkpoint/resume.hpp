#pragma once
/// @file resume.hpp
/// @brief --resume: pick a checkpoint, check it fits this run, load it.

#include <string>
#include <vector>

#include "dals/checkpoint/run_state.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"

namespace dals {

class Trainer;

/// What resuming found.
struct ResumeOutcome {
  bool resumed = false;
  std::string path;   ///< the checkpoint (or model) the run continues from
  Progress progress;  ///< its progress (zero when starting fresh)
  double seconds = 0;
  std::int64_t bytes = 0;            ///< factor data read, all ranks
  std::vector<std::string> skipped;  ///< checkpoints found damaged (--resume auto), newest first
};

/// Collective. Restores `trainer` and `history` as --resume asks:
///  - `auto`: the newest checkpoint in --checkpoint-dir that loads cleanly.
///    An incomplete or damaged one (no COMPLETE, bad state.json, a missing,
///    truncated or checksum-failing block) is skipped with a warning naming
///    it, and the previous one is tried. With none usable, the run starts
///    fresh (a warning says so if any was skipped).
///  - a path: that checkpoint or model directory; if it does not load, the
///    run fails naming the file.
/// Either way the checkpoint must be of the same dataset (fingerprint) and
/// k; the other hyper-parameters must match too unless --resume-override,
/// which records the change in state.json. A checkpoint beyond
/// --iterations is an error. Errors are agreed (AgreedFailure).
ResumeOutcome resume_training(const Comm& comm, const TrainConfig& config, Trainer& trainer, RunHistory& history);

/// Collective, --early-stopping after a resume: reads the checkpoint after
/// `iterations` in --checkpoint-dir (the best iteration, kept from pruning)
/// into the trainer as its best (Trainer::load_best). Errors are agreed,
/// naming the checkpoint.
void load_best_checkpoint(const Comm& comm, const TrainConfig& config, Trainer& trainer, int iterations);

}  // namespace dals
