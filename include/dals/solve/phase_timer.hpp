#pragma once
/// @file phase_timer.hpp
/// @brief A scoped timer that adds the seconds of a scope to a phase's total
/// (the solver's gather / Gram / factor breakdown, row_solver.hpp).
///
/// One clock read when it starts and one when it stops; switch_to() ends one
/// phase and starts the next with a single read, so back-to-back phases cost
/// no more clock reads than hand-written pairs (a read is tens of
/// nanoseconds; a row's solve, microseconds).

#include <chrono>

namespace dals {

class PhaseTimer {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts counting into `total` (seconds).
  explicit PhaseTimer(double& total) : total_(&total), start_(Clock::now()) {}
  /// Adds the time since the start (or the last switch) unless stopped.
  ~PhaseTimer() { stop(); }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

  /// Adds the time so far to the current total; the scope's rest is not counted.
  void stop() {
    if (!total_) return;
    *total_ += seconds_since(Clock::now());
    total_ = nullptr;
  }

  /// Adds the time so far to the current total and counts on into `next`,
  /// from the same clock read.
  void switch_to(double& next) {
    const Clock::time_point now = Clock::now();
    if (total_) *total_ += seconds_since(now);
    total_ = &next;
    start_ = now;
  }

 private:
  double seconds_since(Clock::time_point now) const { return std::chrono::duration<double>(now - start_).count(); }

  double* total_;
  Clock::time_point start_;
};

}  // namespace dals
