#include "signals.hpp"

#include <csignal>
#include <string>

#include "dals/core/error.hpp"

namespace dals::part {
namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_old_int {
}, g_old_term{};

extern "C" void on_signal(int signal) { g_signal = signal; }

}  // namespace

InterruptGuard::InterruptGuard() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_old_int);
  sigaction(SIGTERM, &action, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

void throw_if_interrupted() {
  if (g_signal != 0) throw Error("interrupted by signal " + std::to_string(static_cast<int>(g_signal)));
}

}  // namespace dals::part
