#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "dals/core/log.hpp"

namespace dals::part {

namespace {

std::string amount(double x, const std::string& unit) {
  char text[64];
  if (unit == "bytes") {
    if (x >= 1e9)
      std::snprintf(text, sizeof text, "%.2f GB", x / 1e9);
    else
      std::snprintf(text, sizeof text, "%.1f MB", x / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.0f %s", x, unit.c_str());
  }
  return text;
}

}  // namespace

void ProgressLine::enable(bool on) {
  on_ = on;
  tty_ = on && isatty(STDERR_FILENO) == 1;
}

void ProgressLine::start(const std::string& phase, double total, const std::string& unit) {
  phase_ = phase;
  unit_ = unit;
  total_ = total;
  start_ = last_print_ = Clock::now();
  printed_ = false;
}

void ProgressLine::update(double done, double items) {
  if (!on_) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (since < (tty_ ? 0.25 : 5.0)) return;
  last_print_ = now;
  print(done, items, false);
}

void ProgressLine::print(double done, double items, bool final_line) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  std::string line = Log::tool() + ": " + phase_;
  char text[160];
  if (total_ > 0) {
    const double fraction = std::min(1.0, done / total_);
    std::snprintf(text, sizeof text, ": %s of %s (%.0f%%)", amount(done, unit_).c_str(), amount(total_, unit_).c_str(),
                  100 * fraction);
    line += text;
    if (items >= 0 && elapsed > 0) {
      std::snprintf(text, sizeof text, ", %.2f M lines/s", items / elapsed / 1e6);
      line += text;
    }
    if (!final_line && fraction > 0.01) {
      std::snprintf(text, sizeof text, ", ETA %.0f s", elapsed * (1 - fraction) / fraction);
      line += text;
    }
  }
  std::snprintf(text, sizeof text, ", %.1f s", elapsed);
  line += text;
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
  printed_ = true;
}

void ProgressLine::finish() {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  seconds_.emplace_back(phase_, elapsed);
  // On a terminal the line is cleared, so the summary starts on a clean
  // line; in a log the periodic lines stay.
  if (tty_ && printed_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace dals::part
