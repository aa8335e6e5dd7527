#pragma once
/// @file signal_flag.hpp
/// @brief The one way dals catches signals: while a SignalFlag lives, the
/// given signals only record their number (async-signal-safe), and the
/// previous handlers come back when it is destroyed.
///
/// Long work polls received() at points where stopping is safe: dals-train
/// at half-iteration boundaries (SIGTERM, SIGUSR1: checkpoint and exit 3),
/// dals-partition between phases (SIGINT, SIGTERM: the ordinary failure
/// path, which removes its temporary files and OUTPUT.tmp).

#include <csignal>
#include <initializer_list>
#include <vector>

namespace dals {

class SignalFlag {
 public:
  /// `restart`: SA_RESTART, so system calls in flight (a checkpoint's
  /// writes) go on instead of failing with EINTR.
  SignalFlag(std::initializer_list<int> signals, bool restart);
  ~SignalFlag();
  SignalFlag(const SignalFlag&) = delete;
  SignalFlag& operator=(const SignalFlag&) = delete;

  /// The last of the signals received since construction, or 0.
  static int received();

 private:
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;
};

}  // namespace dals
