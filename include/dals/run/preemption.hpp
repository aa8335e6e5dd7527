#pragma once
/// @file preemption.hpp
/// @brief Stopping early, on a signal or before a deadline, all ranks together.
///
/// A batch system ends a job in two ways dals-train can act on: it sends a
/// signal some time before the end (Slurm: `--signal=USR1@SECONDS`; any
/// scheduler: SIGTERM, then SIGKILL a grace period later), and it has a known
/// end time. On SIGTERM or SIGUSR1 the handler only records the signal; the
/// ranks look at it together at the next half-iteration boundary (an
/// allreduce of one int), so a signal that reached a single rank stops all of
/// them at the same point. The deadline (--time-limit, SLURM_JOB_END_TIME) is
/// judged by rank 0 alone, from its own clock, and joins the same allreduce.
/// The run then writes a checkpoint and exits with kExitPreempted.

#include <string>

#include "dals/core/signal_flag.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/train/config.hpp"

namespace dals {

/// Exit code of a run that stopped early and saved a checkpoint to resume from.
constexpr int kExitPreempted = 3;

/// The stop signals (SIGTERM, SIGUSR1) caught while it lives: they only
/// record themselves (core/signal_flag.hpp), with SA_RESTART so that system
/// calls in flight (a checkpoint write) go on.
class StopSignals : public SignalFlag {
 public:
  StopSignals() : SignalFlag({SIGTERM, SIGUSR1}, /*restart=*/true) {}
};

/// Decides, collectively, whether to stop at a half-iteration boundary.
class StopControl {
 public:
  /// `start` is MPI_Wtime() at the start of the run; `first_write_estimate`
  /// stands in for the checkpoint write time until one was measured. Rank 0
  /// resolves the deadline: the earlier of start + --time-limit and
  /// SLURM_JOB_END_TIME (Unix seconds, as Slurm >= 23.02 sets it and
  /// slurm/train.sbatch sets it on older versions).
  StopControl(const Comm& comm, const TrainConfig& config, double start, double first_write_estimate);

  /// Collective, at a half-iteration boundary: true on every rank if any
  /// rank received a stop signal, or if (rank 0 judges) the next
  /// half-iteration plus a checkpoint would not fit before the deadline.
  /// `slowest_write` is the slowest checkpoint write measured so far.
  bool should_stop(double slowest_write);

  /// Time spent in a checkpoint write: not part of a half-iteration's time.
  void exclude(double seconds) { excluded_ += seconds; }

  /// Why the last should_stop() said yes, e.g. "SIGTERM" or "the time limit (--time-limit 60)".
  const std::string& reason() const { return reason_; }

  /// Human-readable deadline ("" if none), for the run header.
  std::string deadline_text() const;

 private:
  const Comm& comm_;
  double deadline_ = 0;  // MPI_Wtime() seconds on rank 0; 0 = none
  std::string deadline_source_;
  double last_check_ = 0;
  double excluded_ = 0;
  double slowest_half_ = 0;
  double first_write_estimate_ = 0;
  std::string reason_;
};

}  // namespace dals
