#pragma once
/// @file log.hpp
/// @brief The one logger: the tool's name set once by its start, info and
/// warnings printed by rank 0 only, errors by the rank that reports them.
///
///     Log::info("iter %d  train_rmse %.4f", it, rmse);   // stdout, rank 0
///     Log::warn("%s: skipped: %s", path, why);           // "dals-train: warning: ..."
///     Log::error("%s", message);                          // "dals-train: error: ..."
///
/// What notice, warn and error print is passed through escape_control.
/// Every line is flushed at once: under mpirun and Slurm, output that waits
/// in a buffer is lost when a job is killed, and lines of ranks interleave.

#include <string>
#include <string_view>

namespace dals {

/// TEXT with every byte a terminal could act on escaped: ESC as "\x1b",
/// newline as "\n", other bytes below 0x20, DEL, C1 controls and bytes that
/// are not valid UTF-8 as "\xNN". Valid UTF-8 stays as it is. Messages
/// carry file names, ids and input lines, and one of them could otherwise
/// rewrite the user's terminal or split the one-line error in two.
std::string escape_control(std::string_view text);

class Log {
 public:
  /// Set by the tool's start (mpi/tool_main.hpp) before anything prints.
  static void set_tool(const std::string& name);
  static void set_rank(int rank);
  static const std::string& tool();
  static bool is_root();

  /// A line on stdout, from rank 0.
  static void info(const char* format, ...) __attribute__((format(printf, 1, 2)));
  /// "TOOL: ..." on stderr, from rank 0: how a run ended when that is not
  /// an error (stopped by a signal, with a checkpoint).
  static void notice(const char* format, ...) __attribute__((format(printf, 1, 2)));
  /// "TOOL: warning: ..." on stderr, from rank 0.
  static void warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
  /// "TOOL: error: ..." on stderr, from the calling rank (the agreed failure
  /// has chosen it to speak for all).
  static void error(const char* format, ...) __attribute__((format(printf, 1, 2)));
};

}  // namespace dals
