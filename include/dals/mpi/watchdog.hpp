#pragma once
/// @file watchdog.hpp
/// @brief The exchange watchdog: a job whose link went dead ends with exit
/// code 4 instead of hanging until the batch system's time limit.
///
/// MPI cannot cancel a collective: a rank blocked in MPI_Allgatherv or
/// MPI_Alltoallw waits for its peers for ever, and the ranks that could
/// still talk cannot agree to stop, since agreeing is itself a collective
/// that needs the dead link. So each rank watches itself: a thread, started
/// by ExchangeWatchdog, wakes a few times per limit and checks whether the
/// main thread has been inside one watched step for longer than the limit:
/// an exchange of factor rows (WatchedStep, named by the trainer) or any
/// collective of Comm and route_rows (CollectiveWatch: the small agreements
/// of an iteration and of a checkpoint's write wait on the link as well).
/// If so it prints one line naming the rank, its host and the step, and ends
/// the job with MPI_Abort(MPI_COMM_WORLD, kExitExchangeTimeout).
///
/// dals initializes MPI_THREAD_FUNNELED, under which the standard allows MPI
/// calls from the main thread only; MPI_Abort from the watchdog is outside
/// it. Open MPI 4.1 carries the abort through PMIx, whose own thread talks to
/// the launcher, without the progress engine the main thread is blocked in:
/// measured here, mpirun ends every rank with code 4 in about a second. In
/// case an MPI does not (or the launcher is behind the dead link), a second
/// thread ends this process with _exit(kExitExchangeTimeout) 10 s later:
/// mpirun and srun --kill-on-bad-exit then end the other ranks themselves.
/// Every rank that waits on the dead link has its own watchdog, so no rank
/// depends on a message crossing it.
///
/// Cost: a watched step is a few relaxed atomic stores and a clock read (the
/// vDSO: tens of ns, against microseconds for the smallest collective); the
/// thread sleeps on a condition variable between checks (at most 1 s apart).
/// Without a watchdog (the limit is 0, or another tool) nothing is watched.
/// The last complete checkpoint is untouched (checkpoints are published by
/// rename), so a requeued job continues with --resume auto.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace dals {

/// The exit code of a job ended by the watchdog (README: Errors and exit codes).
constexpr int kExitExchangeTimeout = 4;

class ExchangeWatchdog {
 public:
  /// Starts watching this rank's steps, each allowed `limit_seconds` (0: no
  /// thread, nothing watched). One at a time per process; main thread only.
  ExchangeWatchdog(int rank, double limit_seconds);
  ExchangeWatchdog(const ExchangeWatchdog&) = delete;
  ExchangeWatchdog& operator=(const ExchangeWatchdog&) = delete;
  /// Stops and joins the thread; never fires after it.
  ~ExchangeWatchdog();

 private:
  friend class WatchedStep;
  friend class CollectiveWatch;
  void watch();
  [[noreturn]] void fire(const char* what, int iteration, double waited);

  static std::atomic<ExchangeWatchdog*> current_;

  double limit_;
  int rank_;
  std::string host_;
  // The step being watched: its start (steady clock, ns; 0 = none) and
  // name; the iteration the last WatchedStep named.
  std::atomic<std::int64_t> since_{0};
  std::atomic<const char*> what_{""};
  std::atomic<int> iteration_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Watches the enclosing scope on the current watchdog, if there is one:
/// `what` names it in the error ("allgather of the item factors"), a string
/// literal, and `iteration` is the one in progress. Nests: an inner step
/// counts from the outer one's start, and its end restores the outer one.
/// Also the test stall point: with DALS_TEST_STALL=exchange:RANK:N in the
/// environment, rank RANK sleeps for ever in its N-th WatchedStep (1-based),
/// inside the watched time, as a rank behind a dead link would.
class WatchedStep {
 public:
  WatchedStep(const char* what, int iteration, int rank) noexcept;
  WatchedStep(const WatchedStep&) = delete;
  WatchedStep& operator=(const WatchedStep&) = delete;
  ~WatchedStep();

 private:
  std::int64_t outer_since_ = 0;
  const char* outer_what_ = "";
};

/// Watches one collective (`call`: "MPI_Allreduce", a literal) where no
/// step is watched already; inside a WatchedStep it leaves that step's name
/// and start. Comm's collectives and route_rows hold one.
class CollectiveWatch {
 public:
  explicit CollectiveWatch(const char* call) noexcept;
  CollectiveWatch(const CollectiveWatch&) = delete;
  CollectiveWatch& operator=(const CollectiveWatch&) = delete;
  ~CollectiveWatch();

 private:
  ExchangeWatchdog* dog_ = nullptr;
};

}  // namespace dals
