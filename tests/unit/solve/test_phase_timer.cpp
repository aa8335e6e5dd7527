// PhaseTimer: a scope's seconds land in the total it was given, once.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "dals/solve/phase_timer.hpp"

namespace dals {
namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST(PhaseTimer, AddsTheScopesSecondsOnDestruction) {
  double total = 1.0;
  {
    PhaseTimer timer(total);
    sleep_ms(5);
    EXPECT_EQ(total, 1.0);  // nothing is added before the scope ends
  }
  EXPECT_GE(total, 1.0 + 0.004);
  EXPECT_LT(total, 1.0 + 5.0);
}

TEST(PhaseTimer, StopEndsTheCountOnce) {
  double total = 0, stopped = 0;
  {
    PhaseTimer timer(total);
    timer.stop();
    stopped = total;
    EXPECT_GE(stopped, 0.0);
    sleep_ms(20);
    timer.stop();  // a second stop adds nothing, nor does the destructor
    EXPECT_EQ(total, stopped);
  }
  EXPECT_EQ(total, stopped);
}

TEST(PhaseTimer, SwitchToMovesTheCountToTheNextPhase) {
  double first = 0, second = 0;
  {
    PhaseTimer timer(first);
    sleep_ms(5);
    timer.switch_to(second);
    const double before = first;
    EXPECT_GE(before, 0.004);
    EXPECT_EQ(second, 0.0);
    sleep_ms(5);
    EXPECT_EQ(first, before);
  }
  EXPECT_GE(second, 0.004);
}

}  // namespace
}  // namespace dals
