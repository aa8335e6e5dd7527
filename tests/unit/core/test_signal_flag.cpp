#include <gtest/gtest.h>

#include <csignal>

#include "dals/core/signal_flag.hpp"

namespace dals {
namespace {

volatile std::sig_atomic_t g_before = 0;
extern "C" void before_handler(int signal) { g_before = signal; }

TEST(SignalFlag, RecordsItsSignalsAndGivesTheOldHandlersBack) {
  struct sigaction old_usr1 {
  }, old_usr2{}, mine{};
  mine.sa_handler = before_handler;
  sigemptyset(&mine.sa_mask);
  sigaction(SIGUSR1, &mine, &old_usr1);
  sigaction(SIGUSR2, &mine, &old_usr2);
  {
    SignalFlag flag({SIGUSR1, SIGUSR2}, /*restart=*/true);
    EXPECT_EQ(SignalFlag::received(), 0);
    std::raise(SIGUSR2);
    EXPECT_EQ(SignalFlag::received(), SIGUSR2);
    std::raise(SIGUSR1);
    EXPECT_EQ(SignalFlag::received(), SIGUSR1);  // the last one
    EXPECT_EQ(g_before, 0) << "the earlier handler ran while the flag was installed";
  }
  std::raise(SIGUSR1);
  EXPECT_EQ(g_before, SIGUSR1) << "the earlier handler did not come back";
  {
    SignalFlag again({SIGUSR1}, /*restart=*/false);
    EXPECT_EQ(SignalFlag::received(), 0) << "a new flag starts clear";
  }
  sigaction(SIGUSR1, &old_usr1, nullptr);
  sigaction(SIGUSR2, &old_usr2, nullptr);
}

}  // namespace
}  // namespace dals
