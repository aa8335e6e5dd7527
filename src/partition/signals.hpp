#pragma once
// Private to dals-partition: SIGINT and SIGTERM (Ctrl-C, a batch system's
// time limit), caught by partition_dataset's SignalFlag (core/signal_flag.hpp),
// end the run through the ordinary failure path, so the temporary files and
// the half-written OUTPUT.tmp are removed.

namespace dals::part {

/// Throws Error("interrupted by signal N") once a signal has arrived.
void throw_if_interrupted();

}  // namespace dals::part
