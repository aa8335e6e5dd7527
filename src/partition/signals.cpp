#include "signals.hpp"

#include <string>

#include "dals/core/error.hpp"
#include "dals/core/signal_flag.hpp"

namespace dals::part {

void throw_if_interrupted() {
  if (const int signal = SignalFlag::received(); signal != 0)
    throw Error("interrupted by signal " + std::to_string(signal));
}

}  // namespace dals::part
