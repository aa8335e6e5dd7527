#include "dals/run/preemption.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <ctime>

namespace dals {

StopControl::StopControl(const Comm& comm, const TrainConfig& config, double start, double first_write_estimate)
    : comm_(comm), last_check_(MPI_Wtime()), first_write_estimate_(first_write_estimate) {
  if (!comm.is_root()) return;
  if (config.time_limit > 0) {
    deadline_ = start + config.time_limit;
    deadline_source_ = "--time-limit " + std::to_string(config.time_limit);
  }
  // Slurm's end time is a wall-clock instant; MPI_Wtime is not, so convert
  // through the time left.
  if (const char* env = std::getenv("SLURM_JOB_END_TIME"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long long end_time = std::strtoll(env, &end, 10);
    if (end != nullptr && *end == '\0' && end_time > 0) {
      const double at = MPI_Wtime() + static_cast<double>(end_time - static_cast<long long>(std::time(nullptr)));
      if (deadline_ == 0 || at < deadline_) {
        deadline_ = at;
        deadline_source_ = "SLURM_JOB_END_TIME";
      }
    }
  }
}

std::string StopControl::deadline_text() const {
  if (deadline_ == 0) return "";
  return "stop by " + std::to_string(static_cast<long long>(deadline_ - MPI_Wtime())) + "s from now (" +
         deadline_source_ + ")";
}

bool StopControl::should_stop(double slowest_write) {
  // {signal number seen by any rank, deadline reached}: one small allreduce
  // per half-iteration is all that agreeing costs.
  int votes[2] = {SignalFlag::received(), 0};
  if (comm_.is_root()) {
    const double now = MPI_Wtime();
    slowest_half_ = std::max(slowest_half_, now - last_check_ - excluded_);
    last_check_ = now;
    excluded_ = 0;
    if (deadline_ != 0) {
      // Continuing means one more half-iteration, perhaps a scheduled
      // checkpoint after it, then the checkpoint to stop with: with a 25%
      // margin for noise and a second for the exit.
      const double write = slowest_write > 0 ? slowest_write : first_write_estimate_;
      if (now + 1.25 * (slowest_half_ + 2 * write) + 1.0 > deadline_) votes[1] = 1;
    }
  }
  comm_.allreduce_inplace(std::span<int>(votes, 2), MPI_MAX);
  if (votes[0] != 0)
    reason_ = votes[0] == SIGUSR1 ? "SIGUSR1" : "SIGTERM";
  else if (votes[1] != 0)
    reason_ = "the deadline (" + deadline_source_ + ")";
  return votes[0] != 0 || votes[1] != 0;
}

}  // namespace dals
