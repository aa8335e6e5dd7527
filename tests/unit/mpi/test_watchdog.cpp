// The exchange watchdog on a healthy run: many short watched steps, each far
// below the limit, never end the process, and cost well under a microsecond
// each. Its firing ends the process (MPI_Abort), so cli/exchange_timeout.sh
// tests that.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "dals/mpi/watchdog.hpp"

namespace dals {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(Watchdog, ShortStepsNeverFireAndCostLittle) {
  const ExchangeWatchdog dog(0, 0.2);  // checked every 50 ms
  const auto start = std::chrono::steady_clock::now();
  std::int64_t steps = 0;
  // 0.6 s of back-to-back steps: three limits' worth, each step ~ns long.
  while (seconds_since(start) < 0.6) {
    for (int i = 0; i < 10000; ++i, ++steps) {
      const WatchedStep step("allgather of the user factors", 1, 0);
      const CollectiveWatch inner("MPI_Allgatherv");  // inside a step: leaves it as it is
    }
    const CollectiveWatch alone("MPI_Allreduce");
  }
  const double ns_per_step = seconds_since(start) * 1e9 / static_cast<double>(steps);
  std::printf("[watchdog] %lld steps, %.1f ns per watched step with a nested collective\n",
              static_cast<long long>(steps), ns_per_step);
  EXPECT_LT(ns_per_step, 1000.0);
}

TEST(Watchdog, StepsLongerThanNothingButShorterThanTheLimit) {
  const ExchangeWatchdog dog(0, 0.3);
  for (int i = 0; i < 4; ++i) {
    const WatchedStep step("routed exchange of the item factors", i + 1, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // half the limit, then disarmed
  }
  // Idle, disarmed, for longer than the limit: nothing to fire on.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  SUCCEED();
}

TEST(Watchdog, OffAndOneAtATime) {
  {
    const ExchangeWatchdog off(0, 0);  // no thread: steps watch nothing
    const WatchedStep step("allgather of the item factors", 1, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  { const ExchangeWatchdog first(0, 5); }
  const ExchangeWatchdog again(0, 5);  // the first one's end released its place
  EXPECT_ANY_THROW(ExchangeWatchdog(0, 5));
}

}  // namespace
}  // namespace dals
