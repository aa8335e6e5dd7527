#include "dals/checkpoint/crash_point.hpp"

#include <csignal>
#include <cstdio>
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

void signal_point(const char* point, int rank) {
  static const std::string spec = [] {
    const char* env = std::getenv("DALS_TEST_SIGNAL");
    return std::string(env == nullptr ? "" : env);
  }();
  if (spec.empty()) return;
  static std::map<std::string, int> reached;  // called by the main thread only
  const int count = ++reached[point];
  if (spec == std::string(point) + ":" + std::to_string(rank) + ":" + std::to_string(count)) std::raise(SIGTERM);
}

void announce_ready(int rank) {
  const char* prefix = std::getenv("DALS_TEST_READY");
  if (prefix == nullptr || *prefix == '\0') return;
  const std::string path = std::string(prefix) + ".rank" + std::to_string(rank) + ".ready";
  if (std::FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
}

}  // namespace dals
