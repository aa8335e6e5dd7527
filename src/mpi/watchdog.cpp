#include "dals/mpi/watchdog.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "dals/core/error.hpp"
#include "dals/core/log.hpp"

namespace dals {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// DALS_TEST_STALL=exchange:RANK:N: the N-th WatchedStep of rank RANK never
// ends (crash_point.hpp has the other test points). Main thread only.
void stall_point(int rank) {
  static const std::string spec = [] {
    const char* env = std::getenv("DALS_TEST_STALL");
    return std::string(env == nullptr ? "" : env);
  }();
  if (spec.empty()) return;
  static int reached = 0;
  if (spec != "exchange:" + std::to_string(rank) + ":" + std::to_string(++reached)) return;
  for (;;) pause();  // a signal (SIGTERM from the launcher) does not end the stall
}

}  // namespace

std::atomic<ExchangeWatchdog*> ExchangeWatchdog::current_{nullptr};

ExchangeWatchdog::ExchangeWatchdog(int rank, double limit_seconds) : limit_(limit_seconds), rank_(rank) {
  if (limit_ <= 0) return;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) std::snprintf(name, sizeof name, "unknown host");
  host_ = name;
  ExchangeWatchdog* none = nullptr;
  if (!current_.compare_exchange_strong(none, this)) throw Error("internal: a second exchange watchdog");
  thread_ = std::thread([this] { watch(); });
}

ExchangeWatchdog::~ExchangeWatchdog() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  current_.store(nullptr);
}

void ExchangeWatchdog::watch() {
  // Checked a few times per limit: a stall is noticed within limit + period.
  const auto period = std::chrono::duration<double>(std::min(1.0, limit_ / 4));
  const auto limit_ns = static_cast<std::int64_t>(limit_ * 1e9);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    const std::int64_t since = since_.load(std::memory_order_acquire);
    if (since == 0) continue;
    const std::int64_t waited = now_ns() - since;
    if (waited > limit_ns) fire(what_.load(), iteration_.load(), static_cast<double>(waited) * 1e-9);
  }
}

void ExchangeWatchdog::fire(const char* what, int iteration, double waited) {
  const std::string when = iteration > 0 ? "iteration " + std::to_string(iteration) : "before iteration 1";
  std::fprintf(stderr,
               "%s: error (rank %d on %s): %s has not completed in %.0f s (%s; --exchange-timeout %g): a link or a "
               "rank is not responding; ending the job with exit code %d (the last complete checkpoint is intact: "
               "rerun with --resume auto)\n",
               Log::tool().c_str(), rank_, escape_control(host_).c_str(), what, waited, when.c_str(), limit_,
               kExitExchangeTimeout);
  std::fflush(stderr);
  // Should MPI_Abort not end this process (see the header), this thread does.
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(10));
    _exit(kExitExchangeTimeout);
  }).detach();
  MPI_Abort(MPI_COMM_WORLD, kExitExchangeTimeout);
  _exit(kExitExchangeTimeout);
}

WatchedStep::WatchedStep(const char* what, int iteration, int rank) noexcept {
  if (ExchangeWatchdog* dog = ExchangeWatchdog::current_.load(std::memory_order_relaxed)) {
    outer_since_ = dog->since_.load(std::memory_order_relaxed);
    outer_what_ = dog->what_.load(std::memory_order_relaxed);
    dog->since_.store(0, std::memory_order_relaxed);  // not watched while the name changes
    dog->what_.store(what, std::memory_order_relaxed);
    dog->iteration_.store(iteration, std::memory_order_relaxed);
    dog->since_.store(outer_since_ != 0 ? outer_since_ : now_ns(), std::memory_order_release);
  }
  stall_point(rank);
}

WatchedStep::~WatchedStep() {
  if (ExchangeWatchdog* dog = ExchangeWatchdog::current_.load(std::memory_order_relaxed)) {
    dog->since_.store(0, std::memory_order_relaxed);
    dog->what_.store(outer_what_, std::memory_order_relaxed);
    dog->since_.store(outer_since_, std::memory_order_release);
  }
}

CollectiveWatch::CollectiveWatch(const char* call) noexcept {
  ExchangeWatchdog* dog = ExchangeWatchdog::current_.load(std::memory_order_relaxed);
  if (dog == nullptr || dog->since_.load(std::memory_order_relaxed) != 0) return;
  dog_ = dog;
  dog->what_.store(call, std::memory_order_relaxed);
  dog->since_.store(now_ns(), std::memory_order_release);
}

CollectiveWatch::~CollectiveWatch() {
  if (dog_ != nullptr) dog_->since_.store(0, std::memory_order_release);
}

}  // namespace dals
