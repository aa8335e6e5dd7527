#include "dals/crash_point.hpp"

#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace dals {

void crash_point(const char* point, int rank) {
  static const std::string spec = [] {
    const char* env = std::getenv("DALS_TEST_CRASH");
    return std::string(env == nullptr ? "" : env);
  }();
  if (spec.empty()) return;
  static std::mutex mutex;
  static std::map<std::string, int> reached;
  std::lock_guard<std::mutex> lock(mutex);
  const int count = ++reached[point];
  if (spec == std::string(point) + ":" + std::to_string(rank) + ":" + std::to_string(count)) {
    // SIGKILL, not abort(): no handler, no flush, no MPI clean-up, like a dead node.
    std::raise(SIGKILL);
  }
}

}  // namespace dals
