#pragma once
// Private to dals-partition: the progress line and the phase clock.
//
// On a terminal, one line on stderr rewritten in place a few times a
// second; in a log (stderr not a tty), one line every 5 seconds, so a
// batch job's log shows that it moves without drowning in lines. Only rank
// 0 prints: it reports its own share, which the even cut of the input
// makes representative of the others.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace dals::part {

class ProgressLine {
 public:
  /// Printing on (rank 0 without --quiet) or off; the clock runs either way.
  void enable(bool on);
  /// A new phase; `total` of `unit` ("bytes" is shown as MB/GB), 0 if unknown.
  void start(const std::string& phase, double total, const std::string& unit);
  /// Work done in the phase so far, and items (lines, ratings) for a rate.
  void update(double done, double items = -1);
  /// Ends the phase and records its time.
  void finish();
  const std::vector<std::pair<std::string, double>>& phase_seconds() const { return seconds_; }

 private:
  using Clock = std::chrono::steady_clock;
  void print(double done, double items, bool final_line);
  bool on_ = false, tty_ = false, printed_ = false;
  std::string phase_, unit_;
  double total_ = 0;
  Clock::time_point start_, last_print_;
  std::vector<std::pair<std::string, double>> seconds_;
};

}  // namespace dals::part
