#pragma once
// Private to dals-partition: SIGINT and SIGTERM (Ctrl-C, a batch system's
// time limit) end the run through the ordinary failure path, so the
// temporary files and the half-written OUTPUT.tmp are removed.

namespace dals::part {

/// Installs the handlers (they only set a flag); the previous ones come back
/// when the returned guard is destroyed.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// Throws Error("interrupted by signal N") once a signal has arrived.
void throw_if_interrupted();

}  // namespace dals::part
