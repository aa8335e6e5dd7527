#include "dals/core/signal_flag.hpp"

namespace dals {

namespace {
volatile std::sig_atomic_t g_received = 0;
extern "C" void record_signal(int signal) { g_received = signal; }
}  // namespace

SignalFlag::SignalFlag(std::initializer_list<int> signals, bool restart)
    : signals_(signals), previous_(signals.size()) {
  g_received = 0;
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = restart ? SA_RESTART : 0;
  for (std::size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], &action, &previous_[i]);
}

SignalFlag::~SignalFlag() {
  for (std::size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], &previous_[i], nullptr);
}

int SignalFlag::received() { return g_received; }

}  // namespace dals
